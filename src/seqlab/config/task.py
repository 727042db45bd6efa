"""Schemas of the `task` group."""

from dataclasses import dataclass, field

from omegaconf import MISSING


@dataclass
class OptimConfig:
    name: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    scheduler: str = "none"
    patience: int = 5


@dataclass
class TaskConfig:
    _target_: str = MISSING
    monitor: str = "val/loss"
    monitor_mode: str = "min"
    embedding_dim: int = 64
    optim: OptimConfig = field(default_factory=OptimConfig)


@dataclass
class ManyToManyTaskConfig(TaskConfig):
    _target_: str = "seqlab.tasks.many_to_many.ManyToManyTask"
    reduction: str = "mean"
