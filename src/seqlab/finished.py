"""A finished run knows it is finished: `finished.json` in its run directory, with the final
metrics, so running the same directory again reports them instead of training again."""

import json
import math
import os
from pathlib import Path
from typing import Any

from omegaconf import DictConfig
from pytorch_lightning.utilities import rank_zero_info, rank_zero_only

MARKER = "finished.json"


def limit(value: int | None) -> float:
    """A Trainer bound (-1 or None: unbounded) as a comparable number."""
    return math.inf if value is None or value < 0 else value


def finished_metrics(cfg: DictConfig) -> dict[str, float] | None:
    """The recorded metrics when the run directory holds a finished run and `cfg` asks for
    no more training (a larger `trainer.max_epochs` or `trainer.max_steps` continues it)."""
    marker = Path(cfg.paths.output_dir) / MARKER
    if not cfg.train or cfg.ckpt_path or not marker.is_file():
        return None
    record = json.loads(marker.read_text())
    wanted = {key: cfg.trainer.get(key) for key in ("max_epochs", "max_steps")}
    more = [k for k, v in wanted.items() if limit(v) > limit(record[k])]
    if more:
        asked = ", ".join(f"trainer.{k}={wanted[k]} > {record[k]}" for k in more)
        rank_zero_info(f"{marker}: the run finished, but {asked}: continuing its training")
        return None
    shown = ", ".join(f"{k}={v:.4f}" for k, v in sorted(record["metrics"].items()))
    rank_zero_info(
        f"{marker}: this run already finished (epochs: {record['epoch']}, "
        f"steps: {record['global_step']}): {shown}. Nothing to do; to train on, raise "
        f"trainer.max_epochs above {record['max_epochs']} and run the same directory again."
    )
    return record["metrics"]


@rank_zero_only
def mark_finished(cfg: DictConfig, epoch: int, global_step: int, metrics: dict[str, Any]) -> None:
    """Write the marker atomically (a crash leaves the old one or none)."""
    record = {
        "metrics": metrics,
        "epoch": epoch,
        "global_step": global_step,
        "max_epochs": cfg.trainer.get("max_epochs"),
        "max_steps": cfg.trainer.get("max_steps"),
    }
    marker = Path(cfg.paths.output_dir) / MARKER
    temp = marker.with_suffix(".partial")
    temp.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(temp, marker)
