"""Gradient flow through time: the unrolled forward, the per-step norms, the plot."""

import copy

import pytest
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from seqlab.build import build_datamodule, build_task
from seqlab.callbacks.grad_flow import gradient_flow, probed_task
from seqlab.callbacks.unroll import unrolled_forward
from seqlab.models.base import Encoder, EncoderOutput
from seqlab.models.rnn import RecurrentEncoder
from seqlab.train import train

LONG = ["data.min_length=25", "data.max_length=40", "model=rnn"]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_unrolled_forward_matches_the_fused_kernel(cell: str) -> None:
    torch.manual_seed(0)
    encoder = RecurrentEncoder(3, cell=cell, hidden_size=5, num_layers=2, bidirectional=True)
    inputs, lengths = torch.randn(4, 9, 3), torch.tensor([9, 2, 6, 1])
    inputs = inputs * (torch.arange(9)[None, :, None] < lengths[:, None, None])
    expected = encoder.eval()(inputs, lengths)
    outputs, final, states = unrolled_forward(encoder.rnn, inputs, lengths)
    torch.testing.assert_close(outputs, expected.outputs, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(final, expected.final, atol=1e-5, rtol=1e-4)
    assert len(states) == 2 and len(states[0]) == 9


def long_sequence_batch(tiny_config, *overrides: str):
    cfg = tiny_config(*LONG, *overrides)
    datamodule = build_datamodule(cfg)
    datamodule.setup("fit")
    task = build_task(cfg, datamodule).eval()
    return task, next(iter(datamodule.train_dataloader()))


def independent_step_gradients(task, batch, t: int) -> torch.Tensor:
    """|dL/dh_t| per sequence having step t: fused kernel on the prefix, h_t a leaf, the suffix.

    In float64, as `gradient_flow` computes (the task's own weights, converted in place).
    """
    rnn, inputs, lengths = task.encoder.rnn.double(), batch.inputs.double(), batch.lengths
    prefix = pack_padded_sequence(
        inputs[:, : t + 1], lengths.clamp(max=t + 1), batch_first=True, enforce_sorted=False
    )
    h_t = rnn(prefix)[1].detach().requires_grad_()
    rest = lengths - t - 1
    later = (rest > 0).nonzero().flatten()
    final = h_t[-1].clone()
    if len(later):
        suffix = pack_padded_sequence(
            inputs[later, t + 1 :], rest[later], batch_first=True, enforce_sorted=False
        )
        final[later] = rnn(suffix, h_t[:, later])[1][-1]
    loss = F.cross_entropy(task.head.double()(final), batch.targets)
    (grad,) = torch.autograd.grad(loss, h_t)
    return grad[-1].norm(dim=-1)[lengths > t]


def test_step_norms_match_an_independent_autograd_computation(tiny_config) -> None:
    task, batch = long_sequence_batch(tiny_config)
    flow = gradient_flow(task, batch)
    assert flow.quantity == "h_t" and flow.per_sequence.shape == batch.inputs.shape[:2]
    for t in range(0, int(batch.lengths.max()), 3):
        expected = independent_step_gradients(task, batch, t)
        torch.testing.assert_close(
            flow.per_sequence[batch.lengths > t, t], expected, rtol=1e-4, atol=1e-9
        )
        assert flow.norms[t] == pytest.approx(expected.mean().item(), rel=1e-4)
    assert (flow.per_sequence[~batch.mask] == 0).all()


def test_a_sequence_flows_alike_alone_and_beside_longer_ones(tiny_config) -> None:
    task, batch = long_sequence_batch(tiny_config)
    shortest = int(batch.lengths.argmin())
    alone = type(batch)(
        batch.inputs[shortest : shortest + 1, : batch.lengths[shortest]],
        batch.lengths[shortest : shortest + 1],
        batch.targets[shortest : shortest + 1],
        batch.indices[shortest : shortest + 1],
    )
    beside = gradient_flow(task, batch).per_sequence[shortest] * len(batch)  # loss is a mean
    by_itself = gradient_flow(task, alone).per_sequence[0]
    torch.testing.assert_close(beside[: len(by_itself)], by_itself, rtol=1e-4, atol=1e-9)


def test_training_plots_the_flow_and_warns_when_it_vanishes(tiny_config, tmp_path) -> None:
    cfg = tiny_config(
        *LONG,
        "callbacks.grad_flow.every_n_steps=2",
        "data.batching=random",  # 32 items / 8 = exactly 4 steps (bucket mode may make 5)
        "callbacks.grad_flow.min_ratio=10",
        "callbacks.grad_flow.max_ratio=100",
        "test=false",
    )
    with pytest.warns(UserWarning, match="gradient flow at step 0: .* gradients vanish"):
        train(cfg)
    plots = sorted(p.name for p in (tmp_path / "grad_flow").glob("*.png"))
    assert plots == ["step_000000.png", "step_000002.png"]


class OpaqueEncoder(Encoder):
    """An encoder whose hidden states the callback cannot reach (like a custom kernel)."""

    def __init__(self, inner: RecurrentEncoder) -> None:
        super().__init__()
        self.inner, self.input_size, self.output_size = inner, inner.input_size, inner.output_size

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> EncoderOutput:
        return self.inner(inputs, lengths)


def test_other_encoders_fall_back_to_input_gradients(tiny_config) -> None:
    task, batch = long_sequence_batch(tiny_config)
    task.encoder = OpaqueEncoder(task.encoder)
    flow = gradient_flow(task, batch)
    assert flow.quantity == "x_t"
    real = flow.per_sequence[batch.mask]
    assert torch.isfinite(real).all() and (real > 0).all()
    assert (flow.per_sequence[~batch.mask] == 0).all()
    last = flow.per_sequence[torch.arange(len(batch)), batch.lengths - 1]
    assert (flow.per_sequence[:, 0] < last).all()  # an RNN at init forgets its first inputs


def test_an_ensemble_is_probed_through_its_first_member(tiny_config) -> None:
    task, _ = long_sequence_batch(tiny_config)
    ensemble = pl.LightningModule()
    ensemble.members = nn.ModuleList([task, copy.deepcopy(task)])
    assert probed_task(ensemble) is task
    assert probed_task(task) is task
    assert probed_task(pl.LightningModule()) is None
