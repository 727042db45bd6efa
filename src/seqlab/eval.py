"""Evaluate a checkpoint on the test split with the config it was trained with."""

from pathlib import Path

import hydra
import torch
from omegaconf import DictConfig, OmegaConf

from seqlab.build import build_datamodule, build_loggers, build_task, build_trainer
from seqlab.callbacks.config_snapshot import CHECKPOINT_KEY
from seqlab.train import CONFIG_DIR, report_test_metrics


def training_config(ckpt_path: str) -> DictConfig:
    """The resolved config stored in a seqlab checkpoint."""
    path = Path(ckpt_path)
    if not path.is_file():
        raise FileNotFoundError(f"ckpt_path={ckpt_path!r}: no such checkpoint file")
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    if CHECKPOINT_KEY not in checkpoint:
        raise ValueError(f"ckpt_path={ckpt_path!r} holds no '{CHECKPOINT_KEY}': not from seqlab")
    return OmegaConf.create(checkpoint[CHECKPOINT_KEY])


def evaluate(cfg: DictConfig) -> dict[str, float]:
    """Rebuild data and task from the checkpoint's config, then test with its weights."""
    trained = training_config(cfg.ckpt_path)
    datamodule = build_datamodule(trained)
    task = build_task(trained, datamodule)
    trainer = build_trainer(cfg, callbacks=[], loggers=build_loggers(cfg))
    trainer.test(task, datamodule=datamodule, ckpt_path=cfg.ckpt_path)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    report_test_metrics(metrics, cfg.ckpt_path)
    return metrics


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="eval")
def main(cfg: DictConfig) -> None:
    evaluate(cfg)
