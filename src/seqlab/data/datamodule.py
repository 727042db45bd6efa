"""The LightningDataModule every data source builds on."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import pytorch_lightning as pl
from torch.utils.data import DataLoader

from seqlab.data.collate import pad_collate
from seqlab.data.dataset import SequenceDataset
from seqlab.data.samplers import LengthBatchSampler, check_batching
from seqlab.data.spec import DataSpec


@dataclass(frozen=True)
class Splits:
    """Train, validation and test sets plus the sizes the model needs; `predict` is a set of
    new items to predict (without one, prediction runs on the test set)."""

    train: SequenceDataset
    val: SequenceDataset
    test: SequenceDataset
    spec: DataSpec
    predict: SequenceDataset | None = None


class SequenceDataModule(pl.LightningDataModule):
    """Loads a source's splits once and serves padded `Batch`es from length-aware samplers.

    Subclasses implement `load_splits`; everything about batching lives here, so every data
    source gets the same loaders: `batching` (random | sorted | bucket) for training,
    `eval_batching` (default sorted: fastest, and metrics are per-item, so order cannot change
    them) for validation, test and prediction. Under DDP each rank takes whole batches of one
    global list; the training sampler's epoch and position are saved in checkpoints.
    `cross_fit` (ensemble=kfold) merges the validation set into the training set and
    validates on the merged set, whose items the kfold members score out of fold.
    """

    def __init__(
        self,
        batch_size: int = 32,
        num_workers: int = 0,
        seed: int = 0,
        batching: str = "bucket",
        eval_batching: str = "sorted",
        max_tokens: int | None = None,
        num_buckets: int = 64,
        bucket_boundaries: list[int] | None = None,
        cross_fit: bool = False,
    ) -> None:
        super().__init__()
        check_batching(batching, batch_size, max_tokens, num_buckets, bucket_boundaries)
        check_batching(
            eval_batching,
            batch_size,
            max_tokens,
            num_buckets,
            bucket_boundaries,
            setting="data.eval_batching",
        )
        if num_workers < 0:
            raise ValueError(f"data.num_workers must be >= 0, got {num_workers}")
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed
        self.batching, self.eval_batching = batching, eval_batching
        self.max_tokens = max_tokens
        self.num_buckets = num_buckets
        self.bucket_boundaries = list(bucket_boundaries) if bucket_boundaries else None
        self.cross_fit = cross_fit
        self.train_sampler: LengthBatchSampler | None = None
        self._pending_train_state: dict[str, Any] | None = None

    def load_splits(self) -> Splits:
        """Return the checked train/val/test datasets and their `DataSpec`."""
        raise NotImplementedError

    def baselines(self) -> dict[str, float]:
        """Metrics of a reference predictor (a constant or memoryless guess), keyed like the
        logged metrics (e.g. `test/mse_baseline`), so the entry point reports them beside the
        model's. Sources without one return nothing."""
        return {}

    @cached_property
    def splits(self) -> Splits:
        splits = self.load_splits()
        if not self.cross_fit:
            return splits
        train, val = splits.train, splits.val
        merged = SequenceDataset(
            f"{train.name}+{val.name}", train.inputs + val.inputs, train.targets + val.targets
        )
        return replace(splits, train=merged, val=merged)

    @property
    def spec(self) -> DataSpec:
        return self.splits.spec

    def setup(self, stage: str | None = None) -> None:
        self.splits  # noqa: B018 - load and check every item before any step runs

    def train_dataloader(self) -> DataLoader:
        self.train_sampler = self.sampler(self.splits.train, self.batching, "data.batching")
        self.train_sampler.epoch_source = self._current_epoch
        if self._pending_train_state is not None:
            self.train_sampler.load_state_dict(self._pending_train_state)
            self._pending_train_state = None
        return self._loader(self.splits.train, self.train_sampler)

    def val_dataloader(self) -> DataLoader:
        sampler = self.sampler(self.splits.val, self.eval_batching, "data.eval_batching", True)
        return self._loader(self.splits.val, sampler)

    def test_dataloader(self) -> DataLoader:
        sampler = self.sampler(self.splits.test, self.eval_batching, "data.eval_batching", True)
        return self._loader(self.splits.test, sampler)

    def predict_dataloader(self) -> DataLoader:
        predict = self.splits.predict
        dataset = self.splits.test if predict is None else predict
        sampler = self.sampler(dataset, self.eval_batching, "data.eval_batching", True)
        return self._loader(dataset, sampler)

    def sampler(
        self, dataset: SequenceDataset, mode: str, setting: str, fill_ranks: bool = False
    ) -> LengthBatchSampler:
        """A batch sampler over `dataset` for this process's rank in the trainer's world
        (`fill_ranks` for evaluation: a small split still gives every rank a batch)."""
        rank, world_size = 0, 1
        if self.trainer is not None:
            rank, world_size = self.trainer.global_rank, self.trainer.world_size
        return LengthBatchSampler(
            dataset.lengths,
            mode=mode,
            batch_size=self.batch_size,
            max_tokens=self.max_tokens,
            num_buckets=self.num_buckets,
            boundaries=self.bucket_boundaries,
            seed=self.seed,
            rank=rank,
            world_size=world_size,
            name=dataset.name,
            setting=setting,
            fill_ranks=fill_ranks,
        )

    def state_dict(self) -> dict[str, Any]:
        """The training sampler's epoch and position, saved in every checkpoint.

        The loader fetches ahead of the training loop, so the position is the loop's count of
        processed batches, not the number the sampler has handed out.
        """
        if self.train_sampler is None:
            return {}
        state = self.train_sampler.state_dict()
        if self.trainer is not None:
            progress = self.trainer.fit_loop.epoch_loop.batch_progress.current
            state["position"] = progress.processed
        return {"train_sampler": state}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume the training sampler where the checkpoint left it (at the next epoch start)."""
        state = state_dict.get("train_sampler")
        if state is None:
            return
        if self.train_sampler is not None:
            self.train_sampler.load_state_dict(state)
        else:
            self._pending_train_state = state

    def _current_epoch(self) -> int:
        """The trainer's epoch (Lightning does not call `set_epoch` on batch samplers); fixed
        when overfitting, so the same few batches come back every epoch."""
        if self.trainer is None or self.trainer.overfit_batches > 0:
            return 0
        return self.trainer.current_epoch

    def _loader(self, dataset: SequenceDataset, sampler: LengthBatchSampler) -> DataLoader:
        return DataLoader(
            dataset,
            batch_sampler=sampler,
            collate_fn=pad_collate,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )
