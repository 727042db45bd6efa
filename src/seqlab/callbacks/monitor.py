"""Say once, at the end of fitting, that the monitored metric was never logged."""

import pytorch_lightning as pl
from pytorch_lightning.utilities import rank_zero_warn


class MonitorCheck(pl.Callback):
    """A run whose validation never ran (short `max_steps`, `limit_val_batches=0`) still
    trains and tests; early stopping, plateau schedules and best-checkpoint selection then
    have nothing to act on. One warning says so, instead of a crash or a warning per epoch.
    """

    def __init__(self, monitor: str) -> None:
        self.monitor = monitor

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.monitor not in trainer.callback_metrics:
            rank_zero_warn(
                f"task.monitor={self.monitor} was never logged (validation did not run: "
                f"{trainer.global_step} optimizer steps, limit_val_batches="
                f"{trainer.limit_val_batches}): no early stopping, no plateau schedule, "
                "and the test uses the last weights (last.ckpt)"
            )
