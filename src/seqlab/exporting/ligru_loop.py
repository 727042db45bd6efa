"""An exportable stand-in for `LiGRUScan`'s forward: the same recurrence as a TorchScript
loop, which the ONNX exporter turns into a `Loop` over a dynamic number of steps (tracing the
hand-written Python loop would unroll it to the traced length)."""

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor

from seqlab.models import ligru


@torch.jit.script
def ligru_states(gates: Tensor, ut: Tensor, relu: bool, ln_weight: Tensor, eps: float) -> Tensor:
    """States [Dirs, B, T, H] of h_t = lerp(c_t, h_{t-1}, z_t) over pre-activations `gates`;
    an empty `ln_weight` means no LayerNorm on U h."""
    dirs, batch, steps, width = gates.shape
    hidden = width // 2
    h = gates.new_zeros(dirs, batch, hidden)
    states = [h]  # a typed start (ONNX cannot type an empty sequence); dropped below
    for t in range(steps):
        uh = torch.bmm(h, ut)
        if ln_weight.numel() > 0:
            per_gate = uh.view(dirs, batch, 2, hidden)  # LayerNorm of each gate, no affine
            mean = per_gate.mean(-1, keepdim=True)
            variance = (per_gate - mean).pow(2).mean(-1, keepdim=True)
            normed = (per_gate - mean) / torch.sqrt(variance + eps)
            uh = normed.view(dirs, batch, width) * ln_weight[:, None, :]
        g = gates[:, :, t] + uh
        z = torch.sigmoid(g[:, :, :hidden])
        c = torch.relu(g[:, :, hidden:]) if relu else torch.tanh(g[:, :, hidden:])
        h = c + z * (h - c)
        states.append(h)
    return torch.stack(states, 2)[:, :, 1:]


class ExportableScan:
    """`LiGRUScan.apply`'s inference contract (no dropout), as traceable ops and the loop."""

    @staticmethod
    def apply(
        wx: Tensor,
        u: Tensor,
        pad: Tensor,
        drop: Tensor | None,
        activation: str,
        ln_weight: Tensor | None,
        ln_bias: Tensor | None,
        eps: float,
    ) -> Tensor:
        hidden = wx.shape[-1] // 2
        pad = pad[None, :, :, None]
        update = wx[..., :hidden].masked_fill(pad, float("inf"))  # z = 1: state frozen
        gates = torch.cat([update, wx[..., hidden:].masked_fill(pad, 0.0)], -1)
        if ln_bias is not None:
            gates = gates + ln_bias[:, None, None, :]
        weight = wx.new_zeros(0) if ln_weight is None else ln_weight
        return ligru_states(gates, u.transpose(1, 2), activation == "relu", weight, eps)


@contextmanager
def exportable_ligru() -> Iterator[None]:
    """Li-GRU layers run `ExportableScan` while a model is exported."""
    original = ligru.LiGRUScan
    ligru.LiGRUScan = ExportableScan
    try:
        yield
    finally:
        ligru.LiGRUScan = original
