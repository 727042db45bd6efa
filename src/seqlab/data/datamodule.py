"""The LightningDataModule every data source builds on."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader

from seqlab.data.collate import pad_collate
from seqlab.data.dataset import SequenceDataset
from seqlab.data.spec import DataSpec


@dataclass(frozen=True)
class Splits:
    """Train, validation and test sets plus the sizes the model needs."""

    train: SequenceDataset
    val: SequenceDataset
    test: SequenceDataset
    spec: DataSpec


class SequenceDataModule(pl.LightningDataModule):
    """Loads a source's splits once and serves padded `Batch`es.

    Subclasses implement `load_splits`; everything about batching lives here, so every data
    source gets the same loaders.
    """

    def __init__(self, batch_size: int = 32, num_workers: int = 0, seed: int = 0) -> None:
        super().__init__()
        if batch_size <= 0:
            raise ValueError(f"data.batch_size must be > 0, got {batch_size}")
        if num_workers < 0:
            raise ValueError(f"data.num_workers must be >= 0, got {num_workers}")
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed

    def load_splits(self) -> Splits:
        """Return the checked train/val/test datasets and their `DataSpec`."""
        raise NotImplementedError

    @cached_property
    def splits(self) -> Splits:
        return self.load_splits()

    @property
    def spec(self) -> DataSpec:
        return self.splits.spec

    def setup(self, stage: str | None = None) -> None:
        self.splits  # noqa: B018 - load and check every item before any step runs

    def train_dataloader(self) -> DataLoader:
        generator = torch.Generator().manual_seed(self.seed)
        return self._loader(self.splits.train, shuffle=True, generator=generator)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.splits.val, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.splits.test, shuffle=False)

    def _loader(self, dataset: SequenceDataset, **kwargs) -> DataLoader:
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            collate_fn=pad_collate,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            **kwargs,
        )
