"""A callback that records which dataset items every training step saw (test helper)."""

import json
from pathlib import Path

import pytorch_lightning as pl


class BatchRecorder(pl.Callback):
    """Keeps `epochs[e]` = the list of index batches of training epoch e on this rank."""

    def __init__(self, path: Path | None = None) -> None:
        self.epochs: dict[int, list[list[int]]] = {}
        self.path = path

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.epochs.setdefault(trainer.current_epoch, []).append(batch.indices.tolist())

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.path is not None:
            out = self.path / f"batches_rank{trainer.global_rank}.json"
            out.write_text(json.dumps({str(e): b for e, b in self.epochs.items()}))
