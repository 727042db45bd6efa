"""Training entry point: compose -> instantiate -> fit -> test, in a straight line."""

import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.utilities import rank_zero_info
from pytorch_lightning.utilities.exceptions import SIGTERMException

from seqlab.build import build_callbacks, build_datamodule, build_loggers, build_task, build_trainer
from seqlab.callbacks.config_snapshot import ConfigSnapshot
from seqlab.callbacks.interrupt import StopOnSignal
from seqlab.checkpoints import use_atomic_checkpoints
from seqlab.config import CONFIG_DIR, register_schemas
from seqlab.finished import finished_metrics, mark_finished
from seqlab.loggers import finish_wandb
from seqlab.resume import resume_checkpoint

OBJECTIVE = "objective"  # metrics key of the value a sweep optimises
__all__ = ["CONFIG_DIR", "main", "train"]
register_schemas()


def train(cfg: DictConfig) -> dict[str, float]:
    """Fit and test the configured task; returns the final metrics (for sweeps and tests).

    A finished run directory only reports its metrics. SIGTERM or Ctrl-C exits with status
    128 + signal number, during fit once `last.ckpt` is saved.
    """
    finished = finished_metrics(cfg)
    if finished is not None:
        return finished
    pl.seed_everything(cfg.seed, workers=True)
    datamodule = build_datamodule(cfg)
    task = build_task(cfg, datamodule)
    resume = resume_checkpoint(cfg) if cfg.train else None
    loggers = build_loggers(cfg)
    interrupt = StopOnSignal()
    callbacks = [*build_callbacks(cfg, loggers), ConfigSnapshot(cfg), interrupt]
    trainer = build_trainer(cfg, callbacks, loggers)
    use_atomic_checkpoints(trainer)
    for logger in loggers:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))
    try:
        metrics = fit_and_test(cfg, trainer, task, datamodule, resume)
    except SIGTERMException as stop:
        raise SystemExit(128 + interrupt.signum) from stop
    if cfg.train:
        mark_finished(cfg, trainer.current_epoch, trainer.global_step, metrics)
    return metrics


def fit_and_test(
    cfg: DictConfig,
    trainer: pl.Trainer,
    task: pl.LightningModule,
    datamodule: pl.LightningDataModule,
    resume: str | None,
) -> dict[str, float]:
    """Fit (from `resume` if given), then test the best checkpoint; the final metrics."""
    if cfg.train:
        trainer.fit(task, datamodule=datamodule, ckpt_path=resume)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    objective = sweep_objective(trainer, cfg.task.monitor)
    if cfg.test:
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        if not cfg.train and cfg.ckpt_path:
            best = cfg.ckpt_path
        trainer.test(task, datamodule=datamodule, ckpt_path=best or None)
        metrics.update({k: float(v) for k, v in trainer.callback_metrics.items()})
        metrics.update(log_baselines(datamodule.baselines(), trainer.loggers))
        report_test_metrics(metrics, best or "last weights")
    if objective is not None:
        metrics[OBJECTIVE] = objective
    return metrics


def sweep_objective(trainer: pl.Trainer, monitor: str) -> float | None:
    """The monitored value of the best checkpoint, the weights `test` uses; a sweep that
    ranked trials by their last epoch would pick trials for a number nobody tested. Without
    a best checkpoint (no checkpointing, validation never ran): the last logged value."""
    checkpoint = trainer.checkpoint_callback
    score = getattr(checkpoint, "best_model_score", None)
    if score is not None and getattr(checkpoint, "monitor", None) == monitor:
        return float(score)
    last = trainer.callback_metrics.get(monitor)
    return None if last is None else float(last)


def log_baselines(baselines: dict[str, float], loggers: list) -> dict[str, float]:
    """Send the data's reference-predictor metrics to the loggers, to be read beside the
    model's (`test/mse` next to `test/mse_baseline`)."""
    for logger in loggers if baselines else ():
        logger.log_metrics(baselines)
        logger.save()  # the run's loggers were finalized by `trainer.test` already
    return baselines


def report_test_metrics(metrics: dict[str, float], weights: str) -> None:
    """Print the test metrics on one line, naming the weights they came from."""
    tested = ", ".join(f"{k}={v:.4f}" for k, v in sorted(metrics.items()) if k.startswith("test/"))
    rank_zero_info(f"Test ({weights}): {tested}")


def main(cfg: DictConfig) -> float | None:
    """Train, returning the best checkpoint's monitored value (for sweeps); each job ends
    its own W&B run. `seqlab.cli.run("train")` calls it once Hydra has composed and checked it."""
    failed = True
    try:
        metrics = train(cfg)
        failed = False
    finally:
        finish_wandb(failed)
    return metrics.get(OBJECTIVE)
