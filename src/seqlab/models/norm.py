"""Normalisation whose statistics come from real frames only, never from padding."""

from torch import Tensor, nn


class MaskedBatchNorm(nn.BatchNorm1d):
    """BatchNorm over the feature axis of [B, T, C] inputs, counting only unpadded frames.

    Padded frames neither enter the batch statistics nor the running estimates, and come
    out as zeros.
    """

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:  # type: ignore[override]
        out = x.new_zeros(x.shape)
        out[mask] = super().forward(x[mask])
        return out
