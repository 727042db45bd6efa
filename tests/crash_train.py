"""`CRASH_AT=POINT:N python tests/crash_train.py train-overrides...`: train.py that crashes on
purpose (an environment variable, so DDP worker processes, started with the same command
line, see it too).

POINT is where this process is killed (SIGKILL, nothing can be saved) or stopped:
- `step`: right after optimizer step N, before any checkpoint of that step is written;
- `epoch`: at the start of epoch N, after everything of epoch N - 1 was saved;
- `write`: during the N-th checkpoint write, with half of the file's bytes written;
- `sigterm`: SIGTERM to rank 0 after optimizer step N, as `kill <pid>` does (a clean stop
  that must save last.ckpt).
"""

import io
import os
import signal
from typing import Any

import pytorch_lightning as pl
import torch

import seqlab.train

POINT, AT = os.environ["CRASH_AT"].split(":")[0], int(os.environ["CRASH_AT"].split(":")[1])


class Crash(pl.Callback):
    """Kills or signals this process at the chosen step or epoch."""

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if trainer.global_step == AT and POINT == "step":
            os.kill(os.getpid(), signal.SIGKILL)
        if trainer.global_step == AT and POINT == "sigterm" and trainer.global_rank == 0:
            os.kill(os.getpid(), signal.SIGTERM)

    def on_train_epoch_start(self, trainer: pl.Trainer, *args: Any) -> None:
        if trainer.current_epoch == AT and POINT == "epoch":
            os.kill(os.getpid(), signal.SIGKILL)


def half_written_save(original: Any) -> Any:
    """`torch.save` that, on its AT-th call, writes half the bytes and dies."""
    calls = 0

    def save(obj: Any, file: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls < AT:
            return original(obj, file, *args, **kwargs)
        buffer = io.BytesIO()
        original(obj, buffer, *args, **kwargs)
        file.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
        file.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    return save


if __name__ == "__main__":
    build_callbacks = seqlab.train.build_callbacks
    seqlab.train.build_callbacks = lambda cfg, loggers: [*build_callbacks(cfg, loggers), Crash()]
    if POINT == "write":
        torch.save = half_written_save(torch.save)
    import seqlab.cli

    seqlab.cli.run("train")
