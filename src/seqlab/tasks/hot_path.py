"""What the training step does without waiting for the device.

A host read of a device tensor (`.item()`, `bool()`, `float()`) stalls the CPU until the
accelerator has finished every queued kernel, so the next batch cannot be queued meanwhile.
The step therefore logs only when Lightning will write the logs, and keeps its losses on the
device, checking them for NaN/inf only when the logs are written, at epoch
ends and before any checkpoint is saved.
"""

from dataclasses import dataclass, field

import pytorch_lightning as pl
import torch
from torch import Tensor
from torchmetrics import Metric


def logs_this_step(trainer: pl.Trainer | None) -> bool:
    """Whether a value logged now reaches the loggers or `callback_metrics` as the latest one:
    Lightning's own logging steps (what its LearningRateMonitor asks too), the last batch of
    an epoch and the last step of the run. Without a trainer (a bare call) always."""
    if trainer is None:
        return True
    last_step = 0 < trainer.max_steps <= trainer.global_step + 1
    return (
        trainer._logger_connector.should_update_logs
        or bool(trainer.fast_dev_run)
        or trainer.is_last_batch
        or last_step
    )


def unchecked(metrics: dict[str, Metric]) -> dict[str, Metric]:
    """Training metrics without torchmetrics' per-update input checks (argument validation,
    NaN scans), each a host read on CUDA every step: the data checks targets when it loads
    them, and a non-finite loss stops the run naming its step (`FiniteWatch`)."""
    for metric in metrics.values():
        if getattr(metric, "validate_args", False):
            metric.validate_args = False
        if getattr(metric, "nan_strategy", None) in ("error", "warn"):
            metric.nan_strategy = "disable"
    return metrics


@dataclass
class FiniteWatch:
    """Keeps each step's loss (a device scalar, detached) until the next check, which finds
    the first non-finite one: a step costs no kernel and no sync, a check one sync.

    `steps` holds ((epoch, step, batch), loss, data loss, penalty) since the last check.
    """

    steps: list[tuple[tuple[int, int, int], Tensor, Tensor, Tensor]] = field(default_factory=list)

    def record(self, loss: Tensor, data: Tensor, penalty: Tensor, where: tuple[int, int, int]):
        self.steps.append((where, loss.detach(), data.detach(), penalty.detach()))

    def check(self) -> None:
        """Raise `FloatingPointError` naming the first bad step since the last check (syncs)."""
        if not self.steps:
            return
        bad = ~torch.isfinite(torch.stack([loss for _, loss, _, _ in self.steps]))
        if bool(bad.any()):
            (epoch, step, batch), *values = self.steps[int(bad.nonzero()[0])]
            loss, data, penalty = (float(v) for v in values)
            raise FloatingPointError(
                f"training loss is {loss} (data {data}, penalty {penalty}) at epoch {epoch}, "
                f"step {step}, batch {batch}"
            )
        self.steps.clear()
