"""Learning-rate schedules as partial factories: `(optimizer, task) -> Lightning config`.

The task hands itself over so a schedule can read the monitored metric or the run's total
number of optimizer steps (`trainer.estimated_stepping_batches`) without a second setting.
"""

import math
from typing import Any

import pytorch_lightning as pl
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR, OneCycleLR, ReduceLROnPlateau

from seqlab.checks import check_positive, check_range


def plateau(
    optimizer: Optimizer, task: pl.LightningModule, factor: float = 0.5, patience: int = 5
) -> dict[str, Any]:
    """Multiply the learning rate by `factor` after `patience` validations without improving
    `task.monitor`; skipped with a warning when validation does not run."""
    check_range("scheduler.factor", factor, 0.0, 1.0, low_open=True)
    scheduler = ReduceLROnPlateau(
        optimizer, mode=task.monitor_mode, factor=factor, patience=patience
    )
    return {"scheduler": scheduler, "monitor": task.monitor, "strict": False}


def warmup_cosine(
    optimizer: Optimizer,
    task: pl.LightningModule,
    warmup_fraction: float = 0.05,
    min_lr_ratio: float = 0.0,
) -> dict[str, Any]:
    """Linear warmup over the first `warmup_fraction` of the run's optimizer steps, then
    cosine decay to `min_lr_ratio` x the initial learning rate, updated every step."""
    check_range("scheduler.warmup_fraction", warmup_fraction, 0.0, 1.0)
    check_range("scheduler.min_lr_ratio", min_lr_ratio, 0.0, 1.0, high_open=False)
    total = total_steps(task)
    warmup = int(warmup_fraction * total)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return {"scheduler": LambdaLR(optimizer, factor), "interval": "step"}


def one_cycle(
    optimizer: Optimizer,
    task: pl.LightningModule,
    max_lr_ratio: float = 1.0,
    pct_start: float = 0.3,
) -> dict[str, Any]:
    """Smith's one-cycle policy over the whole run, peaking at `max_lr_ratio` x the
    optimizer's learning rate, updated every step."""
    check_positive("scheduler.max_lr_ratio", max_lr_ratio)
    check_range("scheduler.pct_start", pct_start, 0.0, 1.0, low_open=True)
    peak = [group["lr"] * max_lr_ratio for group in optimizer.param_groups]
    scheduler = OneCycleLR(
        optimizer, max_lr=peak, total_steps=total_steps(task), pct_start=pct_start
    )
    return {"scheduler": scheduler, "interval": "step"}


def total_steps(task: pl.LightningModule) -> int:
    """The optimizer steps this run will take (max_steps, or epochs x batches per epoch)."""
    steps = task.trainer.estimated_stepping_batches
    if not math.isfinite(steps) or steps <= 0:
        raise ValueError(
            "a per-step schedule needs a finite run: set trainer.max_steps or trainer.max_epochs"
        )
    return int(steps)
