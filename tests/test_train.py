"""End to end: train a step, evaluate a checkpoint, run train.py as a user would."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from seqlab.eval import evaluate
from seqlab.train import train
from tests.conftest import compose_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "overrides", [[], ["model=lstm", "regularizer=dropout"], ["model=gru"], ["model=rnn"]]
)
def test_trains_a_step(tiny_config, overrides: list[str]) -> None:
    metrics = train(tiny_config(*overrides, "trainer.limit_train_batches=2", "test=false"))
    assert metrics["train/loss"] > 0


def test_eval_reproduces_the_test_metric(tiny_config, tmp_path: Path) -> None:
    trained = train(tiny_config("trainer.max_epochs=2"))
    ckpt = next((tmp_path / "checkpoints").glob("epoch_*.ckpt"))
    eval_cfg = compose_config(
        [
            f"ckpt_path={ckpt}",
            f"paths.output_dir={tmp_path}",
            "trainer.accelerator=cpu",
            "trainer.enable_progress_bar=false",
        ],
        config_name="eval",
    )
    evaluated = evaluate(eval_cfg)
    assert evaluated["test/acc"] == pytest.approx(trained["test/acc"], abs=1e-6)
    assert evaluated["test/loss"] == pytest.approx(trained["test/loss"], abs=1e-6)


def test_eval_names_a_missing_checkpoint(tmp_path: Path) -> None:
    cfg = compose_config([f"ckpt_path={tmp_path}/nope.ckpt"], config_name="eval")
    with pytest.raises(FileNotFoundError, match="nope.ckpt"):
        evaluate(cfg)


def test_train_script_writes_its_run_directory(tmp_path: Path) -> None:
    env = {**os.environ, "WANDB_MODE": "offline"}
    command = [
        sys.executable,
        "train.py",
        "data=synthetic",
        "data.num_items=32",
        "model=lstm",
        "model.hidden_size=8",
        "logger=csv",
        "trainer.max_epochs=1",
        "callbacks.step_budget.min_steps=0",
        "trainer.accelerator=cpu",
        f"paths.log_dir={tmp_path}",
    ]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    (run_dir,) = (tmp_path / "train" / "runs").iterdir()
    assert (run_dir / ".hydra" / "config.yaml").is_file()
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert list((run_dir / "csv").rglob("metrics.csv"))
    assert "test/acc" in result.stdout + result.stderr
