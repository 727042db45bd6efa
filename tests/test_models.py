"""Encoders: a sequence gives the same result alone and batched beside longer ones."""

import pytest
import torch

from seqlab.data.collate import pad_collate
from seqlab.models.norm import MaskedBatchNorm
from seqlab.models.rnn import RecurrentEncoder
from tests.padding_checks import assert_same_alone_and_batched

ENCODERS = [
    {"cell": cell, "num_layers": layers, "bidirectional": bidir}
    for cell in ("rnn", "lstm", "gru")
    for layers in (1, 2)
    for bidir in (False, True)
]


@pytest.mark.parametrize("options", ENCODERS, ids=lambda o: "-".join(map(str, o.values())))
def test_padding_invariance(options: dict) -> None:
    torch.manual_seed(0)
    encoder = RecurrentEncoder(input_size=3, hidden_size=5, **options).double().eval()
    sequences = [torch.randn(n, 3, dtype=torch.float64) for n in (4, 9, 6)]
    assert_same_alone_and_batched(encoder, sequences)


def test_final_vector_is_last_real_step() -> None:
    encoder = RecurrentEncoder(input_size=2, cell="gru", hidden_size=4).eval()
    batch = pad_collate([(torch.randn(n, 2), torch.tensor(0), i) for i, n in enumerate((3, 7))])
    out = encoder(batch.inputs, batch.lengths)
    torch.testing.assert_close(out.final[0], out.outputs[0, 2])
    torch.testing.assert_close(out.final[1], out.outputs[1, 6])


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"hidden_size": 0}, "model.hidden_size"),
        ({"cell": "tcn"}, "model.cell"),
        ({"num_layers": 0}, "model.num_layers"),
    ],
)
def test_bad_encoder_options_name_the_key(kwargs: dict, key: str) -> None:
    with pytest.raises(ValueError, match=key):
        RecurrentEncoder(input_size=3, **kwargs)


def test_a_dropout_that_is_not_a_module_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="regularizer.dropout"):
        RecurrentEncoder(input_size=3, num_layers=2, dropout=0.3)


def test_masked_batchnorm_ignores_padding() -> None:
    norm = MaskedBatchNorm(3)
    sequences = [torch.randn(n, 3) * 5 + 2 for n in (4, 9)]
    batch = pad_collate([(x, torch.tensor(0), i) for i, x in enumerate(sequences)])
    padded = batch.inputs.clone()
    padded[0, 4:] = 1000.0  # garbage where the mask says padding
    out = norm(padded, batch.mask)
    frames = torch.cat(sequences)
    expected = (frames - frames.mean(0)) / torch.sqrt(frames.var(0, unbiased=False) + norm.eps)
    torch.testing.assert_close(out[batch.mask], expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(norm.running_mean, 0.1 * frames.mean(0), atol=1e-5, rtol=1e-5)
    assert (out[~batch.mask] == 0).all()
