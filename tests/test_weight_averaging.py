"""callbacks=[default,ema], the documented weight-averaging option, beside the default callbacks."""

import math
from pathlib import Path

import torch

from seqlab.train import train


def test_ema_option_trains_and_checkpoints_the_averaged_weights(
    tiny_config, tmp_path: Path
) -> None:
    cfg = tiny_config("callbacks=[default,ema]", "logger=csv", "trainer.max_epochs=2")
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
