"""train.py as users run it: multiruns, an Optuna sweep, CPU DDP, a failing run (subprocesses)."""

import math
import os
import subprocess
import sys
from pathlib import Path

import optuna
import yaml

from tests.wandb_reader import config, history, read_records, run_files

ROOT = Path(__file__).resolve().parents[1]
TINY = [
    "data=synthetic",
    "data.num_items=32",
    "data.batch_size=8",
    "trainer.max_epochs=1",
    "callbacks.step_budget.min_steps=0",  # one epoch, not the recipe budget
    "trainer.log_every_n_steps=1",
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
    "test=false",
]


def run_train(tmp_path: Path, *overrides: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "SLURM_"))}
    env["PYTHONPATH"] = str(ROOT / "src")
    flags = [o for o in overrides if o.startswith("-")]  # argparse wants them first
    overrides = [*TINY, f"paths.log_dir={tmp_path}", *(o for o in overrides if o not in flags)]
    swept = any(o.startswith("model=") and "," in o for o in overrides)
    if "hparams_search=optuna" not in overrides and not swept:  # (a sweep composes its base
        # config, the default CRDNN, with every non-swept override: leave the size default)
        chosen = any(o.startswith("model=") for o in overrides)  # else the default CRDNN
        overrides.append("model.hidden_size=8" if chosen else "model.rnn.hidden_size=8")
    command = [sys.executable, "train.py", *flags, *overrides]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def run_record(run_file: Path):
    return next(r.run for r in read_records(run_file) if r.WhichOneof("record_type") == "run")


def test_multirun_jobs_get_their_own_directory_and_wandb_run(tmp_path: Path) -> None:
    result = run_train(tmp_path, "model=rnn,gru", "trainer.accelerator=cpu", "--multirun")
    assert result.returncode == 0, result.stderr[-3000:]
    (sweep,) = (tmp_path / "train" / "multiruns").iterdir()
    jobs = sorted(p.name for p in sweep.iterdir() if p.is_dir())
    assert jobs == ["0", "1"]
    for job, model in zip(jobs, ["rnn", "gru"], strict=True):
        (run_file,) = run_files(sweep / job)  # one W&B run per job, in its own directory
        run = run_record(run_file)
        assert run.display_name == f"{model}-none-default"
        assert run.run_group == "many_to_one-synthetic"
        assert f"model:{model}" in run.tags and "regularizer:none" in run.tags
        assert config(run_file)["model"]["cell"] == model  # the resolved config is logged
        assert any("grad_norm/total" in row for row in history(run_file))
    assert (result.stdout + result.stderr).count("W&B: offline run under") == 2


def test_optuna_sweep_reports_the_best_value(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path}/optuna.db"
    result = run_train(
        tmp_path,
        "hparams_search=optuna",
        "hydra.sweeper.n_trials=2",
        f"hydra.sweeper.storage={storage}",
        "trainer.accelerator=cpu",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    study = optuna.load_study(study_name="seqlab", storage=storage)  # the study persists
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    (sweep,) = (tmp_path / "train" / "multiruns").iterdir()
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["0", "1"]
    found = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert set(found["best_params"]) == {
        "optimizer.lr",
        "model.rnn.hidden_size",
        "regularizer.dropout.p",
    }
    trials = [
        yaml.safe_load((sweep / job / ".hydra" / "config.yaml").read_text()) for job in ("0", "1")
    ]
    assert trials[0]["optimizer"]["lr"] != trials[1]["optimizer"]["lr"]
    assert found["best_value"] >= 0.0  # val/loss of the best checkpoint, minimised
    assert f"Best value: {found['best_value']}" in result.stdout + result.stderr


def test_two_process_cpu_ddp_logs_gradient_norms_once(tmp_path: Path) -> None:
    result = run_train(tmp_path, "trainer=ddp_cpu")
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "Starting with 2 processes" in output
    assert output.count("W&B: offline run under") == 1
    assert "sync_dist=True" not in output, "epoch metrics are gathered over ranks already"
    (run_file,) = run_files(tmp_path)  # rank 1 wrote no run of its own
    steps = [row["trainer/global_step"] for row in history(run_file) if "grad_norm/total" in row]
    assert steps and steps == list(range(len(steps))), "every optimizer step logged once"
    totals = [row["grad_norm/total"] for row in history(run_file) if "grad_norm/total" in row]
    assert all(math.isfinite(v) and v > 0 for v in totals)


def test_a_failing_run_exits_non_zero_and_finishes_its_wandb_run(tmp_path: Path) -> None:
    # refused when the optimizer is built, i.e. after the W&B run started
    bad = ["scheduler=warmup_cosine", "scheduler.warmup_fraction=2.0"]
    result = run_train(tmp_path, "trainer.accelerator=cpu", *bad)
    assert result.returncode != 0
    assert "scheduler.warmup_fraction must be in" in result.stderr
    (run_file,) = run_files(tmp_path)
    exits = [r.exit for r in read_records(run_file) if r.WhichOneof("record_type") == "exit"]
    assert [e.exit_code for e in exits] == [1]


def test_slurm_sweep_names_the_run_directory_by_the_job_id(tmp_path: Path) -> None:
    """hydra=slurm end to end, with submitit's local executor standing in for SLURM."""
    result = run_train(
        tmp_path, "hydra=slurm", "hydra/launcher=submitit_local", "trainer.accelerator=cpu", "-m"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    slurm = tmp_path / "train" / "slurm"
    (job_dir,) = [p for p in slurm.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert (slurm / ".submitit" / job_dir.name).is_dir()  # named by submitit's job id
    assert (job_dir / "checkpoints" / "last.ckpt").is_file()
