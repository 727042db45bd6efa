"""Training entry point: compose -> instantiate -> fit -> test, in a straight line."""

from pathlib import Path

import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.utilities import rank_zero_info

from seqlab.build import build_callbacks, build_datamodule, build_loggers, build_task, build_trainer
from seqlab.callbacks.config_snapshot import ConfigSnapshot
from seqlab.config import CONFIG_DIR, register_schemas
from seqlab.loggers import finish_wandb

__all__ = ["CONFIG_DIR", "main", "train"]
register_schemas()


def train(cfg: DictConfig) -> dict[str, float]:
    """Fit and test the configured task; returns the final metrics (for sweeps and tests)."""
    pl.seed_everything(cfg.seed, workers=True)
    datamodule = build_datamodule(cfg)
    task = build_task(cfg, datamodule)
    loggers = build_loggers(cfg)
    callbacks = [*build_callbacks(cfg, loggers), ConfigSnapshot(cfg)]
    trainer = build_trainer(cfg, callbacks, loggers)
    for logger in loggers:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))

    if cfg.train:
        trainer.fit(task, datamodule=datamodule, ckpt_path=resume_checkpoint(cfg))
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    if cfg.test:
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        if not cfg.train and cfg.ckpt_path:
            best = cfg.ckpt_path
        trainer.test(task, datamodule=datamodule, ckpt_path=best or None)
        metrics.update({k: float(v) for k, v in trainer.callback_metrics.items()})
        report_test_metrics(metrics, best or "last weights")
    return metrics


def resume_checkpoint(cfg: DictConfig) -> str | None:
    """`ckpt_path`, else with `auto_resume` the newest checkpoint already in the run directory.

    A requeued SLURM job restarts in the same run directory (named by the job id), so it
    continues from Lightning's pre-emption checkpoint (`hpc_ckpt_<n>.ckpt`) or `last.ckpt`.
    """
    if cfg.ckpt_path or not cfg.auto_resume:
        return cfg.ckpt_path
    run_dir = Path(cfg.paths.output_dir)
    candidates = [*run_dir.glob("hpc_ckpt_*.ckpt"), run_dir / "checkpoints" / "last.ckpt"]
    found = [p for p in candidates if p.is_file()]
    if not found:
        return None
    newest = max(found, key=lambda p: p.stat().st_mtime)
    rank_zero_info(f"Resuming from {newest} (auto_resume: the run directory has a checkpoint)")
    return str(newest)


def report_test_metrics(metrics: dict[str, float], weights: str) -> None:
    """Print the test metrics on one line, naming the weights they came from."""
    tested = ", ".join(f"{k}={v:.4f}" for k, v in sorted(metrics.items()) if k.startswith("test/"))
    rank_zero_info(f"Test ({weights}): {tested}")


def main(cfg: DictConfig) -> float | None:
    """Train, returning the monitored metric (for sweeps); each job ends its own W&B run.
    `seqlab.cli.train` calls it once Hydra has composed and checked the config."""
    failed = True
    try:
        metrics = train(cfg)
        failed = False
    finally:
        finish_wandb(failed)
    return metrics.get(cfg.task.monitor)
