"""Weight initialization schemes, applied after a task has built its modules."""

from torch import nn

SCHEMES = ("default",)


def initialize(module: nn.Module, scheme: str = "default") -> None:
    """Re-initialise `module` in place; `default` keeps torch's own initialisation."""
    if scheme not in SCHEMES:
        raise ValueError(f"init.scheme must be one of {SCHEMES}, got {scheme!r}")
