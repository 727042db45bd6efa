"""Evaluate a checkpoint on the test split with the config it was trained with."""

from omegaconf import DictConfig, OmegaConf

from seqlab.build import build_datamodule, build_loggers, build_task, build_trainer
from seqlab.callbacks.config_snapshot import CHECKPOINT_KEY
from seqlab.checkpoints import read_checkpoint, use_atomic_checkpoints
from seqlab.train import report_test_metrics


def training_config(ckpt_path: str) -> DictConfig:
    """The resolved config stored in a seqlab checkpoint (checked: see `read_checkpoint`)."""
    return OmegaConf.create(read_checkpoint(ckpt_path)[CHECKPOINT_KEY])


def evaluate(cfg: DictConfig) -> dict[str, float]:
    """Rebuild data and task from the checkpoint's config, then test with its weights."""
    trained = training_config(cfg.ckpt_path)
    datamodule = build_datamodule(trained)
    task = build_task(trained, datamodule)
    trainer = build_trainer(cfg, callbacks=[], loggers=build_loggers(cfg))
    use_atomic_checkpoints(trainer)
    trainer.test(task, datamodule=datamodule, ckpt_path=cfg.ckpt_path)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    report_test_metrics(metrics, cfg.ckpt_path)
    return metrics


def main(cfg: DictConfig) -> None:
    """`python eval.py`, once `seqlab.cli` has composed and checked conf/eval.yaml."""
    evaluate(cfg)
