"""The padded batch every task receives."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor


def length_mask(lengths: Tensor, max_len: int, device: torch.device | None = None) -> Tensor:
    """Boolean [B, T] mask, True at real (unpadded) steps."""
    steps = torch.arange(max_len, device=device)
    return steps[None, :] < lengths.to(device)[:, None]


@dataclass
class Batch:
    """Zero-padded inputs with their true lengths.

    `lengths` and `target_lengths` stay on the CPU (packing kernels want them there); every
    other tensor follows the model's device. `indices` are dataset positions, used by
    per-example schemes such as bagging. Multi-target data (task=multitask) gives `targets`
    as a dict name -> tensor and `target_lengths` as a dict over its sequence targets;
    `target(name)` is the ordinary single-target batch of one of them.
    """

    inputs: Tensor  # [B, T, D] float or [B, T] long
    lengths: Tensor  # [B] long, CPU
    targets: Tensor | dict[str, Tensor]  # [B] or [B, T', ...] (per name)
    indices: Tensor  # [B] long
    target_lengths: Tensor | dict[str, Tensor] | None = None  # [B] long, CPU, sequence targets

    def __len__(self) -> int:
        return self.inputs.shape[0]

    @property
    def mask(self) -> Tensor:
        """[B, T] bool mask of real input steps, on the inputs' device."""
        return length_mask(self.lengths, self.inputs.shape[1], self.inputs.device)

    @property
    def target_mask(self) -> Tensor:
        """[B, T'] bool mask of real target steps, on the targets' device."""
        if self.target_lengths is None:
            raise ValueError("this batch has per-sequence targets, not target sequences")
        if isinstance(self.targets, dict):
            raise ValueError("this batch has several targets: take one with batch.target(name)")
        return length_mask(self.target_lengths, self.targets.shape[1], self.targets.device)

    def target(self, name: str) -> Batch:
        """The single-target view of a multi-target batch: same inputs, target `name`."""
        if not isinstance(self.targets, dict):
            raise ValueError(f"this batch has a single target, not named targets ({name!r})")
        lengths = self.target_lengths or {}
        return replace(self, targets=self.targets[name], target_lengths=lengths.get(name))

    def first(self, count: int) -> Batch:
        """The first `count` sequences, padding (of inputs and targets) trimmed to theirs."""
        lengths = self.lengths[:count]
        targets, target_lengths = _first(self.targets, self.target_lengths, count)
        return replace(
            self,
            inputs=self.inputs[:count, : int(lengths.max())],
            lengths=lengths,
            targets=targets,
            indices=self.indices[:count],
            target_lengths=target_lengths,
        )

    def rows(self, index: Tensor) -> Batch:
        """The sequences at `index` ([b] long), still padded to this batch's widths, so their
        per-step outputs line up with the whole batch's."""
        lengths = self.target_lengths
        return replace(
            self,
            inputs=self.inputs[index],
            lengths=_rows(self.lengths, index),
            targets=_rows(self.targets, index),
            indices=self.indices[index],
            target_lengths=None if lengths is None else _rows(lengths, index),
        )

    def to(self, device: torch.device | str, non_blocking: bool = False) -> Batch:
        """Move tensors to `device`, keeping the length vectors on the CPU.

        Lightning calls this through `move_data_to_device`.
        """
        return replace(
            self,
            inputs=self.inputs.to(device, non_blocking=non_blocking),
            targets=_move(self.targets, device, non_blocking),
            indices=self.indices.to(device, non_blocking=non_blocking),
        )


def _move(
    targets: Tensor | dict[str, Tensor], device: torch.device | str, non_blocking: bool
) -> Tensor | dict[str, Tensor]:
    if isinstance(targets, dict):
        return {k: t.to(device, non_blocking=non_blocking) for k, t in targets.items()}
    return targets.to(device, non_blocking=non_blocking)


def _rows(values: Tensor | dict[str, Tensor], index: Tensor) -> Tensor | dict[str, Tensor]:
    """Rows `index` of (named) tensors, each indexed on its own device (lengths stay on CPU)."""
    if isinstance(values, dict):
        return {k: v[index.to(v.device)] for k, v in values.items()}
    return values[index.to(values.device)]


def _first(targets: Tensor | dict, target_lengths: Tensor | dict | None, count: int) -> tuple:
    """The first `count` rows of (named) targets, sequence targets trimmed to their longest."""
    if isinstance(targets, dict):
        lengths = target_lengths or {}
        firsts = {name: _first(t, lengths.get(name), count) for name, t in targets.items()}
        sequence_lengths = {n: tl for n, (_, tl) in firsts.items() if tl is not None}
        return {n: t for n, (t, _) in firsts.items()}, sequence_lengths or None
    if target_lengths is None:
        return targets[:count], None
    target_lengths = target_lengths[:count]
    return targets[:count, : int(target_lengths.max())], target_lengths
