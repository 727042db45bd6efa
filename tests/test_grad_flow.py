"""Gradient flow through time: the states contract, the per-step norms, the plot."""

import pytest
import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence

from seqlab.build import build_datamodule, build_task
from seqlab.callbacks.grad_flow import gradient_flow
from seqlab.models.base import Encoder, EncoderOutput, states_through_time
from seqlab.models.crdnn import CRDNN
from seqlab.models.rnn import RecurrentEncoder
from seqlab.train import train
from tests.unrolled_reference import unrolled_states

# the head reads the final state (the reference below differentiates through it)
LONG = ["data.min_length=25", "data.max_length=40", "model=rnn", "task.heads.main.pooling=last"]

ENCODERS = {
    "lstm-bidirectional-2-layers": {"cell": "lstm", "num_layers": 2, "bidirectional": True},
    "gru-bidirectional-sum": {"cell": "gru", "bidirectional": True, "merge": "sum"},
    "rnn-shared-directions-2-layers": {
        "cell": "rnn",
        "num_layers": 2,
        "bidirectional": True,
        "shared_directions": True,
    },
    "lstm-shared-sum": {
        "cell": "lstm",
        "bidirectional": True,
        "shared_directions": True,
        "merge": "sum",
    },
    "gru-2-layers": {"cell": "gru", "num_layers": 2},
}


def probe_loss(encoded: EncoderOutput, seed: int = 1) -> torch.Tensor:
    """A loss reading every output step and the final vector, so both paths count."""
    generator = torch.Generator().manual_seed(seed)
    outputs_weight = torch.randn(encoded.outputs.shape, generator=generator, dtype=torch.float64)
    final_weight = torch.randn(encoded.final.shape, generator=generator, dtype=torch.float64)
    return (encoded.outputs * outputs_weight).sum() + (encoded.final * final_weight).sum()


def padded_batch(lengths: tuple[int, ...] = (9, 2, 6, 1), features: int = 3):
    torch.manual_seed(0)
    lengths_ = torch.tensor(lengths)
    inputs = torch.randn(len(lengths), max(lengths), features, dtype=torch.float64)
    return inputs * (torch.arange(max(lengths))[None, :, None] < lengths_[:, None, None]), lengths_


@pytest.mark.parametrize("options", ENCODERS.values(), ids=ENCODERS.keys())
def test_states_gradient_equals_autograd_through_cells(options: dict) -> None:
    inputs, lengths = padded_batch()
    encoder = RecurrentEncoder(3, hidden_size=4, **options).double().eval()
    plain = encoder(inputs, lengths)
    with states_through_time():
        encoded = encoder(inputs, lengths)
    torch.testing.assert_close(encoded.outputs, plain.outputs, rtol=0, atol=1e-12)
    torch.testing.assert_close(encoded.final, plain.final, rtol=0, atol=1e-12)
    torch.testing.assert_close(encoded.states, plain.states)
    (grad,) = torch.autograd.grad(probe_loss(encoded), encoded.states)
    reference, state_gradients = unrolled_states(encoder, inputs, lengths)
    torch.testing.assert_close(reference.outputs, plain.outputs)
    expected = state_gradients(probe_loss(reference))
    torch.testing.assert_close(grad, expected, rtol=1e-7, atol=1e-12)


def test_crdnn_states_are_its_recurrent_lobes_at_its_time_resolution() -> None:
    inputs, lengths = padded_batch((9, 5, 2), features=4)
    lobe = {"_target_": "seqlab.models.rnn.RecurrentEncoder", "cell": "gru", "hidden_size": 4}
    crdnn = CRDNN(
        4,
        {**lobe, "bidirectional": True},
        conv_channels=[3],
        conv_strides=[1],
        pool_sizes=[2],
        dnn_sizes=[],
        normalization="none",
    )
    crdnn = crdnn.double().eval()
    features: list[torch.Tensor] = []
    crdnn.rnn.register_forward_pre_hook(lambda module, args: features.append(args[0]))
    with states_through_time():
        encoded = crdnn(inputs, lengths)
    assert encoded.states.shape[:2] == encoded.outputs.shape[:2] == (3, 5)
    assert encoded.lengths.tolist() == [5, 3, 1]
    (grad,) = torch.autograd.grad(probe_loss(encoded), encoded.states)
    reference, state_gradients = unrolled_states(crdnn.rnn, features[0], encoded.lengths)
    expected = state_gradients(probe_loss(reference))
    torch.testing.assert_close(grad, expected, rtol=1e-7, atol=1e-12)


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
    rnn, inputs, lengths = task.model.encoder.rnn.double(), batch.inputs.double(), batch.lengths
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
    loss = F.cross_entropy(task.model.heads.main.out.double()(final), batch.targets)
    (grad,) = torch.autograd.grad(loss, h_t)
    return grad[-1].norm(dim=-1)[lengths > t]


def test_step_norms_match_an_independent_autograd_computation(tiny_config) -> None:
    task, batch = long_sequence_batch(tiny_config)
    flow = gradient_flow(task.gradient_probe(), batch)
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
    probe = task.gradient_probe()
    beside = gradient_flow(probe, batch).per_sequence[shortest] * len(batch)  # loss is a mean
    by_itself = gradient_flow(probe, alone).per_sequence[0]
    torch.testing.assert_close(beside[: len(by_itself)], by_itself, rtol=1e-4, atol=1e-9)


@pytest.mark.parametrize(
    "model", ["model=gru", "model=ligru", "model=crdnn", "model.bidirectional=true"]
)
def test_every_encoder_exposes_its_states_to_the_probe(tiny_config, model: str) -> None:
    task, batch = long_sequence_batch(tiny_config, model)
    flow = gradient_flow(task.gradient_probe(), batch)
    assert flow.quantity == "h_t"
    real = torch.arange(flow.per_sequence.shape[1])[None, :] < flow.lengths[:, None]
    assert torch.isfinite(flow.per_sequence).all() and (flow.per_sequence[real] > 0).all()
    assert (flow.per_sequence[~real] == 0).all()
    assert next(task.parameters()).dtype == torch.float32  # measured on a copy


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
    """A user's encoder that exposes no per-step states."""

    def __init__(self, inner: RecurrentEncoder) -> None:
        super().__init__()
        self.inner, self.input_size, self.output_size = inner, inner.input_size, inner.output_size

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> EncoderOutput:
        return self.inner(inputs, lengths)._replace(states=None)


def test_other_encoders_fall_back_to_input_gradients(tiny_config) -> None:
    task, batch = long_sequence_batch(tiny_config)
    task.model.encoder = OpaqueEncoder(task.model.encoder)
    flow = gradient_flow(task.gradient_probe(), batch)
    assert flow.quantity == "x_t"
    real = flow.per_sequence[batch.mask]
    assert torch.isfinite(real).all() and (real > 0).all()
    assert (flow.per_sequence[~batch.mask] == 0).all()
    last = flow.per_sequence[torch.arange(len(batch)), batch.lengths - 1]
    assert (flow.per_sequence[:, 0] < last).all()  # an RNN at init forgets its first inputs


def test_an_ensemble_is_probed_through_its_first_member(tiny_config) -> None:
    cfg = tiny_config(*LONG, "ensemble=bagging", "ensemble.members=2")
    datamodule = build_datamodule(cfg)
    datamodule.setup("fit")
    ensemble = build_task(cfg, datamodule).eval()
    batch = next(iter(datamodule.train_dataloader()))
    probe = ensemble.gradient_probe()
    loss, encoded = probe.data_loss(batch)
    first = ensemble.models[0]
    torch.testing.assert_close(encoded.outputs, first.encoder(batch.inputs, batch.lengths).outputs)
    assert probe is first and not hasattr(probe, "_trainer")  # a plain module: no trainer
    assert gradient_flow(probe, batch).quantity == "h_t" and loss > 0
