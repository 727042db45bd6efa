"""Turn a composed config into the objects Lightning runs; shared by train and eval."""

import pytorch_lightning as pl
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.callbacks import LearningRateMonitor, ProgressBar

from seqlab.data.datamodule import SequenceDataModule
from seqlab.tasks.module import SequenceTask

TASK_PARTS = ("model", "regularizer", "init", "optimizer", "scheduler", "ensemble")


def build_datamodule(cfg: DictConfig) -> SequenceDataModule:
    return instantiate(cfg.data)


def build_task(cfg: DictConfig, datamodule: SequenceDataModule) -> SequenceTask:
    """The LightningModule for the data's `DataSpec` (loading the data if it is not loaded
    yet). Every part arrives as a plain dict, so checkpoints hold only plain data."""
    parts = {key: plain(cfg.get(key)) for key in TASK_PARTS}
    return SequenceTask(spec=datamodule.spec, **plain(cfg.task), **parts)


def plain(node: DictConfig | None) -> dict | None:
    """A resolved config node as plain containers (None and empty stay None)."""
    if node is None:
        return None
    return OmegaConf.to_container(node, resolve=True) or None


def build_callbacks(cfg: DictConfig, loggers: list) -> list[pl.Callback]:
    """Configured callbacks, less those the run switched off elsewhere.

    A learning-rate monitor needs a logger and a progress bar needs
    `trainer.enable_progress_bar`; Lightning refuses either combination otherwise.
    """
    unusable = () if loggers else (LearningRateMonitor,)
    if cfg.trainer.enable_progress_bar is False:
        unusable += (ProgressBar,)
    callbacks = [instantiate(c) for c in cfg.get("callbacks", {}).values() if c is not None]
    return [c for c in callbacks if not isinstance(c, unusable)]


def build_loggers(cfg: DictConfig) -> list:
    return [instantiate(c) for c in cfg.get("logger", {}).values() if c is not None]


def build_trainer(cfg: DictConfig, callbacks: list[pl.Callback], loggers: list) -> pl.Trainer:
    return instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
