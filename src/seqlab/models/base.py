"""The contract every encoder keeps, so any head or task can sit on any encoder."""

from typing import NamedTuple

from torch import Tensor, nn


class EncoderOutput(NamedTuple):
    """What an encoder returns.

    outputs: [B, T', H] per-step features, exactly zero at padded steps.
    lengths: [B] long on the CPU, the valid steps of `outputs` (after any downsampling).
    final:   [B, H] one vector per sequence, read at each sequence's true last step.
    """

    outputs: Tensor
    lengths: Tensor
    final: Tensor


class Encoder(nn.Module):
    """Maps padded inputs [B, T, D] and their lengths to an `EncoderOutput`."""

    input_size: int
    output_size: int

    def forward(self, inputs: Tensor, lengths: Tensor) -> EncoderOutput:  # pragma: no cover
        raise NotImplementedError
