"""Shared test helpers: compose configs the way train.py does, offline and tiny."""

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from seqlab.config import register_schemas
from seqlab.train import CONFIG_DIR

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")

TINY = [
    "data=synthetic",
    "data.num_items=32",
    "data.batch_size=8",
    "logger=none",
    "trainer.accelerator=cpu",
    "trainer.max_epochs=1",
    "callbacks.step_budget.min_steps=0",  # tests train one epoch, not the recipe budget
    "ensemble=none",  # one model, not many_to_one's K folds: ensembles are tested where they are
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
    "trainer.num_sanity_val_steps=0",
]


# Tiny sizes per model option; options without an entry have a top-level `hidden_size`.
TINY_MODEL = {
    "crdnn": ["model.conv_channels=[4,4,4]", "model.rnn.hidden_size=8", "model.dnn_sizes=[8]"],
}


def tiny_model(overrides: tuple[str, ...]) -> list[str]:
    """The tiny-size overrides of the model that `overrides` selects (lstm by default)."""
    chosen = [o.split("=", 1)[1] for o in overrides if o.startswith("model=")]
    return TINY_MODEL.get(chosen[-1] if chosen else "lstm", ["model.hidden_size=8"])


def compose_config(overrides: list[str], config_name: str = "train") -> DictConfig:
    register_schemas()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose(config_name=config_name, overrides=overrides)


def evaluate_best(run_dir: Path) -> dict[str, float]:
    """eval.py's metrics for the best checkpoint of the run in `run_dir`, on the CPU."""
    from seqlab.eval import evaluate

    ckpt = next((run_dir / "checkpoints").glob("epoch_*.ckpt"))
    overrides = [f"ckpt_path={ckpt}", f"paths.output_dir={run_dir}", "trainer.accelerator=cpu"]
    return evaluate(compose_config(overrides, config_name="eval"))


@pytest.fixture
def tiny_config(tmp_path: Path) -> Callable[..., DictConfig]:
    """Compose the train config on tiny synthetic data, writing under `tmp_path`; the model
    is the LSTM the tests were written for unless an override picks another."""

    def make(*overrides: str) -> DictConfig:
        """(`callbacks=none` has no step budget to switch off.)"""
        chosen = [] if any(o.startswith("model=") for o in overrides) else ["model=lstm"]
        base = [o for o in TINY if "callbacks=none" not in overrides or "step_budget" not in o]
        tiny = [*base, *chosen, *tiny_model(overrides), f"paths.output_dir={tmp_path}"]
        return compose_config([*tiny, *overrides])

    return make
