"""Gaussian noise on hidden units: a train-only perturbation that padding never sees."""

import torch
from torch import Tensor, nn


class GaussianNoise(nn.Module):
    """Adds N(0, std^2) to activations in training; identity at eval.

    For [B, T, D] activations a [B, T] `mask` of real steps keeps padded steps exactly zero.
    """

    def __init__(self, std: float) -> None:
        super().__init__()
        if std < 0:
            raise ValueError(f"regularizer.noise.std must be >= 0, got {std}")
        self.std = std

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        if not self.training or self.std == 0.0:
            return x
        noise = torch.randn_like(x) * self.std
        if mask is not None:
            noise = noise * mask.unsqueeze(-1).to(x.dtype)
        return x + noise
