"""Schemas of the `data` group: one per DataModule."""

from dataclasses import dataclass, field

from omegaconf import MISSING

from seqlab.data.readers.arrays import ArrayKeys
from seqlab.data.readers.csv_long import CsvColumns


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
    per_step: bool = False


@dataclass
class ForecastDataConfig(DataConfig):
    _target_: str = "seqlab.data.sources.forecast.ForecastDataModule"
    series: str = "sunspots"
    min_length: int = 24
    max_length: int = 96
    stride: int = 6
    val_fraction: float = 0.15
    test_fraction: float = 0.15


@dataclass
class CmudictLMDataConfig(DataConfig):
    _target_: str = "seqlab.data.sources.cmudict_lm.CmudictLMDataModule"
    symbols: str = "letters"
    stress: bool = True
    val_fraction: float = 0.05
    test_fraction: float = 0.05
    max_words: int = 0


@dataclass
class SyntheticSeq2SeqDataConfig(DataConfig):
    _target_: str = "seqlab.data.sources.synthetic_seq2seq.SyntheticSeq2SeqDataModule"
    task: str = "copy"
    num_items: int = 512
    min_length: int = 2
    max_length: int = 8
    alphabet_size: int = 6


@dataclass
class CMUDictG2PDataConfig(DataConfig):
    _target_: str = "seqlab.data.sources.cmudict_g2p.CMUDictG2PDataModule"
    val_fraction: float = 0.05
    test_fraction: float = 0.1
    stress: bool = False


@dataclass
class SyntheticMultitaskDataConfig(DataConfig):
    _target_: str = "seqlab.data.sources.synthetic_multitask.SyntheticMultitaskDataModule"
    num_items: int = 256
    min_length: int = 3
    max_length: int = 20
    input_size: int = 4
    sequence_length: int = 4


@dataclass
class CMUDictMultitaskDataConfig(CMUDictG2PDataConfig):
    _target_: str = "seqlab.data.sources.cmudict_multitask.CMUDictMultitaskDataModule"


@dataclass
class FilesDataConfig(DataConfig):
    _target_: str = "seqlab.data.sources.files.FilesDataModule"
    train: str = MISSING
    test: str | None = None
    val: str | None = None
    predict: str | None = None
    format: str | None = None
    task: str | None = None
    val_fraction: float = 0.2
    normalize: bool = True
    normalize_targets: bool = True
    keys: ArrayKeys = field(default_factory=ArrayKeys)
    columns: CsvColumns = field(default_factory=CsvColumns)
    tokens: str = "chars"
    target_tokens: str = "words"
    unknown: str = "error"
    allow_pickle: bool = False
