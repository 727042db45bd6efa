"""What the lab notebooks share: their size, running seqlab through its entry point, reading
its CSV metrics, loading the trained model, saving figures.

The notebooks drive seqlab only through public entry points (compose a config, call
`seqlab.train.train`, read the CSV logger, build the model with `seqlab.build`), so they keep
working when seqlab's internals change.
"""

import csv
import logging
import os
import warnings
from collections import defaultdict
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from seqlab.build import build_datamodule, build_task
from seqlab.config import register_schemas
from seqlab.train import CONFIG_DIR, train

# Lightning's advice about workers, logging intervals and its own deprecations is noise here.
for message in ("LeafSpec", "does not have many workers", "smaller than the logging interval"):
    warnings.filterwarnings("ignore", f".*{message}.*")
logging.getLogger("pytorch_lightning.utilities.rank_zero").setLevel(logging.WARNING)

SIZES = ("small", "full")
SIZE = os.environ.get("SEQLAB_LAB_SIZE", "full")
if SIZE not in SIZES:
    raise ValueError(f"SEQLAB_LAB_SIZE must be one of {SIZES}, got {SIZE!r}")
SMALL = SIZE == "small"
OUT = Path(os.environ.get("SEQLAB_LAB_OUT", Path(__file__).resolve().parents[1] / "logs" / "lab"))
QUIET = [
    "logger=csv",
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
    "callbacks.grad_flow=null",
]


def pick(small, full):
    """`small` in tests (SEQLAB_LAB_SIZE=small), `full` for a student's run."""
    return small if SMALL else full


def config(*overrides: str, name: str = "scratch") -> DictConfig:
    """The train config with these command-line overrides, writing under OUT/runs/<name>."""
    register_schemas()
    run_dir = OUT / "runs" / name
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose("train", [*QUIET, *overrides, f"paths.output_dir={run_dir}"])


def run(*overrides: str, name: str) -> tuple[DictConfig, dict[str, float]]:
    """`python train.py <overrides>` in this process: the config and its final metrics."""
    cfg = config(*overrides, name=name)
    return cfg, train(cfg)


def metrics_by_epoch(cfg: DictConfig) -> dict[str, list[tuple[int, float]]]:
    """Every metric of the run's CSV log as (epoch, value), step values averaged per epoch."""
    (path,) = Path(cfg.paths.output_dir).rglob("metrics.csv")
    sums: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    with path.open() as handle:
        for row in csv.DictReader(handle):
            for key, value in row.items():
                if value and key not in ("epoch", "step") and row["epoch"]:
                    sums[key][int(row["epoch"])].append(float(value))
    return {k: [(e, sum(v) / len(v)) for e, v in sorted(d.items())] for k, d in sums.items()}


def metric_by_step(cfg: DictConfig, key: str) -> tuple[list[int], list[float]]:
    """One metric of the run's CSV log against the optimizer step."""
    (path,) = Path(cfg.paths.output_dir).rglob("metrics.csv")
    with path.open() as handle:
        rows = [row for row in csv.DictReader(handle) if row.get(key)]
    return [int(row["step"]) for row in rows], [float(row[key]) for row in rows]


def built(cfg: DictConfig, weights: str | None = None):
    """(datamodule, model) as the run builds them; `weights`: a checkpoint to load, e.g.
    the run's `last.ckpt`. The model is in eval mode."""
    datamodule = build_datamodule(cfg)
    model = build_task(cfg, datamodule)
    if weights:
        model.load_state_dict(torch.load(weights, weights_only=False)["state_dict"])
    return datamodule, model.eval()


def last_checkpoint(cfg: DictConfig) -> str:
    """The weights the run ended with."""
    return str(Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt")


def save(figure: plt.Figure, name: str) -> Path:
    """Save under OUT/figures/<name>.png (the tests check these exist) and return the path."""
    path = OUT / "figures" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90, bbox_inches="tight")
    return path
