"""callbacks=[default,ema], the documented weight-averaging option, beside the default callbacks."""

import math
from pathlib import Path

import torch

from seqlab.train import train
from tests.conftest import compose_config


def test_ema_option_trains_and_checkpoints_the_averaged_weights(tmp_path: Path) -> None:
    cfg = compose_config(
        [
            "data=synthetic",
            "data.num_items=32",
            "data.batch_size=8",
            "model=lstm",
            "model.hidden_size=8",
            "callbacks=[default,ema]",
            "logger=csv",
            "trainer.accelerator=cpu",
            "trainer.max_epochs=2",
            "callbacks.step_budget.min_steps=0",
            "trainer.enable_progress_bar=false",
            "trainer.enable_model_summary=false",
            f"paths.output_dir={tmp_path}",
        ]
    )
    metrics = train(cfg)
    assert math.isfinite(metrics["test/loss"])
    assert list((tmp_path / "csv").glob("version_*/metrics.csv"))
    best = sorted((tmp_path / "checkpoints").glob("epoch_*.ckpt"))  # saved mid-fit, tested
    assert best
    checkpoint = torch.load(best[-1], weights_only=False)
    averaged, raw = checkpoint["state_dict"], checkpoint["current_model_state"]
    assert averaged.keys() == raw.keys()
    changed = [k for k in averaged if not torch.equal(averaged[k], raw[k])]
    assert changed, "the checkpoint must hold the average, not the last step's weights"
