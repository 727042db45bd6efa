"""A checked, in-memory dataset of variable-length sequences."""

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor
from torch.utils.data import Dataset

from seqlab.data.collate import Item


class SequenceDataset(Dataset[Item]):
    """Items are (inputs [T, D] float or [T] long, target, index); the target may be a dict
    name -> target (several targets per item, task=multitask), the same names in every item.

    Every item is checked on construction, so a bad one fails before training starts and the
    error names the dataset and the item.
    """

    def __init__(
        self,
        name: str,
        inputs: Sequence[Tensor],
        targets: Sequence[Tensor] | Sequence[Mapping[str, Tensor]],
    ) -> None:
        if len(inputs) != len(targets):
            raise ValueError(f"{name}: {len(inputs)} inputs but {len(targets)} targets")
        if not inputs:
            raise ValueError(f"{name}: the dataset is empty")
        names = sorted(targets[0]) if isinstance(targets[0], Mapping) else None
        for index, (x, y) in enumerate(zip(inputs, targets, strict=True)):
            _check_item(name, index, x, y, names)
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


def _check_item(
    name: str, index: int, x: Tensor, y: Tensor | Mapping[str, Tensor], names: list[str] | None
) -> None:
    if x.dim() == 0 or x.shape[0] == 0:
        raise ValueError(f"{name}: item {index} has zero length")
    if x.is_floating_point() and not torch.isfinite(x).all():
        raise ValueError(f"{name}: item {index} has non-finite input values (NaN or inf)")
    if names is None and isinstance(y, Tensor):
        _check_target(f"{name}: item {index} has", y)
        return
    if not isinstance(y, Mapping) or sorted(y) != names:
        got = sorted(y) if isinstance(y, Mapping) else "one unnamed target"
        raise ValueError(f"{name}: item {index} has targets {got}, item 0 has {names}")
    for key, target in y.items():
        _check_target(f"{name}: item {index}, target {key!r}, has", target)


def _check_target(where: str, y: Tensor) -> None:
    if y.is_floating_point() and not torch.isfinite(y).all():
        raise ValueError(f"{where} a non-finite target")
    if y.dim() > 0 and y.shape[0] == 0:
        raise ValueError(f"{where} an empty target sequence")
