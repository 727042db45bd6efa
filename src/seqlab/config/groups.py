"""The schema of every config group option, generated from the code that consumes it.

Encoders, heads and data sources are found by discovery (one file each), so a new file is
typed without a line here; Lightning's and torch's classes are typed from their own
signatures, so every Trainer, callback and optimizer argument is checked.
"""

from collections.abc import Callable
from functools import cache
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning import callbacks as lightning_callbacks
from pytorch_lightning import loggers as lightning_loggers

from seqlab.callbacks.attention_plot import AttentionPlot
from seqlab.callbacks.checkpointing import LastCheckpoint
from seqlab.callbacks.grad_flow import GradFlow
from seqlab.callbacks.grad_norms import GradNorms
from seqlab.callbacks.monitor import MonitorCheck
from seqlab.callbacks.padding import PaddingFraction
from seqlab.callbacks.step_budget import StepBudget
from seqlab.config.signature import schema
from seqlab.data.datamodule import SequenceDataModule
from seqlab.discovery import discover
from seqlab.heads import Head
from seqlab.init import initialize
from seqlab.loggers import ResumableCSVLogger, wandb_logger
from seqlab.models.base import Encoder
from seqlab.tasks import schedules
from seqlab.tasks.module import SequenceTask

ENCODER_INPUTS = ("input_size", "dropout")  # from the DataSpec and the regularizer group
HEAD_INPUTS = ("spec", "input_size")  # from the DataSpec and the encoder
TASK_PARTS = ("spec", "model", "regularizer", "init", "optimizer", "scheduler", "ensemble")
PARTIAL = {"_partial_": True}  # built by the task with the parameters it owns
OPTIMIZERS: dict[str, Callable] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}
SCHEDULES = {
    "plateau": schedules.plateau,
    "warmup_cosine": schedules.warmup_cosine,
    "one_cycle": schedules.one_cycle,
}
CALLBACKS = {
    "model_checkpoint": lightning_callbacks.ModelCheckpoint,
    "last_checkpoint": LastCheckpoint,
    "early_stopping": lightning_callbacks.EarlyStopping,
    "lr_monitor": lightning_callbacks.LearningRateMonitor,
    "rich_progress_bar": lightning_callbacks.RichProgressBar,
    "grad_norms": GradNorms,
    "grad_flow": GradFlow,
    "attention_plot": AttentionPlot,
    "padding_fraction": PaddingFraction,
    "monitor_check": MonitorCheck,
    "step_budget": StepBudget,
    "ema": lightning_callbacks.EMAWeightAveraging,
}
LOGGERS = {
    "wandb": wandb_logger,
    "csv": ResumableCSVLogger,
    "tensorboard": lightning_loggers.TensorBoardLogger,
}
TRAINER_OBJECTS = ("callbacks", "logger", "plugins", "profiler")  # built by seqlab.build


@cache
def option_schemas() -> dict[str, dict[str, type]]:
    """`schema/<group>` -> option name -> schema, for the groups with one class per option."""
    return {
        "schema/data": {
            n: schema(c) for n, c in discover("seqlab.data.sources", SequenceDataModule).items()
        },
        "schema/model": {
            name: schema(cls, skip=ENCODER_INPUTS, extra=construction(cls))
            for name, cls in discover("seqlab.models", Encoder).items()
        },
        "schema/head": {
            n: schema(c, skip=HEAD_INPUTS) for n, c in discover("seqlab.heads", Head).items()
        },
        "schema/optimizer": {
            n: schema(c, skip=("params",), extra=PARTIAL) for n, c in OPTIMIZERS.items()
        },
        "schema/scheduler": {
            n: schema(f, skip=("optimizer", "task"), extra=PARTIAL) for n, f in SCHEDULES.items()
        },
    }


def construction(cls: type) -> dict[str, Any]:
    """Hydra flags an encoder asks for (e.g. CRDNN builds its inner `rnn` config itself)."""
    return {"_recursive_": False} if getattr(cls, "builds_own_parts", False) else {}


@cache
def task_schema() -> type:
    return schema(SequenceTask, skip=TASK_PARTS, target_key=False)


@cache
def trainer_schema() -> type:
    return schema(pl.Trainer, skip=TRAINER_OBJECTS)


@cache
def init_schema() -> type:
    return schema(initialize, skip=("module",), target_key=False)


def optional_fields(name: str, classes: dict[str, Callable]) -> type:
    """A group typed once for all its options: one optional field per class, so several
    options compose (`logger=[wandb,csv]`) and each is checked against its signature."""
    import dataclasses

    fields = [
        (key, schema(cls) | None, dataclasses.field(default=None)) for key, cls in classes.items()
    ]
    return dataclasses.make_dataclass(name, fields)


@cache
def callbacks_schema() -> type:
    return optional_fields("CallbacksSchema", CALLBACKS)


@cache
def logger_schema() -> type:
    return optional_fields("LoggerSchema", LOGGERS)
