"""Schema of the `init` group: one scheme for the whole model, plus its options."""

from dataclasses import dataclass


@dataclass
class InitConfig:
    scheme: str = "default"
    uniform_bound: float = 0.3
    lstm_forget_bias: float | None = None
