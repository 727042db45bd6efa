"""Data room: datasets, sources, collate, `Batch`, the DataModule and its `DataSpec`."""

from seqlab.data.batch import Batch
from seqlab.data.collate import pad_collate
from seqlab.data.datamodule import SequenceDataModule
from seqlab.data.dataset import SequenceDataset
from seqlab.data.spec import DataSpec

__all__ = ["Batch", "DataSpec", "SequenceDataModule", "SequenceDataset", "pad_collate"]
