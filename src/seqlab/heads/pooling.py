"""One vector per sequence from an encoder's steps, over real steps only."""

import torch
from torch import Tensor, nn

from seqlab.data.batch import length_mask
from seqlab.models.base import EncoderOutput

POOLINGS = ("last", "mean", "max", "attention")


class Pooling(nn.Module):
    """`last`: the encoder's final vector (each sequence's true last step); `mean` / `max`:
    over the real steps; `attention`: a learned softmax weighting of the real steps."""

    def __init__(self, kind: str, width: int) -> None:
        super().__init__()
        if kind not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {kind!r}")
        self.kind = kind
        self.score = nn.Linear(width, 1) if kind == "attention" else None

    def forward(self, encoded: EncoderOutput) -> Tensor:
        if self.kind == "last":
            return encoded.final
        outputs = encoded.outputs
        mask = length_mask(encoded.lengths, outputs.shape[1], outputs.device)[..., None]
        if self.kind == "mean":
            return (outputs * mask).sum(1) / mask.sum(1).clamp(min=1)
        if self.kind == "max":
            return outputs.masked_fill(~mask, float("-inf")).amax(1)
        scores = self.score(outputs).masked_fill(~mask, float("-inf"))
        return (torch.softmax(scores, dim=1) * outputs).sum(1)
