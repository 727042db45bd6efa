"""The many-to-many experiments compose and run end to end (a few tiny batches)."""

import math
from pathlib import Path

import pytest

from seqlab.train import train
from tests.conftest import compose_config

TINY_RUN = [
    "model=lstm",
    "model.hidden_size=8",
    "callbacks.step_budget.min_steps=0",
    "logger=none",
    "trainer.accelerator=cpu",
    "trainer.max_epochs=1",
    "callbacks.step_budget.min_steps=0",  # one epoch, not the recipe budget
    "trainer.limit_train_batches=2",
    "trainer.limit_val_batches=2",
    "trainer.limit_test_batches=2",
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
]


def test_forecast_experiment_logs_the_baseline(tmp_path: Path) -> None:
    metrics = train(
        compose_config(["experiment=forecast", *TINY_RUN, f"paths.output_dir={tmp_path}"])
    )
    assert metrics["test/mse_naive"] > 0
    ratio = metrics["test/mse"] / metrics["test/mse_naive"]
    assert metrics["test/mse_ratio"] == pytest.approx(ratio, rel=1e-4)


def test_cmudict_lm_experiment_reports_perplexity(tmp_path: Path) -> None:
    overrides = ["experiment=cmudict_lm", "data.max_words=2000", "task.heads.main.reduction=sum"]
    metrics = train(compose_config([*overrides, *TINY_RUN, f"paths.output_dir={tmp_path}"]))
    assert metrics["test/ppl"] == pytest.approx(math.exp(metrics["test/ce"]), rel=1e-4)
    perplexity = metrics["test/ppl"]
    assert perplexity > 1.0 and perplexity < 40  # at most about the vocabulary size after 2 steps
