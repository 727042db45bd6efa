"""A checked, in-memory dataset of variable-length sequences."""

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.utils.data import Dataset

from seqlab.data.collate import Item


class SequenceDataset(Dataset[Item]):
    """Items are (inputs [T, D] float or [T] long, target, index).

    Every item is checked on construction, so a bad one fails before training starts and the
    error names the dataset and the item.
    """

    def __init__(self, name: str, inputs: Sequence[Tensor], targets: Sequence[Tensor]) -> None:
        if len(inputs) != len(targets):
            raise ValueError(f"{name}: {len(inputs)} inputs but {len(targets)} targets")
        if not inputs:
            raise ValueError(f"{name}: the dataset is empty")
        for index, (x, y) in enumerate(zip(inputs, targets, strict=True)):
            _check_item(name, index, x, y)
        self.name = name
        self.inputs = list(inputs)
        self.targets = list(targets)

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, index: int) -> Item:
        return self.inputs[index], self.targets[index], index

    @property
    def lengths(self) -> list[int]:
        """Input length of every item, for length-aware samplers."""
        return [x.shape[0] for x in self.inputs]


def _check_item(name: str, index: int, x: Tensor, y: Tensor) -> None:
    if x.dim() == 0 or x.shape[0] == 0:
        raise ValueError(f"{name}: item {index} has zero length")
    if x.is_floating_point() and not torch.isfinite(x).all():
        raise ValueError(f"{name}: item {index} has non-finite input values (NaN or inf)")
    if y.is_floating_point() and not torch.isfinite(y).all():
        raise ValueError(f"{name}: item {index} has a non-finite target")
    if y.dim() > 0 and y.shape[0] == 0:
        raise ValueError(f"{name}: item {index} has an empty target sequence")
