"""Schemas of the `task` group."""

from dataclasses import dataclass, field

from omegaconf import MISSING


@dataclass
class OptimConfig:
    name: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    scheduler: str = "none"
    patience: int = 5


@dataclass
class TaskConfig:
    _target_: str = MISSING
    monitor: str = "val/loss"
    monitor_mode: str = "min"
    embedding_dim: int = 64
    optim: OptimConfig = field(default_factory=OptimConfig)


@dataclass
class ManyToManyTaskConfig(TaskConfig):
    _target_: str = "seqlab.tasks.many_to_many.ManyToManyTask"
    reduction: str = "mean"


@dataclass
class DecoderConfig:
    cell: str = "lstm"
    hidden_size: int = 256
    embedding_dim: int = 64
    dropout: float = 0.0


@dataclass
class AttentionConfig:
    kind: str = "additive"
    size: int = 128


@dataclass
class DecodingConfig:
    val: str = "greedy"
    test: str = "beam"
    beam_size: int = 5
    max_length: int = 40
    length_penalty: float = 0.0


@dataclass
class Seq2SeqTaskConfig(TaskConfig):
    _target_: str = "seqlab.tasks.seq2seq.Seq2SeqTask"
    monitor: str = "val/per"
    monitor_mode: str = "min"
    teacher_forcing: float = 1.0
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    attention: AttentionConfig = field(default_factory=AttentionConfig)
    decoding: DecodingConfig = field(default_factory=DecodingConfig)


@dataclass
class HeadConfig:
    """One head of task=multitask; keys of other head types are ignored."""

    type: str = MISSING
    weight: float = 1.0
    reduction: str = "mean"
    teacher_forcing: float = 1.0
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    attention: AttentionConfig = field(default_factory=AttentionConfig)
    decoding: DecodingConfig = field(default_factory=DecodingConfig)


@dataclass
class MultitaskTaskConfig(TaskConfig):
    _target_: str = "seqlab.tasks.multitask.MultitaskTask"
    heads: dict[str, HeadConfig] = field(default_factory=dict)
