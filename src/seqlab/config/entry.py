"""Schemas of the entry configs (train.yaml, eval.yaml) and of `paths`."""

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

from seqlab.config.callbacks import CallbacksConfig
from seqlab.config.ensemble import EnsembleConfig
from seqlab.config.init import InitConfig
from seqlab.config.logger import LoggerConfig
from seqlab.config.regularizer import RegularizerConfig
from seqlab.config.trainer import TrainerConfig


@dataclass
class PathsConfig:
    root_dir: str = "."
    log_dir: str = "${paths.root_dir}/logs"
    output_dir: str = "${hydra:runtime.output_dir}"


@dataclass
class TrainConfig:
    data: Any = MISSING
    model: Any = MISSING
    task: Any = MISSING
    regularizer: RegularizerConfig = field(default_factory=RegularizerConfig)
    ensemble: EnsembleConfig = field(default_factory=EnsembleConfig)
    init: InitConfig = field(default_factory=InitConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    callbacks: CallbacksConfig = field(default_factory=CallbacksConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    task_name: str = "train"
    seed: int = 42
    train: bool = True
    test: bool = True
    ckpt_path: str | None = None
    auto_resume: bool = True


@dataclass
class EvalConfig:
    ckpt_path: str = MISSING
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    task_name: str = "eval"
