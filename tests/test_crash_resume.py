"""Crashes lose nothing: a run killed (SIGKILL) between steps, between epochs and during a
checkpoint write, stopped by SIGTERM, and left with a truncated last.ckpt, resumes to the
uninterrupted run's weights and test metrics, bit for bit (CPU, subprocesses as users run)."""

import csv
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
# 32 items in batches of 8: 5 steps per epoch (bucketing), 20 in all; last.ckpt every 3 steps
# and at every epoch end.
RUN = [
    "data=synthetic",
    "data.num_items=32",
    "data.batch_size=8",
    "model=lstm",
    "model.hidden_size=8",
    "regularizer=dropout",  # its masks must be the same draws after a resume
    "callbacks.step_budget.min_steps=0",
    "ensemble=none",  # one model on the 32 items the step counts above assume
    "scheduler=plateau",  # an epoch schedule: the lr monitor logs once per epoch
    "logger=csv",
    "trainer.max_epochs=4",
    "trainer.accelerator=cpu",
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
    "callbacks.last_checkpoint.every_n_train_steps=3",
    "callbacks.last_checkpoint.min_interval_s=0",  # every epoch end saves
]


def run(run_dir: Path, *crash: str) -> subprocess.CompletedProcess:
    """train.py (or tests/crash_train.py at POINT, N) on `run_dir`, with the default callbacks."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "SLURM_"))}
    env |= {"PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}", "OMP_NUM_THREADS": "1"}
    if crash:
        env["CRASH_AT"] = ":".join(crash)
    script = ["tests/crash_train.py"] if crash else ["train.py"]
    command = [sys.executable, *script, *RUN, f"hydra.run.dir={run_dir}"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def last_step(run_dir: Path) -> int:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)["global_step"]


def test_killed_runs_resume_to_the_uninterrupted_result(tmp_path: Path) -> None:
    reference, crashed = tmp_path / "reference", tmp_path / "crashed"
    assert run(reference).returncode == 0

    assert run(crashed, "step", "7").returncode == -signal.SIGKILL
    assert last_step(crashed) == 6, "the step checkpoint before the kill"
    assert run(crashed, "epoch", "2").returncode == -signal.SIGKILL
    assert last_step(crashed) == 10, "the end of epoch 1, although val/acc did not improve"
    stopped = run(crashed, "sigterm", "13")
    assert stopped.returncode == 128 + signal.SIGTERM
    assert "Stopped by a signal after step 13" in stopped.stderr
    assert last_step(crashed) == 13
    assert run(crashed, "write", "1").returncode == -signal.SIGKILL
    (partial,) = (crashed / "checkpoints").glob(".last.ckpt.*.partial")
    assert last_step(crashed) == 13, "the interrupted write left the previous file whole"
    last = crashed / "checkpoints" / "last.ckpt"
    os.truncate(last, last.stat().st_size // 2)  # what a non-atomic write would leave

    finished = run(crashed)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert f"skipping {last}: truncated or corrupt" in finished.stderr
    said = finished.stdout + finished.stderr  # Hydra's job logging prints info to stdout
    assert re.search(r"resuming from \S+/epoch_\d{3}\.ckpt", said)  # the intact best one
    assert not partial.exists()

    ours, theirs = (json.loads((d / "finished.json").read_text()) for d in (crashed, reference))
    assert ours["metrics"] == theirs["metrics"] and ours["global_step"] == 20
    weights = [
        torch.load(d / "checkpoints/last.ckpt", weights_only=False)["state_dict"]
        for d in (crashed, reference)
    ]
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    rows = [metric_rows(d) for d in (crashed, reference)]
    assert rows[0] == rows[1], "one CSV version; rows of killed processes kept, values equal"


def metric_rows(run_dir: Path) -> set[frozenset]:
    """The rows of the run's only CSV version, as sets of their (column, value) pairs (empty
    cells left out: a resumed file may have gained a column the other lists later)."""
    (path,) = run_dir.glob("csv/*/metrics.csv")
    with path.open(newline="") as file:
        return {frozenset((k, v) for k, v in row.items() if v) for row in csv.DictReader(file)}
