"""Torch's fused RNN/LSTM/GRU kernels on padded batches, without ever reading padding.

Three ways to run them: a whole (multi-layer, bidirectional) module on packed or padded input
(`run_fused`); one direction of one layer on the padded batch (`run_direction`, the reverse
direction as a forward pass over the length-aware reversal); and one direction step by step
with every state re-entering the recurrence as a leaf (`run_stepwise`, for gradient probes).
All three call the same aten kernels that `nn.RNN`/`nn.LSTM`/`nn.GRU` call.
"""

import torch
from torch import Tensor, nn
from torch.autograd.function import FunctionCtx
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqlab.models.base import inject

KERNELS = {
    "RNN_TANH": torch.rnn_tanh,
    "RNN_RELU": torch.rnn_relu,
    "LSTM": torch.lstm,
    "GRU": torch.gru,
}


def uses_packed_sequences(inputs: Tensor) -> bool:
    """Whether encoders hand these inputs to torch's kernels packed (else padded).

    On the CPU oneDNN's padded kernel is several times faster than its packed path
    (bench/rnn_speed.py), and padding is harmless: a forward pass is causal, and the reverse
    direction runs as a forward pass over the length-aware reversal. Packed on CUDA, where
    cuDNN is fast on packed input: NOT MEASURED, no GPU was available (run bench/gpu.sh and
    revisit). Packed also under float16 CPU autocast, where oneDNN has no padded LSTM primitive.
    """
    if inputs.device.type != "cpu":
        return True
    return torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.float16


def reverse_padded(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse each sequence of `x` [B, T, D] within its true length; padding stays in place.

    An involution: applying it twice gives `x` back, so it is its own adjoint and its
    gradient is the same gather (`ReversePadded`), not the scatter-add that a gather's
    backward would run.
    """
    steps = torch.arange(x.shape[1], device=x.device)
    last = lengths.to(x.device)[:, None] - 1
    index = torch.where(steps[None] <= last, last - steps[None], steps[None])
    return ReversePadded.apply(x, index[:, :, None].expand(*index.shape, x.shape[-1]))


class ReversePadded(torch.autograd.Function):
    """x.gather(1, index) for an index that is its own inverse permutation along time."""

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, index: Tensor) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(index)
        return x.gather(1, index)

    @staticmethod
    def backward(ctx: FunctionCtx, grad: Tensor) -> tuple[Tensor, None]:  # type: ignore[override]
        (index,) = ctx.saved_tensors
        return ReversePadded.apply(grad, index), None


def step_mask(lengths: Tensor, x: Tensor) -> Tensor:
    """[B, T, 1] True at the real steps of x [B, T, ...]."""
    steps = torch.arange(x.shape[1], device=x.device)
    return (steps[None, :] < lengths.to(x.device)[:, None])[..., None]


def last_steps(outputs: Tensor, lengths: Tensor) -> Tensor:
    """outputs [B, T, H] read at each sequence's last real step: [B, H]."""
    rows = torch.arange(outputs.shape[0], device=outputs.device)
    return outputs[rows, lengths.to(outputs.device) - 1]


def run_fused(rnn: nn.RNNBase, inputs: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
    """A whole torch module: outputs [B, T, D*H] (zero at pads) and the top layer's final
    state per direction [B, D*H]. Padded input only for a unidirectional module."""
    if not (rnn.bidirectional or uses_packed_sequences(inputs)):
        outputs = rnn(inputs)[0] * step_mask(lengths, inputs)
        return outputs, last_steps(outputs, lengths)
    packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
    packed_out, state = rnn(packed)
    outputs, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=inputs.shape[1])
    h_n = state[0] if isinstance(state, tuple) else state
    directions = 2 if rnn.bidirectional else 1
    return outputs, torch.cat(list(h_n[-directions:]), dim=-1)


def direction_weights(rnn: nn.RNNBase, layer: int, reverse: bool) -> list[Tensor]:
    """The parameters of one layer and direction of `rnn`, in the kernel's order."""
    suffix = f"_l{layer}{'_reverse' if reverse else ''}"
    names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if rnn.bias else [])
    return [getattr(rnn, name + suffix) for name in names]


def run_kernel(
    rnn: nn.RNNBase, weights: list[Tensor], x: Tensor, state: tuple[Tensor, ...]
) -> tuple[Tensor, tuple[Tensor, ...]]:
    """One unidirectional layer of `rnn`'s cell over padded x [B, T, D] from `state`."""
    flags = (rnn.bias, 1, 0.0, False, False, True)  # bias, layers, dropout, train, bidir, batch
    if rnn.mode == "LSTM":
        outputs, h, c = KERNELS["LSTM"](x, list(state), weights, *flags)
        return outputs, (h, c)
    outputs, h = KERNELS[rnn.mode](x, state[0], weights, *flags)
    return outputs, (h,)


def zero_state(rnn: nn.RNNBase, x: Tensor) -> tuple[Tensor, ...]:
    zeros = x.new_zeros(1, x.shape[0], rnn.hidden_size)
    return (zeros, zeros) if rnn.mode == "LSTM" else (zeros,)


def run_direction(
    rnn: nn.RNNBase, weights: list[Tensor], x: Tensor, lengths: Tensor, reverse: bool
) -> Tensor:
    """One direction of one layer on the padded batch: [B, T, H], zero at padding.

    The reverse direction reads each sequence from its true last frame: it runs forward over
    `reverse_padded(x)` and its outputs are put back in time order.
    """
    if reverse:
        x = reverse_padded(x, lengths)
    outputs = run_kernel(rnn, weights, x, zero_state(rnn, x))[0] * step_mask(lengths, x)
    return reverse_padded(outputs, lengths) if reverse else outputs


def run_stepwise(
    rnn: nn.RNNBase, weights: list[Tensor], x: Tensor, lengths: Tensor, states: Tensor
) -> Tensor:
    """One forward direction, one kernel call per step, each new hidden state passed through
    `inject` from `states` [B, T, H] (a leaf holding the same values) before the next step
    reads it, so d loss / d states[:, t] is the whole gradient through time. A finished
    sequence's state stops changing, as in a packed run. Returns outputs [B, T, H], zero at pads.
    """
    state = zero_state(rnn, x)
    real = step_mask(lengths, x).transpose(0, 1)  # [T, B, 1]
    outputs = []
    for t in range(x.shape[1]):
        _, new = run_kernel(rnn, weights, x[:, t : t + 1], state)
        pairs = zip(new, state, strict=True)
        kept = tuple(torch.where(real[t], n[0], s[0])[None] for n, s in pairs)
        state = (inject(kept[0], states[None, :, t]), *kept[1:])
        outputs.append(state[0][0])
    return torch.stack(outputs, dim=1) * step_mask(lengths, x)
