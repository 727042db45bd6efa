"""Schemas of the `data` group: one per DataModule."""

from dataclasses import dataclass

from omegaconf import MISSING


@dataclass
class DataConfig:
    _target_: str = MISSING
    batch_size: int = 32
    num_workers: int = 0
    seed: int = 0
    batching: str = "bucket"
    eval_batching: str = "sorted"
    max_tokens: int | None = None
    num_buckets: int = 64
    bucket_boundaries: list[int] | None = None


@dataclass
class UEADataConfig(DataConfig):
    _target_: str = "seqlab.data.sources.uea.UEADataModule"
    name: str = "JapaneseVowels"
    val_fraction: float = 0.2
    normalize: bool = True


@dataclass
class SyntheticDataConfig(DataConfig):
    _target_: str = "seqlab.data.sources.synthetic.SyntheticDataModule"
    num_items: int = 256
    min_length: int = 3
    max_length: int = 20
    input_size: int = 4
    num_classes: int = 3
