"""Schema of the `ensemble` group: several members of the task trained in one run."""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class EnsembleConfig:
    kind: str = "none"
    members: int = 1
    models: list[dict[str, Any]] = field(default_factory=list)
    seed: int = 0
