"""Schemas of the `model` group: one per encoder family."""

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING


@dataclass
class RecurrentModelConfig:
    _target_: str = "seqlab.models.rnn.RecurrentEncoder"
    cell: str = "lstm"
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = False
    merge: str = "concat"
    shared_directions: bool = False
    nonlinearity: str = "tanh"


@dataclass
class CRDNNModelConfig:
    _target_: str = "seqlab.models.crdnn.CRDNN"
    _recursive_: bool = False
    conv_channels: list[int] = field(default_factory=lambda: [32, 32])
    conv_kernel_size: int = 3
    conv_strides: list[int] = field(default_factory=lambda: [1, 1])
    conv_dilation: int = 1
    pool_sizes: list[int] = field(default_factory=lambda: [2, 1])
    conv2d: bool = False
    feature_pool: int = 1
    rnn: Any = MISSING
    dnn_sizes: list[int] = field(default_factory=lambda: [128])
    normalization: str = "batchnorm"
    activation: str = "leaky_relu"
