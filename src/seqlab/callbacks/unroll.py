"""Step-by-step forward of torch's RNN/LSTM/GRU, exposing every hidden state h_t to autograd.

The fused kernels hide the states between time steps, so d loss / d h_t through the recurrence
cannot be read from them. This forward uses the same weights and torch's gate equations one
step at a time, so each h_t is a node of the graph that the next step and the outputs read.
Padding is handled as packing does: a finished sequence's state stops changing (forward
direction), and the reverse direction starts at each sequence's own last step.
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def cell_step(rnn: nn.RNNBase, weights: list[Tensor], x: Tensor, state: tuple) -> tuple:
    """One step of `rnn`'s cell (torch's gate order) for one layer and direction."""
    w_ih, w_hh, *biases = weights
    b_ih, b_hh = biases if biases else (None, None)
    gi, gh = F.linear(x, w_ih, b_ih), F.linear(state[0], w_hh, b_hh)
    if isinstance(rnn, nn.LSTM):
        i, f, g, o = (gi + gh).chunk(4, dim=-1)
        c = torch.sigmoid(f) * state[1] + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
    if isinstance(rnn, nn.GRU):
        (ri, zi, ni), (rh, zh, nh) = gi.chunk(3, dim=-1), gh.chunk(3, dim=-1)
        r, z = torch.sigmoid(ri + rh), torch.sigmoid(zi + zh)
        n = torch.tanh(ni + r * nh)
        return ((1 - z) * n + z * state[0],)
    activation = torch.tanh if rnn.nonlinearity == "tanh" else torch.relu
    return (activation(gi + gh),)


def unrolled_direction(
    rnn: nn.RNNBase, layer: int, reverse: bool, inputs: Tensor, lengths: Tensor
) -> tuple[Tensor, list[Tensor]]:
    """Outputs [B, T, H] (zero at pads) and the state tensor h_t of every step t."""
    suffix = f"_l{layer}{'_reverse' if reverse else ''}"
    weights = [getattr(rnn, f"{name}{suffix}") for name in ("weight_ih", "weight_hh")]
    if rnn.bias:
        weights += [getattr(rnn, f"{name}{suffix}") for name in ("bias_ih", "bias_hh")]
    batch, steps, _ = inputs.shape
    zeros = inputs.new_zeros(batch, rnn.hidden_size)
    state = (zeros, zeros) if isinstance(rnn, nn.LSTM) else (zeros,)
    real = (torch.arange(steps)[None, :] < lengths[:, None]).to(inputs.device)
    states: list[Tensor] = [zeros] * steps
    for t in reversed(range(steps)) if reverse else range(steps):
        step = cell_step(rnn, weights, inputs[:, t], state)
        keep = real[:, t, None]
        state = tuple(torch.where(keep, new, old) for new, old in zip(step, state, strict=True))
        states[t] = state[0]
    outputs = torch.stack(states, dim=1) * real[..., None]
    return outputs, states


def unrolled_forward(
    rnn: nn.RNNBase, inputs: Tensor, lengths: Tensor
) -> tuple[Tensor, Tensor, list[list[Tensor]]]:
    """(outputs [B, T, H*dirs], final [B, H*dirs], top layer's states per direction).

    Matches `RecurrentEncoder` on packed sequences in eval mode (no dropout between layers).
    """
    if getattr(rnn, "proj_size", 0):
        raise NotImplementedError("gradient flow: LSTM with proj_size is not supported")
    directions = 2 if rnn.bidirectional else 1
    layer_input = inputs
    for layer in range(rnn.num_layers):
        runs = [
            unrolled_direction(rnn, layer, d == 1, layer_input, lengths) for d in range(directions)
        ]
        layer_input = torch.cat([outputs for outputs, _ in runs], dim=-1)
    top_states = [states for _, states in runs]
    forward_final = top_states[0][-1]
    finals = [forward_final] + ([top_states[1][0]] if directions == 2 else [])
    return layer_input, torch.cat(finals, dim=-1), top_states
