"""Task room: LightningModules that combine an encoder, heads, losses and metrics."""

from seqlab.tasks.base import SequenceTask
from seqlab.tasks.many_to_one import ManyToOneTask

__all__ = ["ManyToOneTask", "SequenceTask"]
