"""The Li-GRU time loop as one autograd node, with back-propagation through time by hand.

Autograd would record about ten nodes per time step; here the forward runs under no_grad and
keeps only the states and the activated gates, and the backward runs, per step, one
[B, 2H] x [2H, H] matrix product and a few fused elementwise kernels (sigmoid_backward,
threshold_backward) on [B, H] slices. Weight gradients are one matrix product over all steps
after the loop. Buffers are batch-major, so no layout copies are needed around the loop.

Padded steps need no mask inside the loop: their update-gate pre-activation is set to +inf,
so z = 1 exactly and `lerp(c, h, z)` returns h exactly (the state is frozen), and every
gradient through such a step is exactly zero except the one carried along the frozen state.
"""

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable

ACTIVATIONS = ("relu", "tanh")


def frozen_padding(wx: Tensor, pad: Tensor, ln_bias: Tensor | None) -> Tensor:
    """The pre-activations [Dirs, B, T, 2H] to run, a new contiguous tensor: at padded steps
    the update gate is +inf (z = 1: the state is kept exactly) and the candidate 0; plus the
    bias of the recurrent LayerNorm when it is on."""
    hidden = wx.shape[-1] // 2
    pad = pad[None, :, :, None]
    update = wx[..., :hidden].masked_fill(pad, float("inf"))
    gates = torch.cat([update, wx[..., hidden:].masked_fill(pad, 0.0)], -1)
    return gates if ln_bias is None else gates + ln_bias[:, None, None, :]


def _layer_norm_stats(uh: Tensor, eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """Per-gate LayerNorm of U h [.., 2H] without affine: (normalised, mean, rstd)."""
    shape = uh.shape
    normed, mean, rstd = torch.native_layer_norm(
        uh.view(*shape[:-1], 2, shape[-1] // 2), [shape[-1] // 2], None, None, eps
    )
    return normed.view(shape), mean, rstd


class LiGRUScan(torch.autograd.Function):
    """h_t = z_t h_{t-1} + (1 - z_t) c_t over all steps of pre-activations computed beforehand.

    wx:    [Dirs, B, T, 2H] normalised input projections (update gate first, candidate second).
    u:     [Dirs, 2H, H] recurrent weights (nn.Linear layout, one per direction).
    pad:   [B, T] bool, True at padded steps (padding at the end of every sequence).
    drop:  [Dirs, B, H] recurrent dropout mask on the candidate, fixed over time, or None.
    ln_weight, ln_bias: [Dirs, 2H] affine of the per-gate LayerNorm on U h, or None (off).
    probe: [Dirs, B, T, H] or absent: added to each state before the next step reads it, as
           an exact zero (its values are ignored); its gradient is the whole d loss / d h_t
           through time, zero at padded steps (what `states_through_time()` asks for).
    Returns [Dirs, B, T, H]: the state after each step (frozen over padded steps).
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: FunctionCtx,
        wx: Tensor,
        u: Tensor,
        pad: Tensor,
        drop: Tensor | None,
        activation: str,
        ln_weight: Tensor | None,
        ln_bias: Tensor | None,
        eps: float,
        probe: Tensor | None = None,
    ) -> Tensor:
        dirs, batch, steps, gates_width = wx.shape
        hidden = gates_width // 2
        gates = frozen_padding(wx, pad, ln_bias)
        layer_norm = ln_weight is not None
        if layer_norm:
            gamma = ln_weight[:, None, :]
            uhs = wx.new_empty(steps, dirs, batch, gates_width)  # time-major: contiguous steps
            stats: list[tuple[Tensor, Tensor]] = []
        hs = wx.new_zeros(dirs, batch, steps + 1, hidden)
        activate = torch.relu_ if activation == "relu" else torch.tanh_
        ut = u.transpose(1, 2).contiguous()  # a transposed operand takes BLAS's slow path
        states = hs.unbind(2)
        for t, g in enumerate(gates.unbind(2)):
            if layer_norm:
                uh = torch.bmm(states[t], ut, out=uhs[t])
                normed, mean, rstd = _layer_norm_stats(uh, eps)
                stats.append((mean, rstd))
                g.addcmul_(normed, gamma)
            else:
                g.baddbmm_(states[t], ut)
            z = g[..., :hidden].sigmoid_()
            c = activate(g[..., hidden:])
            if drop is not None:
                c = c * drop
            torch.lerp(c, states[t], z, out=states[t + 1])
        saved = [hs, gates, u, drop if drop is not None else wx.new_empty(0)]
        if layer_norm:
            means, rstds = (torch.stack(s) for s in zip(*stats, strict=True))
            saved += [ln_weight, uhs, means, rstds]
        ctx.save_for_backward(*saved)
        ctx.activation, ctx.has_drop, ctx.layer_norm, ctx.eps = (
            activation,
            drop is not None,
            layer_norm,
            eps,
        )
        ctx.probed = probe is not None
        if ctx.probed:
            ctx.real = ~pad[:, :, None]
        return hs[:, :, 1:]

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad_hs: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        hs, gates, u, drop, *ln_saved = ctx.saved_tensors
        dirs, batch, steps, gates_width = gates.shape
        hidden = gates_width // 2
        relu = ctx.activation == "relu"
        aten = torch.ops.aten
        grad_gates = torch.empty_like(gates)
        grad_uh = torch.empty_like(gates) if ctx.layer_norm else grad_gates
        if ctx.layer_norm:
            ln_weight, uhs, means, rstds = ln_saved
            gamma = ln_weight[:, None, :]
        states, incoming = hs.unbind(2), grad_hs.unbind(2)
        grad_h = incoming[-1].clone()
        grad_probe = torch.zeros_like(grad_hs) if ctx.probed else None
        for t in range(steps - 1, -1, -1):
            if grad_probe is not None:
                grad_probe[:, :, t] = grad_h  # all of d loss / d h_t: later steps are done
            gate = gates[:, :, t]
            z, act = gate[..., :hidden], gate[..., hidden:]
            dg = grad_gates[:, :, t]
            c = act * drop if ctx.has_drop else act
            # update gate: dh/dz = h_{t-1} - c; sigmoid_backward multiplies by z (1 - z)
            aten.sigmoid_backward.grad_input(
                grad_h * (states[t] - c), z, grad_input=dg[..., :hidden]
            )
            carried = grad_h * z
            grad_c = grad_h - carried  # dh/dc = 1 - z
            if ctx.has_drop:
                grad_c *= drop
            if relu:
                aten.threshold_backward.grad_input(grad_c, act, 0, grad_input=dg[..., hidden:])
            else:
                aten.tanh_backward.grad_input(grad_c, act, grad_input=dg[..., hidden:])
            if ctx.layer_norm:
                duh = aten.native_layer_norm_backward(
                    (dg * gamma).view(dirs, batch, 2, hidden),
                    uhs[t].view(dirs, batch, 2, hidden),
                    [hidden],
                    means[t],
                    rstds[t],
                    None,
                    None,
                    [True, False, False],
                )[0]
                grad_uh[:, :, t] = duh.view(dirs, batch, gates_width)
                dg = grad_uh[:, :, t]
            if t == 0:
                break
            grad_h = carried.add_(incoming[t - 1]).baddbmm_(dg, u)
        grad_u = torch.bmm(
            grad_uh.view(dirs, batch * steps, gates_width).transpose(1, 2),
            hs[:, :, :-1].reshape(dirs, batch * steps, hidden),
        )
        grad_ln_weight = grad_ln_bias = None
        if ctx.layer_norm:
            normed = _layer_norm_stats(uhs, ctx.eps)[0].permute(1, 2, 0, 3)
            grad_ln_weight = (grad_gates * normed).sum((1, 2))
            grad_ln_bias = grad_gates.sum((1, 2))
        grads = (grad_gates, grad_u, None, None, None, grad_ln_weight, grad_ln_bias, None)
        return grads if grad_probe is None else (*grads, grad_probe * ctx.real)


def traced_scan(
    wx: Tensor,
    u: Tensor,
    pad: Tensor,
    activation: str,
    ln_weight: Tensor | None,
    ln_bias: Tensor | None,
    eps: float,
) -> Tensor:
    """`LiGRUScan.apply` for inference (no dropout, no probe) as a TorchScript loop, which
    tracing (ONNX, `torch.jit.trace`) keeps as a loop over any number of steps, where the
    Python loop would be unrolled to the traced length."""
    weight = wx.new_zeros(0) if ln_weight is None else ln_weight
    gates = frozen_padding(wx, pad, ln_bias)
    loop = torch.jit.script(states_loop)  # compiled at the first export (torch caches it)
    return loop(gates, u.transpose(1, 2), activation == "relu", weight, eps)


def states_loop(gates: Tensor, ut: Tensor, relu: bool, ln_weight: Tensor, eps: float) -> Tensor:
    """States [Dirs, B, T, H] of h_t = lerp(c_t, h_{t-1}, z_t) over pre-activations `gates`
    (from `frozen_padding`), `ut` = U transposed [Dirs, H, 2H]; an empty `ln_weight` means no
    LayerNorm on U h."""
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
