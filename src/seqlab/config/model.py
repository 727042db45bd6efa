"""Schemas of the `model` group: one per encoder family."""

from dataclasses import dataclass


@dataclass
class RecurrentModelConfig:
    _target_: str = "seqlab.models.rnn.RecurrentEncoder"
    cell: str = "lstm"
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = False
    nonlinearity: str = "tanh"


@dataclass
class LiGRUModelConfig:
    _target_: str = "seqlab.models.ligru.LiGRU"
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = False
    normalization: str = "batchnorm"
    recurrent_layernorm: bool = False
    recurrent_dropout: float = 0.0
    nonlinearity: str = "relu"
