"""Schemas of the entry configs (train.yaml, eval.yaml) and of `paths`."""

import dataclasses
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from omegaconf import MISSING

from seqlab.config.ensemble import EnsembleConfig
from seqlab.config.groups import callbacks_schema, init_schema, logger_schema, trainer_schema
from seqlab.config.regularizer import RegularizerConfig


@dataclass
class PathsConfig:
    root_dir: str = "."
    log_dir: str = "${paths.root_dir}/logs"
    output_dir: str = "${hydra:runtime.output_dir}"


RUN_KEYS = [
    ("task_name", str, "train"),  # names the run directory under logs/
    ("seed", int, 42),  # seeds torch, numpy and python for the whole run
    ("train", bool, True),  # fit the model
    ("test", bool, True),  # test the best checkpoint after fitting
    ("ckpt_path", str | None, None),  # resume fitting from this checkpoint
    ("auto_resume", bool, True),  # resume from the run directory's last checkpoint if any
]


def factory(kind: type) -> dataclasses.Field:
    return field(default_factory=kind)


@cache
def train_config() -> type:
    """train.yaml: one node per group, typed; `data`, `model`, `task`, ... by their option."""
    fields = [
        ("data", Any, field(default=MISSING)),
        ("model", Any, field(default=MISSING)),
        ("task", Any, field(default=MISSING)),
        ("optimizer", Any, field(default=MISSING)),
        ("scheduler", Any, field(default=None)),
        ("regularizer", RegularizerConfig, factory(RegularizerConfig)),
        ("ensemble", EnsembleConfig, factory(EnsembleConfig)),
        ("init", init_schema(), factory(init_schema())),
        ("trainer", trainer_schema(), factory(trainer_schema())),
        ("logger", logger_schema(), factory(logger_schema())),
        ("callbacks", callbacks_schema(), factory(callbacks_schema())),
        ("paths", PathsConfig, factory(PathsConfig)),
    ]
    fields += [(key, kind, field(default=value)) for key, kind, value in RUN_KEYS]
    return dataclasses.make_dataclass("TrainConfig", fields)


@cache
def eval_config() -> type:
    """eval.yaml: a checkpoint and where to run it."""
    return dataclasses.make_dataclass(
        "EvalConfig",
        [
            ("ckpt_path", str, field(default=MISSING)),
            ("trainer", trainer_schema(), factory(trainer_schema())),
            ("logger", logger_schema(), factory(logger_schema())),
            ("paths", PathsConfig, factory(PathsConfig)),
            ("task_name", str, field(default="eval")),
        ],
    )


@cache
def predict_config() -> type:
    """predict.yaml: a checkpoint, data keys to change, the output file."""
    return dataclasses.make_dataclass(
        "PredictConfig",
        [
            ("ckpt_path", str, field(default=MISSING)),
            ("data", Any, field(default=None)),
            ("trainer", trainer_schema(), factory(trainer_schema())),
            ("paths", PathsConfig, factory(PathsConfig)),
            ("task_name", str, field(default="predict")),
            ("format", str, field(default="csv")),
            ("output", str | None, field(default=None)),
        ],
    )


@cache
def export_config() -> type:
    """export.yaml: a checkpoint, the file format, the output file."""
    return dataclasses.make_dataclass(
        "ExportConfig",
        [
            ("ckpt_path", str, field(default=MISSING)),
            ("paths", PathsConfig, factory(PathsConfig)),
            ("task_name", str, field(default="export")),
            ("format", str, field(default="onnx")),
            ("output", str | None, field(default=None)),
            ("opset", int, field(default=17)),
        ],
    )
