"""An independent reference for per-step states: torch's cell modules, one step at a time.

Every hidden state h_t is its own tensor that the next step reads, so autograd's gradient
with respect to it is the whole d loss / d h_t through time.
"""

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.func import functional_call

from seqlab.models.base import EncoderOutput
from seqlab.models.rnn import RecurrentEncoder

CELLS = {"LSTM": nn.LSTMCell, "GRU": nn.GRUCell, "RNN_TANH": nn.RNNCell, "RNN_RELU": nn.RNNCell}


def unroll(
    rnn: nn.RNNBase, layer: int, reverse_weights: bool, backwards: bool, x: Tensor, lengths: Tensor
) -> list[Tensor]:
    """h_t of every step of one layer and direction (backwards: from each true last frame)."""
    suffix = f"_l{layer}{'_reverse' if reverse_weights else ''}"
    params = {name: getattr(rnn, name + suffix) for name in ("weight_ih", "weight_hh")}
    params |= {name: getattr(rnn, name + suffix) for name in ("bias_ih", "bias_hh")}
    extra = {"nonlinearity": "relu"} if rnn.mode == "RNN_RELU" else {}
    cell = CELLS[rnn.mode](x.shape[-1], rnn.hidden_size, **extra).to(x.dtype)
    zeros = x.new_zeros(x.shape[0], rnn.hidden_size)
    state = (zeros, zeros) if rnn.mode == "LSTM" else zeros
    states: list[Tensor] = [zeros] * x.shape[1]
    for t in reversed(range(x.shape[1])) if backwards else range(x.shape[1]):
        new = functional_call(cell, params, (x[:, t], state))
        keep = (t < lengths)[:, None]
        if rnn.mode == "LSTM":
            state = tuple(torch.where(keep, n, s) for n, s in zip(new, state, strict=True))
            states[t] = state[0]
        else:
            state = states[t] = torch.where(keep, new, state)
    return states


def unrolled_states(
    encoder: RecurrentEncoder, inputs: Tensor, lengths: Tensor
) -> tuple[EncoderOutput, Callable[[Tensor], Tensor]]:
    """The encoder's output recomputed with cells, and d loss / d h_t of its top layer's states
    for a given loss: returns (output, a function of the loss giving [B, T, dirs*H])."""
    mask = (torch.arange(inputs.shape[1])[None, :] < lengths[:, None])[..., None]
    shared = encoder.shared_directions
    x = inputs
    for layer in range(encoder.num_layers):
        rnn, index = (encoder.layers[layer], 0) if shared else (encoder.rnn, layer)
        runs = [unroll(rnn, index, False, False, x, lengths)]
        if encoder.bidirectional:
            runs.append(unroll(rnn, index, not shared, True, x, lengths))
        x = torch.cat([torch.stack(run, dim=1) for run in runs], dim=-1) * mask
    rows, hidden = torch.arange(len(lengths)), encoder.hidden_size
    final = x[rows, lengths - 1, :hidden]
    if encoder.bidirectional:
        final = torch.cat([final, x[:, 0, hidden:]], dim=-1)
    outputs = x
    if encoder.bidirectional and encoder.merge == "sum":
        outputs, final = (v[..., :hidden] + v[..., hidden:] for v in (x, final))

    def state_gradients(loss: Tensor) -> Tensor:
        grads = torch.autograd.grad(loss, [s for run in runs for s in run])
        steps = inputs.shape[1]
        per_direction = [grads[d * steps : (d + 1) * steps] for d in range(len(runs))]
        return torch.cat([torch.stack(g, dim=1) for g in per_direction], dim=-1) * mask

    return EncoderOutput(outputs, lengths, final, x), state_gradients
