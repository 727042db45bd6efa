"""Pad variable-length items to the longest one of their batch."""

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence

from seqlab.data.batch import Batch

# (inputs [T, D] or [T], target or dict name -> target, dataset index)
Item = tuple[Tensor, Tensor | Mapping[str, Tensor], int]


def pad_collate(items: Sequence[Item]) -> Batch:
    """Zero-pad inputs (and sequence targets) in item order; lengths stay on the CPU.

    Named targets (a dict per item) are collated name by name, each sequence target padded
    to its own longest and given its own lengths.
    """
    if not items:
        raise ValueError("pad_collate got an empty list of items")
    inputs, targets, indices = zip(*items, strict=True)
    lengths = torch.tensor([x.shape[0] for x in inputs], dtype=torch.long)
    if isinstance(targets[0], Mapping):
        stacked = {name: _stack([t[name] for t in targets]) for name in targets[0]}
        stacked_targets = {name: padded for name, (padded, _) in stacked.items()}
        sequence_lengths = {name: n for name, (_, n) in stacked.items() if n is not None}
        target_lengths = sequence_lengths or None
    else:
        stacked_targets, target_lengths = _stack(targets)
    return Batch(
        inputs=pad_sequence(list(inputs), batch_first=True),
        lengths=lengths,
        targets=stacked_targets,
        indices=torch.tensor(indices, dtype=torch.long),
        target_lengths=target_lengths,
    )


def _stack(targets: Sequence[Tensor]) -> tuple[Tensor, Tensor | None]:
    """Per-sequence targets stacked, or sequence targets padded with their lengths."""
    if targets[0].dim() == 0:
        return torch.stack(list(targets)), None
    target_lengths = torch.tensor([t.shape[0] for t in targets], dtype=torch.long)
    return pad_sequence(list(targets), batch_first=True), target_lengths
