"""Log how much of each epoch's input was padding, so the effect of `data.batching` shows."""

from typing import Any

import pytorch_lightning as pl
import torch

from seqlab.data.batch import Batch


class PaddingFraction(pl.Callback):
    """Logs `<stage>/padding_fraction`: padded input positions / all positions, per epoch.

    Positions are time steps of the batch's mask [B, T] (whatever the inputs' trailing
    shape: features [B, T, D] or tokens [B, T]). Counts are summed over every rank before
    dividing, so the value is the whole epoch's. The training epoch's counts so far are
    part of checkpoints, so a run resumed mid-epoch logs the same value as an uninterrupted one.
    """

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = {}
        self._trainer: pl.Trainer | None = None
        self._restored_epoch: int | None = None

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self._trainer = trainer

    def state_dict(self) -> dict[str, Any]:
        """The epoch's training counts summed over ranks (every rank saves; rank 0 writes)."""
        counts = self.counts.get("train", [0, 0])
        if self._trainer is None:
            return {"epoch": None, "train": list(counts)}
        device = self._trainer.strategy.root_device
        summed = self._trainer.strategy.reduce(
            torch.tensor(counts, dtype=torch.float64, device=device), reduce_op="sum"
        )
        return {"epoch": self._trainer.current_epoch, "train": [int(v) for v in summed.tolist()]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Rank 0 carries the restored sums, so the next reduction counts them once."""
        rank = self._trainer.global_rank if self._trainer is not None else 0
        self.counts["train"] = list(state_dict["train"]) if rank == 0 else [0, 0]
        self._restored_epoch = state_dict["epoch"]

    def _count(self, stage: str, batch: Batch) -> None:
        """From the CPU lengths and the inputs' shape: no mask is built, nothing waits for
        the device."""
        real, total = self.counts.setdefault(stage, [0, 0])
        sequences, steps = len(batch.lengths), batch.inputs.shape[1]
        self.counts[stage] = [real + int(batch.lengths.sum()), total + sequences * steps]

    def _log(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        real, total = self.counts.pop(stage, [0, 0])
        summed = trainer.strategy.reduce(
            torch.tensor([real, total], dtype=torch.float64, device=pl_module.device),
            reduce_op="sum",
        )
        if summed[1] > 0:
            fraction = float(1 - summed[0] / summed[1])
            # already summed over ranks: sync_dist (a mean of equal values) tells Lightning so
            pl_module.log(f"{stage}/padding_fraction", fraction, batch_size=1, sync_dist=True)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._restored_epoch != trainer.current_epoch:  # not resuming inside this epoch
            self.counts.pop("train", None)
        self._restored_epoch = None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch: Batch, batch_idx) -> None:
        self._count("train", batch)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._log(trainer, pl_module, "train")

    def on_validation_batch_end(
        self, trainer, pl_module, outputs, batch: Batch, batch_idx, dataloader_idx=0
    ) -> None:
        if not trainer.sanity_checking:
            self._count("val", batch)

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._log(trainer, pl_module, "val")

    def on_test_batch_end(
        self, trainer, pl_module, outputs, batch: Batch, batch_idx, dataloader_idx=0
    ) -> None:
        self._count("test", batch)

    def on_test_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._log(trainer, pl_module, "test")
