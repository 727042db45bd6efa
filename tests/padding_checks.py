"""The padding-invariance check every encoder test uses."""

import torch
from torch import Tensor

from seqlab.data.collate import pad_collate
from seqlab.models.base import Encoder, EncoderOutput


def assert_same_alone_and_batched(encoder: Encoder, sequences: list[Tensor]) -> EncoderOutput:
    """Each sequence gives the same outputs and final vector (to 1e-6) alone as batched beside
    the others, and its padded outputs are zero. Returns the batched output."""
    batch = pad_collate([(x, torch.tensor(0), i) for i, x in enumerate(sequences)])
    together = encoder(batch.inputs, batch.lengths)
    for row, x in enumerate(sequences):
        alone = encoder(x[None], torch.tensor([len(x)]))
        n = int(alone.lengths[0])
        torch.testing.assert_close(together.outputs[row, :n], alone.outputs[0], atol=1e-6, rtol=0)
        torch.testing.assert_close(together.final[row], alone.final[0], atol=1e-6, rtol=0)
        assert (together.outputs[row, n:] == 0).all()
    return together
