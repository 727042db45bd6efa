"""Schema of the `regularizer` group: one optional field per regularizer, so several compose."""

from dataclasses import dataclass


@dataclass
class DropoutConfig:
    p: float = 0.2
    variational: bool = False
    inputs: bool = False
    layers: bool = True
    head: bool = True


@dataclass
class RegularizerConfig:
    dropout: DropoutConfig | None = None
