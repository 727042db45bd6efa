"""Task room: LightningModules that combine an encoder, heads, losses and metrics."""

from seqlab.tasks.base import SequenceTask
from seqlab.tasks.many_to_one import ManyToOneTask
from seqlab.tasks.seq2seq import Seq2SeqTask

__all__ = ["ManyToOneTask", "Seq2SeqTask", "SequenceTask"]
