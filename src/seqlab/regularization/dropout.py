"""Dropout for sequences: ordinary, or one mask per sequence reused at every step."""

import torch
from torch import Tensor, nn


class SequenceDropout(nn.Module):
    """Inverted dropout on [B, T, D] or [B, D] activations; identity in eval mode.

    With `variational=True` one mask per sequence is drawn and reused at every time step
    (Gal & Ghahramani), the right dropout for recurrent inputs and outputs.
    """

    def __init__(self, p: float, variational: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"regularizer.dropout.p must be in [0, 1), got {p}")
        self.p = p
        self.variational = variational

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        if self.variational and x.dim() == 3:
            keep = torch.full_like(x[:, :1, :], 1.0 - self.p)
            return x * torch.bernoulli(keep) / (1.0 - self.p)
        return nn.functional.dropout(x, self.p, training=True)
