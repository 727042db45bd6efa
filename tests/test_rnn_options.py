"""Recurrent encoder options: merge modes and directions sharing one set of weights."""

import pytest
import torch
from torch import nn

from seqlab.data.collate import pad_collate
from seqlab.models.fused import reverse_padded
from seqlab.models.rnn import RecurrentEncoder
from seqlab.regularization.dropout import SequenceDropout
from tests.padding_checks import assert_same_alone_and_batched

OPTIONS = [
    {"cell": cell, "num_layers": layers, "merge": merge, "shared_directions": shared}
    for cell in ("rnn", "lstm", "gru")
    for layers in (1, 2)
    for merge in ("concat", "sum")
    for shared in (False, True)
]


def batch_of(lengths: tuple[int, ...], size: int = 3):
    sequences = [torch.randn(n, size, dtype=torch.float64) for n in lengths]
    return sequences, pad_collate([(x, torch.tensor(0), i) for i, x in enumerate(sequences)])


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(map(str, o.values())))
def test_bidirectional_padding_invariance(options: dict) -> None:
    torch.manual_seed(0)
    encoder = RecurrentEncoder(3, hidden_size=5, bidirectional=True, **options).double().eval()
    sequences, _ = batch_of((4, 9, 1, 6))
    together = assert_same_alone_and_batched(encoder, sequences)
    assert together.outputs.shape[-1] == together.final.shape[-1] == encoder.output_size


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_shared_directions_equal_torch_bidirectional_with_tied_weights(
    cell: str, num_layers: int
) -> None:
    torch.manual_seed(0)
    shared = RecurrentEncoder(
        3, cell, 4, num_layers, bidirectional=True, shared_directions=True
    ).double()
    tied = RecurrentEncoder(3, cell, 4, num_layers, bidirectional=True).double()
    with torch.no_grad():
        for name, param in tied.rnn.named_parameters():
            layer = int(name.split("_l")[1][0])
            own = name.removesuffix("_reverse").replace(f"_l{layer}", "_l0")
            param.copy_(shared.layers[layer].get_parameter(own))
    _, batch = batch_of((5, 8, 2))
    ours, reference = shared(batch.inputs, batch.lengths), tied(batch.inputs, batch.lengths)
    torch.testing.assert_close(ours.outputs, reference.outputs, atol=1e-10, rtol=0)
    torch.testing.assert_close(ours.final, reference.final, atol=1e-10, rtol=0)


def test_shared_directions_have_one_set_of_weights() -> None:
    def count(encoder: nn.Module) -> int:
        return sum(p.numel() for p in encoder.parameters())

    shared = RecurrentEncoder(3, "gru", 4, bidirectional=True, shared_directions=True)
    assert count(shared) == count(RecurrentEncoder(3, "gru", 4)) > 0


def test_sum_merge_adds_the_two_directions_of_concat() -> None:
    torch.manual_seed(0)
    concat = RecurrentEncoder(3, "lstm", 4, 2, bidirectional=True).double()
    summed = RecurrentEncoder(3, "lstm", 4, 2, bidirectional=True, merge="sum").double()
    summed.load_state_dict(concat.state_dict())
    _, batch = batch_of((5, 8))
    both, added = concat(batch.inputs, batch.lengths), summed(batch.inputs, batch.lengths)
    assert summed.output_size == 4 and concat.output_size == 8
    torch.testing.assert_close(added.outputs, both.outputs[..., :4] + both.outputs[..., 4:])
    torch.testing.assert_close(added.final, both.final[:, :4] + both.final[:, 4:])


def test_backward_final_is_the_output_at_the_first_frame() -> None:
    encoder = RecurrentEncoder(3, "gru", 4, bidirectional=True, shared_directions=True)
    _, batch = batch_of((5, 8))
    out = encoder(batch.inputs.float(), batch.lengths)
    torch.testing.assert_close(out.final[:, 4:], out.outputs[:, 0, 4:])
    torch.testing.assert_close(out.final[0, :4], out.outputs[0, 4, :4])


def test_reverse_padded_reverses_within_each_length() -> None:
    _, batch = batch_of((2, 4))
    reversed_ = reverse_padded(batch.inputs, batch.lengths)
    torch.testing.assert_close(reversed_[0, :2], batch.inputs[0, :2].flip(0))
    torch.testing.assert_close(reversed_[1], batch.inputs[1].flip(0))
    assert (reversed_[0, 2:] == 0).all()
    torch.testing.assert_close(reverse_padded(reversed_, batch.lengths), batch.inputs)


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"merge": "mean", "bidirectional": True}, "model.merge"),
        ({"shared_directions": True}, "model.shared_directions"),
        ({"hidden_size": -2}, "model.hidden_size"),
    ],
)
def test_bad_recurrent_options_name_the_key(kwargs: dict, key: str) -> None:
    with pytest.raises(ValueError, match=key):
        RecurrentEncoder(input_size=3, **kwargs)


def test_wrong_feature_count_is_named() -> None:
    encoder = RecurrentEncoder(input_size=3)
    with pytest.raises(ValueError, match="built for 3 input features"):
        encoder(torch.randn(2, 5, 4), torch.tensor([5, 3]))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_unpacked_bidirectional_equals_the_packed_kernel(
    cell: str, num_layers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch.manual_seed(0)
    encoder = RecurrentEncoder(3, cell, 5, num_layers, bidirectional=True).double()
    assert set(encoder.state_dict()) == {f"rnn.{key}" for key in encoder.rnn.state_dict()}
    assert any(key.endswith("_reverse") for key in encoder.state_dict())
    _, batch = batch_of((4, 9, 1, 6))
    inputs = batch.inputs.requires_grad_()
    weights = torch.randn(4, 9, 10, dtype=torch.float64), torch.randn(4, 10, dtype=torch.float64)
    results = []
    for packed in (False, True):
        monkeypatch.setattr("seqlab.models.rnn.uses_packed_sequences", lambda x, p=packed: p)
        out = encoder(inputs, batch.lengths)
        loss = (out.outputs * weights[0]).sum() + (out.final * weights[1]).sum()
        results.append((out, torch.autograd.grad(loss, [inputs, *encoder.parameters()])))
    (unpacked, unpacked_grads), (packed_out, packed_grads) = results
    for name in ("outputs", "final", "states"):
        torch.testing.assert_close(getattr(unpacked, name), getattr(packed_out, name))
    for fast, reference in zip(unpacked_grads, packed_grads, strict=True):
        torch.testing.assert_close(fast, reference)


def test_unpacked_bidirectional_drops_between_layers_in_training_only() -> None:
    torch.manual_seed(0)
    encoder = RecurrentEncoder(3, "gru", 5, 2, bidirectional=True, dropout=SequenceDropout(0.5))
    _, batch = batch_of((4, 9))
    inputs = batch.inputs.float()
    evaluated = encoder.eval()(inputs, batch.lengths).outputs
    torch.testing.assert_close(encoder(inputs, batch.lengths).outputs, evaluated)
    assert not torch.allclose(encoder.train()(inputs, batch.lengths).outputs, evaluated)


def test_reverse_padded_gradient_is_the_same_reversal() -> None:
    _, batch = batch_of((2, 5, 4))
    inputs = batch.inputs.requires_grad_()
    assert torch.autograd.gradcheck(lambda x: reverse_padded(x, batch.lengths), (inputs,))
    grad = torch.randn_like(inputs)
    (back,) = torch.autograd.grad(reverse_padded(inputs, batch.lengths), inputs, grad)
    torch.testing.assert_close(back, reverse_padded(grad, batch.lengths))
