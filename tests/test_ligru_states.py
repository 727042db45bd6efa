"""Li-GRU's per-step states: the scan's probe gives the whole d loss / d h_t through time."""

import pytest
import torch
from torch import Tensor

from seqlab.models.base import states_through_time
from seqlab.models.ligru import LiGRU
from seqlab.models.ligru_scan import LiGRUScan
from tests.test_ligru import ACT, scan_inputs


def perturbed_naive_scan(wx, u, pad, drop, activation, perturbation) -> Tensor:
    """The recurrence step by step through autograd, a zero perturbation added to every
    state before the next step reads it: its gradient is d loss / d h_t by definition."""
    dirs, batch, steps, width = wx.shape
    hidden = width // 2
    h = wx.new_zeros(dirs, batch, hidden)
    states = []
    for t in range(steps):
        g = wx[:, :, t] + torch.bmm(h, u.transpose(1, 2))
        z = torch.sigmoid(g[..., :hidden])
        c = ACT[activation](g[..., hidden:])
        c = c if drop is None else c * drop
        h = torch.where(pad[:, t][None, :, None], h, z * h + (1 - z) * c) + perturbation[:, :, t]
        states.append(h)
    return torch.stack(states, 2)


@pytest.mark.parametrize("dirs", [1, 2])
@pytest.mark.parametrize("drop", [False, True])
def test_scan_probe_gradient_is_the_gradient_through_time(dirs: int, drop: bool) -> None:
    wx, u, pad, mask, _, _ = scan_inputs(dirs, drop, layer_norm=False)
    probe = torch.randn(dirs, 3, 5, 4, dtype=torch.float64, requires_grad=True)  # values unused
    weights = torch.randn(dirs, 3, 5, 4, dtype=torch.float64)
    fast = LiGRUScan.apply(wx, u, pad, mask, "relu", None, None, 1e-5, probe)
    plain = LiGRUScan.apply(wx, u, pad, mask, "relu", None, None, 1e-5)
    torch.testing.assert_close(fast, plain, rtol=0, atol=0)
    (grad,) = torch.autograd.grad((fast * weights).sum(), probe)
    zero = torch.zeros(dirs, 3, 5, 4, dtype=torch.float64, requires_grad=True)
    slow = perturbed_naive_scan(wx, u, pad, mask, "relu", zero)
    (expected,) = torch.autograd.grad((slow * weights).sum(), zero)
    torch.testing.assert_close(grad, expected * ~pad[None, :, :, None], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("layers", [1, 2])
def test_encoder_states_read_each_direction_in_its_own_order(layers: int) -> None:
    """With a loss on the final vector only, the forward state at the last real frame and the
    backward state at frame 0 are the finals themselves: their gradient is the loss weight."""
    torch.manual_seed(0)
    encoder = LiGRU(3, hidden_size=4, num_layers=layers, bidirectional=True).double().eval()
    lengths = torch.tensor([6, 2, 4])
    inputs = torch.randn(3, 6, 3, dtype=torch.float64)
    plain = encoder(inputs, lengths)
    with states_through_time():
        encoded = encoder(inputs, lengths)
    torch.testing.assert_close(encoded.outputs, plain.outputs, rtol=0, atol=0)
    torch.testing.assert_close(encoded.states, plain.outputs, rtol=0, atol=0)
    weight = torch.randn(3, 8, dtype=torch.float64)
    (grad,) = torch.autograd.grad((encoded.final * weight).sum(), encoded.states)
    rows = torch.arange(3)
    torch.testing.assert_close(grad[rows, lengths - 1, :4], weight[:, :4])
    torch.testing.assert_close(grad[:, 0, 4:], weight[:, 4:])
    assert (grad[:, 1:, 4:].abs().sum((1, 2)) > 0).all()  # earlier backward steps reach it
    assert (grad[1, 2:] == 0).all() and (grad[2, 4:] == 0).all()  # padding
