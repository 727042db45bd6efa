"""Normalisation whose statistics come from real frames only, never from padding."""

from torch import Tensor, nn


class MaskedBatchNorm(nn.BatchNorm1d):
    """BatchNorm over the feature axis of [B, T, C] inputs, counting only unpadded frames.

    Padded frames neither enter the batch statistics nor the running estimates, and come
    out as zeros. Real frames are gathered by row index (cheaper than boolean indexing),
    and a batch without padding goes straight to the plain kernel.
    """

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:  # type: ignore[override]
        rows = x.reshape(-1, x.shape[-1])
        keep = mask.reshape(-1)
        if bool(keep.all()):
            return super().forward(rows).view(x.shape)
        index = keep.nonzero().squeeze(1)
        normed = super().forward(rows.index_select(0, index))
        return rows.new_zeros(rows.shape).index_copy(0, index, normed).view(x.shape)
