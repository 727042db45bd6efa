"""Pad variable-length items to the longest one of their batch."""

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence

from seqlab.data.batch import Batch

Item = tuple[Tensor, Tensor, int]  # (inputs [T, D] or [T], target, dataset index)


def pad_collate(items: Sequence[Item]) -> Batch:
    """Zero-pad inputs (and sequence targets) in item order; lengths stay on the CPU."""
    if not items:
        raise ValueError("pad_collate got an empty list of items")
    inputs, targets, indices = zip(*items, strict=True)
    lengths = torch.tensor([x.shape[0] for x in inputs], dtype=torch.long)
    target_lengths = None
    if targets[0].dim() == 0:
        stacked_targets = torch.stack(targets)
    else:
        target_lengths = torch.tensor([t.shape[0] for t in targets], dtype=torch.long)
        stacked_targets = pad_sequence(list(targets), batch_first=True)
    return Batch(
        inputs=pad_sequence(list(inputs), batch_first=True),
        lengths=lengths,
        targets=stacked_targets,
        indices=torch.tensor(indices, dtype=torch.long),
        target_lengths=target_lengths,
    )
