"""Schema of the `logger` group: one optional field per logger, so several compose."""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class WandbConfig:
    _target_: str = "seqlab.loggers.wandb_logger"
    project: str = "seqlab"
    save_dir: str = "${paths.output_dir}"
    offline: bool | None = None
    name: str | None = None
    group: str | None = None
    tags: list[str] = field(default_factory=list)
    init_timeout: float = 60.0


@dataclass
class CSVConfig:
    _target_: str = "seqlab.loggers.ResumableCSVLogger"
    save_dir: str = "${paths.output_dir}"
    name: str = "csv"
    version: Any = 0


@dataclass
class TensorBoardConfig:
    _target_: str = "pytorch_lightning.loggers.TensorBoardLogger"
    save_dir: str = "${paths.output_dir}"
    name: str = "tensorboard"
    version: Any = 0
    default_hp_metric: bool = False


@dataclass
class LoggerConfig:
    wandb: WandbConfig | None = None
    csv: CSVConfig | None = None
    tensorboard: TensorBoardConfig | None = None
