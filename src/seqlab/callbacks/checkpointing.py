"""`last.ckpt` always holds the latest training state, whatever the monitored metric does."""

import time
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Checkpoint
from pytorch_lightning.trainer.states import TrainerFn
from pytorch_lightning.utilities import rank_zero_info
from pytorch_lightning.utilities.exceptions import SIGTERMException

LAST = "last.ckpt"


class LastCheckpoint(Checkpoint):
    """Rewrite `<dirpath>/last.ckpt` at the end of a training epoch once `min_interval_s`
    seconds have passed since the last save, every `every_n_train_steps` optimizer steps
    (0: never mid-epoch), at the end of fit and when SIGTERM or Ctrl-C stops training (see
    `StopOnSignal`).

    The interval keeps epochs of a fraction of a second (the default dataset's) from writing
    a file each: a hard kill loses at most that much training, a signal nothing.

    Lightning's ModelCheckpoint rewrites `last` only where it also saves a top-k checkpoint,
    so a run whose metric stops improving resumes from a stale epoch; this callback does not
    look at metrics. Being a `Checkpoint`, it runs after the other callbacks' epoch-end hooks,
    so early stopping's state is in the file.
    """

    def __init__(
        self, dirpath: str, every_n_train_steps: int = 0, min_interval_s: float = 30.0
    ) -> None:
        if every_n_train_steps < 0:
            raise ValueError(
                "callbacks.last_checkpoint.every_n_train_steps must be >= 0 (0: epoch ends "
                f"only), got {every_n_train_steps}"
            )
        if min_interval_s < 0:
            raise ValueError(
                "callbacks.last_checkpoint.min_interval_s must be >= 0 (0: every epoch end), "
                f"got {min_interval_s}"
            )
        self.path = Path(dirpath) / LAST
        self.every_n_train_steps = every_n_train_steps
        self.min_interval_s = min_interval_s
        self._saved_step: int | None = None
        self._saved_at = 0.0

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._saved_at = time.monotonic()  # the interval counts training time

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any, **kwargs: Any
    ) -> None:
        """Save when due, or stop with a save once any rank got SIGTERM: the ranks decide
        together (a collective under DDP), as a signal reaches them at different moments."""
        step = trainer.global_step
        due = self.every_n_train_steps > 0 and step % self.every_n_train_steps == 0
        stopping = trainer.strategy.reduce_boolean_decision(trainer.received_sigterm, all=False)
        if (due or stopping) and step != self._saved_step:
            self.save(trainer)
        if stopping:
            rank_zero_info(f"Stopped by a signal after step {step}: saved {self.path}")
            raise SIGTERMException

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Rank zero's clock decides for all ranks: every rank must take part in a save."""
        due = time.monotonic() - self._saved_at >= self.min_interval_s
        if trainer.strategy.broadcast(due):
            self.save(trainer)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.global_step != self._saved_step:
            self.save(trainer)

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        """SIGTERM outside a training step (validation) in a single process. Any other
        exception may have struck inside a step, leaving a state no uninterrupted run had;
        under DDP the ranks may stop at different points, where a save would deadlock."""
        if trainer.world_size > 1 or not isinstance(exception, SIGTERMException):
            return
        if trainer.global_step != self._saved_step:
            self.save(trainer)
            rank_zero_info(f"Stopped by a signal at step {trainer.global_step}: saved {self.path}")

    def save(self, trainer: pl.Trainer) -> None:
        if trainer.fast_dev_run or trainer.sanity_checking or trainer.state.fn != TrainerFn.FITTING:
            return
        for logger in trainer.loggers:
            logger.save()  # metrics up to this state reach the disk with it (CSV buffers them)
        trainer.save_checkpoint(self.path)
        self._saved_step, self._saved_at = trainer.global_step, time.monotonic()
