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
    per-example schemes such as bagging.
    """

    inputs: Tensor  # [B, T, D] float or [B, T] long
    lengths: Tensor  # [B] long, CPU
    targets: Tensor  # [B] or [B, T', ...]
    indices: Tensor  # [B] long
    target_lengths: Tensor | None = None  # [B] long, CPU, for sequence targets

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
        return length_mask(self.target_lengths, self.targets.shape[1], self.targets.device)

    def to(self, device: torch.device | str, non_blocking: bool = False) -> Batch:
        """Move tensors to `device`, keeping the length vectors on the CPU.

        Lightning calls this through `move_data_to_device`.
        """
        return replace(
            self,
            inputs=self.inputs.to(device, non_blocking=non_blocking),
            targets=self.targets.to(device, non_blocking=non_blocking),
            indices=self.indices.to(device, non_blocking=non_blocking),
        )
