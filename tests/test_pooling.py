"""Each pooling of the many-to-one head reads real steps only."""

import pytest
import torch

from seqlab.heads.pooling import POOLINGS, Pooling
from seqlab.models.base import EncoderOutput


def encoded(steps: list[torch.Tensor], pad_value: float) -> EncoderOutput:
    """Sequences padded to the longest with `pad_value` (not zero, so any leak shows)."""
    longest = max(len(x) for x in steps)
    outputs = torch.full((len(steps), longest, steps[0].shape[1]), pad_value)
    for row, x in enumerate(steps):
        outputs[row, : len(x)] = x
    lengths = torch.tensor([len(x) for x in steps])
    final = torch.stack([x[-1] for x in steps])
    return EncoderOutput(outputs, lengths, final)


@pytest.mark.parametrize("kind", POOLINGS)
def test_pooling_is_the_same_alone_and_beside_longer_sequences(kind: str) -> None:
    torch.manual_seed(0)
    pool = Pooling(kind, 4)
    steps = [torch.randn(n, 4) for n in (2, 7, 5)]
    together = pool(encoded(steps, pad_value=100.0))
    for row, x in enumerate(steps):
        alone = pool(encoded([x], pad_value=0.0))
        torch.testing.assert_close(together[row], alone[0], atol=1e-6, rtol=0)


def test_pooling_kinds_differ() -> None:
    """The options are not aliases of one another."""
    torch.manual_seed(0)
    steps = encoded([torch.randn(6, 4)], pad_value=0.0)
    pooled = [Pooling(kind, 4)(steps) for kind in POOLINGS]
    for i in range(len(pooled)):
        for j in range(i + 1, len(pooled)):
            assert not torch.allclose(pooled[i], pooled[j])


def test_unknown_pooling_is_refused() -> None:
    with pytest.raises(ValueError, match="pooling must be one of"):
        Pooling("median", 4)
