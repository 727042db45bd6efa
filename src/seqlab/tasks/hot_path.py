"""What the training step does without waiting for the device.

A host read of a device tensor (`.item()`, `bool()`, `float()`) stalls the CPU until the
accelerator has finished every queued kernel, so the next batch cannot be queued meanwhile.
The step therefore logs only when Lightning will write the logs, and checks the loss for
NaN/inf on the device, reading the verdict back only when the logs are written, at epoch
ends and before any checkpoint is saved.
"""

from dataclasses import dataclass, field

import pytorch_lightning as pl
import torch
from torch import Tensor


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


@dataclass
class FiniteWatch:
    """Remembers the first non-finite training loss on the device; `check` raises for it.

    `record` queues only device work (no sync); `where` keeps (epoch, step, batch) of the
    steps since the last check on the host, so the error names the step that failed.
    """

    where: list[tuple[int, int, int]] = field(default_factory=list)
    first: Tensor | None = None  # index into `where` of the first bad step, -1: none yet
    values: Tensor | None = None  # (loss, data loss, penalty) of that step

    def record(self, loss: Tensor, data: Tensor, penalty: Tensor, where: tuple[int, int, int]):
        values = torch.stack([loss, data, penalty]).detach().float()
        if self.first is None:
            self.first = torch.full((), -1, dtype=torch.long, device=loss.device)
            self.values = torch.zeros_like(values)
        new = ~torch.isfinite(loss.detach()) & (self.first < 0)
        self.first = torch.where(new, len(self.where), self.first)
        self.values = torch.where(new, values, self.values)
        self.where.append(where)

    def check(self) -> None:
        """Raise `FloatingPointError` naming the first bad step since the last check (syncs)."""
        if self.first is None:
            return
        index = int(self.first)
        if index >= 0:
            (epoch, step, batch), (loss, data, penalty) = self.where[index], self.values.tolist()
            raise FloatingPointError(
                f"training loss is {loss} (data {data}, penalty {penalty}) at epoch {epoch}, "
                f"step {step}, batch {batch}"
            )
        self.where.clear()
