"""Initialization schemes keep the bounds and variances they promise, per gate block."""

import math

import pytest
import torch
from torch import nn

from seqlab.init import initialize

IN, HIDDEN = 300, 200  # gate blocks of 200 x 300 (60k draws) and 200 x 200


def lstm(num_layers: int = 1, bidirectional: bool = False) -> nn.LSTM:
    torch.manual_seed(0)
    return nn.LSTM(IN, HIDDEN, num_layers=num_layers, bidirectional=bidirectional)


def blocks(module: nn.Module, prefix: str, gates: int):
    """(name, gate index, block) for every weight matrix whose name starts with `prefix`."""
    for name, param in module.named_parameters():
        if name.startswith(prefix):
            for gate, block in enumerate(param.detach().chunk(gates)):
                yield name, gate, block


def assert_uniform(block: torch.Tensor, bound: float) -> None:
    """Inside [-bound, bound], reaching near both ends, variance bound^2 / 3."""
    assert block.abs().max() <= bound
    assert block.max() > 0.98 * bound and block.min() < -0.98 * bound
    assert block.var().item() == pytest.approx(bound**2 / 3, rel=0.05)
    assert abs(block.mean().item()) < 0.05 * bound


def test_uniform_draws_every_matrix_from_minus_a_to_a() -> None:
    model = lstm()
    initialize(model, "uniform", uniform_bound=0.3)
    for _, _, block in blocks(model, "weight", 4):
        assert_uniform(block, 0.3)


def test_glorot_bound_uses_each_gate_block_fans() -> None:
    model = lstm(num_layers=2)
    initialize(model, "glorot")
    for name, _, block in blocks(model, "weight", 4):
        fan_in, fan_out = block.shape[1], block.shape[0]
        assert fan_out == HIDDEN and fan_in in (IN, HIDDEN), name
        assert_uniform(block, math.sqrt(6 / (fan_in + fan_out)))


def test_he_is_normal_with_variance_two_over_fan_in() -> None:
    model = nn.GRU(IN, HIDDEN)
    initialize(model, "he")
    for _, _, block in blocks(model, "weight", 3):
        std = math.sqrt(2 / block.shape[1])
        assert block.std().item() == pytest.approx(std, rel=0.03)
        assert abs(block.mean().item()) < 0.03 * std
        within_one_std = (block.abs() < std).double().mean().item()
        assert within_one_std == pytest.approx(0.6827, abs=0.01)  # normal, not uniform (0.577)


def test_orthogonal_recurrent_blocks_and_glorot_inputs() -> None:
    model = nn.LSTM(IN, 64, bidirectional=True)
    initialize(model, "orthogonal")
    for _, _, block in blocks(model, "weight_hh", 4):
        torch.testing.assert_close(block @ block.T, torch.eye(64), atol=1e-4, rtol=0)
    for _, _, block in blocks(model, "weight_ih", 4):
        assert_uniform(block, math.sqrt(6 / (IN + 64)))


@pytest.mark.parametrize("scheme", ["uniform", "glorot", "he", "orthogonal"])
def test_biases_are_zero(scheme: str) -> None:
    model = nn.Sequential(nn.Conv1d(3, 4, 3), nn.Linear(4, 5), nn.GRU(5, 6, num_layers=2))
    initialize(model, scheme)
    biases = [p for name, p in model.named_parameters() if "bias" in name]
    assert len(biases) == 6 and all((b == 0).all() for b in biases)


@pytest.mark.parametrize("scheme", ["default", "uniform", "glorot", "he", "orthogonal"])
def test_lstm_forget_bias_is_the_sum_of_both_bias_vectors(scheme: str) -> None:
    model = nn.LSTM(3, 8, num_layers=2, bidirectional=True)
    before = {n: p.detach().clone() for n, p in model.named_parameters() if "bias" in n}
    initialize(model, scheme, lstm_forget_bias=1.0)
    params = dict(model.named_parameters())
    for suffix in ("_l0", "_l1", "_l0_reverse", "_l1_reverse"):
        b_ih, b_hh = params[f"bias_ih{suffix}"].chunk(4), params[f"bias_hh{suffix}"].chunk(4)
        torch.testing.assert_close(b_ih[1] + b_hh[1], torch.ones(8))
        for gate in (0, 2, 3):
            if scheme == "default":  # torch's own biases are kept for the other gates
                name = f"bias_ih{suffix}"
                torch.testing.assert_close(b_ih[gate], before[name].chunk(4)[gate])
            else:
                assert (b_ih[gate] == 0).all() and (b_hh[gate] == 0).all()


def test_default_keeps_torch_initialization() -> None:
    model = lstm()
    before = [p.detach().clone() for p in model.parameters()]
    initialize(model, "default")
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_norm_layers_and_embeddings_are_left_alone() -> None:
    model = nn.Sequential(nn.BatchNorm1d(4), nn.LayerNorm(4), nn.Embedding(10, 4))
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(0.7)
    initialize(model, "he")
    assert all((p == 0.7).all() for p in model.parameters())


def test_convolutions_count_the_receptive_field() -> None:
    conv = nn.Conv1d(40, 60, kernel_size=5)
    initialize(conv, "glorot")
    assert_uniform(conv.weight.detach(), math.sqrt(6 / ((40 + 60) * 5)))


class PackedGates(nn.Module):
    """A module following the gates_per_weight convention (like the Li-GRU)."""

    gates_per_weight = 2
    recurrent_weights = ("u",)

    def __init__(self, hidden: int = HIDDEN) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.empty(2 * hidden, IN))
        self.u = nn.Parameter(torch.empty(2 * hidden, hidden))


def test_modules_declaring_gates_per_weight_are_drawn_per_block() -> None:
    module = PackedGates()
    initialize(module, "glorot")
    for block in module.w.detach().chunk(2):
        assert_uniform(block, math.sqrt(6 / (IN + HIDDEN)))
    small = PackedGates(hidden=64)
    initialize(small, "orthogonal")
    for block in small.u.detach().chunk(2):
        torch.testing.assert_close(block @ block.T, torch.eye(64), atol=1e-4, rtol=0)


def test_bad_gate_packing_and_options_are_named() -> None:
    module = PackedGates()
    module.w = nn.Parameter(torch.empty(5, 3))
    with pytest.raises(ValueError, match="gates_per_weight=2"):
        initialize(module, "glorot")
    with pytest.raises(ValueError, match="init.scheme"):
        initialize(nn.Linear(2, 2), "xavier")
    with pytest.raises(ValueError, match="init.uniform_bound"):
        initialize(nn.Linear(2, 2), "uniform", uniform_bound=0.0)
