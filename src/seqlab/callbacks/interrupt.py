"""Ctrl-C during training stops like SIGTERM: after the current step, with last.ckpt saved."""

import signal
from types import FrameType
from typing import Any

import pytorch_lightning as pl


class SigintAsSigterm(pl.Callback):
    """While fitting, hand SIGINT to the SIGTERM handler Lightning installed.

    A KeyboardInterrupt raised inside an optimizer step leaves half-updated weights that no
    run ever had; Lightning's SIGTERM handling instead stops at the next step boundary, where
    `LastCheckpoint` saves an exact state. A second Ctrl-C interrupts at once. `signum` is the
    signal that stopped training, for the exit status.
    """

    def __init__(self) -> None:
        self.signum = signal.SIGTERM
        self._previous: Any = None

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._previous = signal.signal(signal.SIGINT, self._handle)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._restore()

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, _: Any) -> None:
        self._restore()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signum = signal.Signals(signum)
        self._restore()
        handler = signal.getsignal(signal.SIGTERM)
        if not callable(handler):
            raise KeyboardInterrupt
        handler(signum, frame)

    def _restore(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
