"""Turn a composed config into the objects Lightning runs; shared by train and eval."""

import pytorch_lightning as pl
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.callbacks import LearningRateMonitor, ProgressBar

from seqlab.data.datamodule import SequenceDataModule
from seqlab.tasks.bagging import BaggingTask


def build_datamodule(cfg: DictConfig) -> SequenceDataModule:
    return instantiate(cfg.data)


def build_task(cfg: DictConfig, datamodule: SequenceDataModule) -> pl.LightningModule:
    """The task for the data's `DataSpec` (loading the data if it is not loaded yet), or an
    ensemble of such tasks (`ensemble=bagging`).

    Sub-configs arrive as plain dicts, so checkpoints hold only plain hyperparameters.
    """
    parts = {k: OmegaConf.to_container(cfg[k], resolve=True) for k in ("model", "regularizer")}
    parts["init"] = OmegaConf.to_container(cfg.init, resolve=True)
    ensemble = cfg.get("ensemble") or {"kind": "none"}
    if ensemble["kind"] == "bagging":
        return BaggingTask(
            spec=datamodule.spec,
            task=OmegaConf.to_container(cfg.task, resolve=True),
            members=ensemble["members"],
            models=OmegaConf.to_container(ensemble["models"], resolve=True),
            seed=ensemble["seed"],
            **parts,
        )
    if ensemble["kind"] != "none":
        raise ValueError(f"ensemble.kind must be none or bagging, got {ensemble['kind']!r}")
    return instantiate(cfg.task, spec=datamodule.spec, **parts, _recursive_=False, _convert_="all")


def build_callbacks(cfg: DictConfig, loggers: list) -> list[pl.Callback]:
    """Configured callbacks, less those the run switched off elsewhere.

    A learning-rate monitor needs a logger and a progress bar needs
    `trainer.enable_progress_bar`; Lightning refuses either combination otherwise.
    """
    unusable = () if loggers else (LearningRateMonitor,)
    if not cfg.trainer.enable_progress_bar:
        unusable += (ProgressBar,)
    callbacks = [instantiate(c) for c in cfg.get("callbacks", {}).values() if c is not None]
    return [c for c in callbacks if not isinstance(c, unusable)]


def build_loggers(cfg: DictConfig) -> list:
    return [instantiate(c) for c in cfg.get("logger", {}).values() if c is not None]


def build_trainer(cfg: DictConfig, callbacks: list[pl.Callback], loggers: list) -> pl.Trainer:
    return instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
