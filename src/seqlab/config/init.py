"""Schema of the `init` group."""

from dataclasses import dataclass


@dataclass
class InitConfig:
    scheme: str = "default"
