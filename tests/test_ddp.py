"""Two CPU processes (gloo) against one process fed the same global batches."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ddp_probe import run

ROOT = Path(__file__).resolve().parents[1]
COMMON = [
    "data=synthetic",
    "data.num_items=64",
    "data.batching=sorted",
    "model=lstm",
    "model.hidden_size=8",
    "logger=none",
    "callbacks=none",
    "ensemble=none",  # one model: the batches below are those of one training set
    "trainer.max_epochs=2",
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
    "trainer.num_sanity_val_steps=0",
]
TOLERANCE = 1e-4  # float32 all-reduce of two half-batch gradients vs one full-batch gradient


def test_two_processes_share_the_data_and_match_one_process(tmp_path: Path) -> None:
    ddp_dir, single_dir = tmp_path / "ddp", tmp_path / "single"
    ddp_dir.mkdir(), single_dir.mkdir()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}"}
    command = [sys.executable, "tests/ddp_probe.py", str(ddp_dir), *COMMON, "trainer=ddp_cpu"]
    command.append("data.batch_size=8")
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    single = run(single_dir, [*COMMON, "trainer=cpu", "data.batch_size=16"])

    ranks = [json.loads((ddp_dir / f"batches_rank{r}.json").read_text()) for r in (0, 1)]
    (one,) = [json.loads((single_dir / "batches_rank0.json").read_text())]
    for epoch in ("0", "1"):
        steps = [ranks[0][epoch], ranks[1][epoch]]
        assert len(steps[0]) == len(steps[1]) == len(one[epoch])
        seen = [i for rank in steps for batch in rank for i in batch]
        assert sorted(seen) == list(range(64)), "ranks must be disjoint and cover the epoch"
        for a, b, whole in zip(*steps, one[epoch], strict=True):
            assert sorted(a + b) == sorted(whole), "each step's global batch is the same"

    metrics = json.loads((ddp_dir / "metrics_rank0.json").read_text())
    assert metrics["test/acc"] == pytest.approx(single["test/acc"], abs=1e-6)
    for key in ("test/loss", "val/loss"):
        assert metrics[key] == pytest.approx(single[key], abs=TOLERANCE)
