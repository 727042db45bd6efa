"""Weight initialization schemes, applied after a task has built its modules.

Every weight matrix of every module is re-drawn, except those of normalisation layers and
embeddings. A matrix that packs k gates along dim 0 (torch's fused RNN weights, or any module
with the attribute `gates_per_weight = k`) is drawn block by block, so fan-in and fan-out are
one gate's. Recurrent (hidden-to-hidden) matrices are those named `weight_hh*` (torch's naming)
or listed in the module's `recurrent_weights`. Convolution kernels count their receptive
field in fan-in and fan-out, as torch does.
"""

import math
from collections.abc import Iterator

import torch
from torch import Tensor, nn

SCHEMES = ("default", "uniform", "glorot", "he", "orthogonal")
UNTOUCHED = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.Embedding)
RNN_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}
CELL_GATES = {nn.LSTMCell: 4, nn.GRUCell: 3, nn.RNNCell: 1}
LSTM_FORGET_GATE = 1  # torch orders LSTM gates input, forget, cell, output


def initialize(
    module: nn.Module,
    scheme: str = "default",
    uniform_bound: float = 0.3,
    lstm_forget_bias: float | None = None,
) -> None:
    """Re-initialise `module` in place.

    `default` keeps torch's own initialisation; every other scheme also sets biases to zero.
    `lstm_forget_bias` (any scheme) makes b_ih + b_hh of every LSTM forget gate equal it.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"init.scheme must be one of {SCHEMES}, got {scheme!r}")
    if uniform_bound <= 0:
        raise ValueError(f"init.uniform_bound must be > 0, got {uniform_bound}")
    with torch.no_grad():
        for sub in module.modules():
            if scheme != "default" and not isinstance(sub, UNTOUCHED):
                reinitialize(sub, scheme, uniform_bound)
            if lstm_forget_bias is not None and isinstance(sub, nn.LSTM | nn.LSTMCell):
                set_forget_bias(sub, lstm_forget_bias)


def reinitialize(module: nn.Module, scheme: str, uniform_bound: float) -> None:
    """Draw the module's own weight matrices per gate block and zero its biases."""
    recurrent = set(getattr(module, "recurrent_weights", ()))
    for name, param in module.named_parameters(recurse=False):
        if "bias" in name:
            param.zero_()
        elif param.dim() >= 2:
            is_recurrent = name.startswith("weight_hh") or name in recurrent
            for block in gate_blocks(module, name, param):
                draw(block, scheme, uniform_bound, is_recurrent)


def gates_per_weight(module: nn.Module, name: str) -> int:
    """How many gate blocks the parameter `name` of `module` packs along dim 0."""
    if isinstance(module, nn.RNNBase):
        return 1 if name.startswith("weight_hr") else RNN_GATES[module.mode]
    for cell, gates in CELL_GATES.items():
        if isinstance(module, cell):
            return gates
    return getattr(module, "gates_per_weight", 1)


def gate_blocks(module: nn.Module, name: str, param: Tensor) -> Iterator[Tensor]:
    """Views of `param`, one per gate block along dim 0."""
    gates = gates_per_weight(module, name)
    if param.shape[0] % gates:
        raise ValueError(
            f"{type(module).__name__}.{name} has {param.shape[0]} rows, "
            f"not a multiple of its gates_per_weight={gates}"
        )
    return iter(param.chunk(gates, dim=0))


def draw(block: Tensor, scheme: str, uniform_bound: float, recurrent: bool) -> None:
    """Fill one gate's matrix in place according to `scheme`.

    `orthogonal` makes recurrent matrices orthogonal and draws the others (input, output,
    convolution) by `glorot`.
    """
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(block)
    if scheme == "uniform":
        block.uniform_(-uniform_bound, uniform_bound)
    elif scheme == "he":
        block.normal_(0.0, math.sqrt(2.0 / fan_in))
    elif scheme == "orthogonal" and recurrent:
        nn.init.orthogonal_(block)
    else:
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        block.uniform_(-bound, bound)


def set_forget_bias(lstm: nn.LSTM | nn.LSTMCell, value: float) -> None:
    """Forget-gate b_ih = value and b_hh = 0, so their sum (what the gate adds) is `value`."""
    for name, param in lstm.named_parameters(recurse=False):
        if name.startswith(("bias_ih", "bias_hh")):
            forget = param.chunk(4)[LSTM_FORGET_GATE]
            forget.fill_(value if name.startswith("bias_ih") else 0.0)
