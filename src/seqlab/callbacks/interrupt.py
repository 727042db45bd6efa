"""SIGTERM (`kill`) and Ctrl-C during training stop it after the current step, with
last.ckpt saved, instead of killing it mid-step."""

import signal
from types import FrameType
from typing import Any

import pytorch_lightning as pl
from lightning_fabric.plugins.environments import SLURMEnvironment


class StopOnSignal(pl.Callback):
    """While fitting, SIGTERM and SIGINT only raise the trainer's `received_sigterm` flag.

    Lightning's loops then stop at the next step boundary and `LastCheckpoint` saves an
    exact state there (a KeyboardInterrupt inside an optimizer step leaves half-updated
    weights). Lightning's own SIGTERM handler also broadcasts to the other DDP ranks from
    inside the handler, which deadlocks when another rank is in a collective; here the ranks
    agree in `LastCheckpoint` instead. Under SLURM auto-requeue Lightning keeps SIGTERM.
    A second Ctrl-C interrupts at once. `signum` is the signal that stopped training.
    """

    def __init__(self) -> None:
        self.signum = signal.SIGTERM
        self._trainer: pl.Trainer | None = None
        self._previous: dict[int, Any] = {}

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._trainer = trainer
        environment = trainer._accelerator_connector.cluster_environment
        slurm = isinstance(environment, SLURMEnvironment) and environment.auto_requeue
        for signum in (signal.SIGINT,) if slurm else (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._restore()

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, _: Any) -> None:
        self._restore()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signum = signal.Signals(signum)
        if signum == signal.SIGINT:
            signal.signal(signal.SIGINT, self._previous.pop(signal.SIGINT))
        if self._trainer is not None:
            self._trainer._signal_connector.received_sigterm = True  # what the loops check

    def _restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}
