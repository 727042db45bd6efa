"""Head room: plain nn.Modules that own output layers, losses and metrics of one target."""

from seqlab.discovery import discover
from seqlab.heads.base import Head


def registered_heads() -> dict[str, type[Head]]:
    """Every head type, by module name (`sequence`, `per_step`, `seq2seq`, a user's file)."""
    return discover("seqlab.heads", Head)


__all__ = ["Head", "registered_heads"]
