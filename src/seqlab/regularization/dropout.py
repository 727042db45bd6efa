"""Dropout for sequences: ordinary, or one mask per sequence reused at every step."""

import torch
from torch import Tensor, nn

MODES = ("inverted", "scale_at_test")


class SequenceDropout(nn.Module):
    """Dropout on [B, T, D] or [B, D] activations.

    `mode="inverted"` (default) scales kept units by 1/(1-p) in training and is the identity
    at eval; `mode="scale_at_test"` is the classic formulation: no scaling in training,
    activations multiplied by 1-p at eval. Both give the same expected activation.
    With `variational=True` one mask per sequence is drawn and reused at every time step
    (Gal & Ghahramani), the right dropout for recurrent inputs and outputs.
    """

    def __init__(self, p: float, variational: bool = False, mode: str = "inverted") -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"regularizer.dropout.p must be in [0, 1), got {p}")
        if mode not in MODES:
            raise ValueError(f"regularizer.dropout.mode must be one of {MODES}, got {mode!r}")
        self.p = p
        self.variational = variational
        self.mode = mode

    def forward(self, x: Tensor) -> Tensor:
        if self.p == 0.0:
            return x
        if not self.training:
            return x * (1.0 - self.p) if self.mode == "scale_at_test" else x
        shape = (x.shape[0], 1, x.shape[2]) if self.variational and x.dim() == 3 else x.shape
        keep = torch.bernoulli(x.new_full(shape, 1.0 - self.p))
        return x * keep if self.mode == "scale_at_test" else x * keep / (1.0 - self.p)
