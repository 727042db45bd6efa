"""Light GRU (Ravanelli et al. 2018): two gates, ReLU candidate, normalised input projections.

    z_t  = sigmoid(N(W_z x_t) + U_z h_{t-1})
    h~_t = ReLU(N(W_h x_t) + U_h h_{t-1})
    h_t  = z_t * h_{t-1} + (1 - z_t) * h~_t

N is BatchNorm over real frames (default), a per-gate LayerNorm, or nothing. With
`recurrent_layernorm`, U h is layer-normalised per gate too (the stabilised SLi-GRU).
The time loop runs in `LiGRUScan`, whose backward is written by hand; traced for export, in
`traced_scan`.
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.models.base import (
    Encoder,
    EncoderOutput,
    dropout_probability,
    through_time_requested,
)
from seqlab.models.ligru_scan import ACTIVATIONS, LiGRUScan, traced_scan
from seqlab.models.norm import MaskedBatchNorm
from seqlab.regularization.dropout import SequenceDropout

NORMALIZATIONS = ("batchnorm", "layernorm", "none")


def gate_linear(in_features: int, hidden_size: int, bias: bool) -> nn.Linear:
    """A Linear packing the update gate and the candidate rows: [2H, in_features].

    `gates_per_weight` tells init schemes to treat each [H, in_features] block as a matrix.
    """
    linear = nn.Linear(in_features, 2 * hidden_size, bias=bias)
    linear.gates_per_weight = 2
    return linear


def recurrent_gate_linear(hidden_size: int) -> nn.Linear:
    """U: [2H, H] without bias, each gate's [H, H] block orthogonal.

    `recurrent_weights` tells init schemes that this matrix is hidden-to-hidden.
    """
    linear = gate_linear(hidden_size, hidden_size, bias=False)
    linear.recurrent_weights = ("weight",)
    with torch.no_grad():
        for block in linear.weight.chunk(linear.gates_per_weight, dim=0):
            nn.init.orthogonal_(block)
    return linear


class GateLayerNorm(nn.Module):
    """LayerNorm of each gate's H units separately, with a per-unit affine over all gates."""

    def __init__(self, num_gates: int, hidden_size: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_gates, self.hidden_size, self.eps = num_gates, hidden_size, eps
        self.weight = nn.Parameter(torch.ones(num_gates * hidden_size))
        self.bias = nn.Parameter(torch.zeros(num_gates * hidden_size))

    def forward(self, x: Tensor) -> Tensor:
        shape = x.shape
        gates = x.view(*shape[:-1], self.num_gates, self.hidden_size)
        normed = F.layer_norm(gates, [self.hidden_size], eps=self.eps).view(shape)
        return normed * self.weight + self.bias


def check_options(
    hidden_size: int, normalization: str, recurrent_dropout: float, nonlinearity: str
) -> None:
    if hidden_size <= 0:
        raise ValueError(f"model.hidden_size must be > 0, got {hidden_size}")
    if normalization not in NORMALIZATIONS:
        raise ValueError(
            f"model.normalization must be one of {NORMALIZATIONS}, got {normalization!r}"
        )
    if not 0.0 <= recurrent_dropout < 1.0:
        raise ValueError(f"model.recurrent_dropout must be in [0, 1), got {recurrent_dropout}")
    if nonlinearity not in ACTIVATIONS:
        raise ValueError(f"model.nonlinearity must be one of {ACTIVATIONS}, got {nonlinearity!r}")


def reverse_within_lengths(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse each sequence of [B, T, ...] within its length; padding stays at the end."""
    steps = x.shape[1]
    t = torch.arange(steps, device=x.device)
    lengths = lengths.to(x.device)[:, None]
    index = torch.where(t < lengths, lengths - 1 - t, t)
    index = index.view(*index.shape, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, index)


class LiGRULayer(nn.Module):
    """One Li-GRU layer, both directions run in the same loop (batched over directions)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bidirectional: bool,
        normalization: str,
        recurrent_layernorm: bool,
        recurrent_dropout: float,
        nonlinearity: str,
    ) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.directions = 2 if bidirectional else 1
        self.recurrent_dropout = recurrent_dropout
        self.nonlinearity = nonlinearity
        width = self.directions * 2 * hidden_size
        bias = normalization == "none"
        self.input_projections = nn.ModuleList(
            gate_linear(input_size, hidden_size, bias) for _ in range(self.directions)
        )
        self.recurrent = nn.ModuleList(
            recurrent_gate_linear(hidden_size) for _ in range(self.directions)
        )
        if normalization == "batchnorm":
            self.norm: nn.Module | None = MaskedBatchNorm(width)
        elif normalization == "layernorm":
            self.norm = GateLayerNorm(2 * self.directions, hidden_size)
        else:
            self.norm = None
        self.recurrent_norm = (
            GateLayerNorm(2 * self.directions, hidden_size) if recurrent_layernorm else None
        )

    def project(self, inputs: Tensor, mask: Tensor) -> Tensor:
        """Normalised input projections of every step of every direction: [B, T, Dirs*2H]."""
        weight = torch.cat([p.weight for p in self.input_projections])
        biases = [p.bias for p in self.input_projections]
        bias = None if biases[0] is None else torch.cat(biases)
        projected = F.linear(inputs, weight, bias)
        if isinstance(self.norm, MaskedBatchNorm):
            return self.norm(projected, mask)
        return projected if self.norm is None else self.norm(projected)

    def forward(
        self, inputs: Tensor, lengths: Tensor, mask: Tensor, states: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Outputs [B, T, Dirs*H] (zero at padding) and final states [B, Dirs*H].

        `states` [B, T, Dirs*H], a leaf holding this layer's outputs, makes the recurrence read
        them (see `LiGRUScan`'s probe): d loss / d states is the gradient through time.
        """
        batch, steps, _ = inputs.shape
        dirs, hidden = self.directions, self.hidden_size
        projected = self.project(inputs, mask).view(batch, steps, dirs, 2 * hidden)
        if dirs == 1:
            wx = projected.permute(2, 0, 1, 3)
        else:
            backward = reverse_within_lengths(projected[:, :, 1], lengths)
            wx = torch.stack([projected[:, :, 0], backward])
        u = torch.stack([r.weight for r in self.recurrent])
        drop = None
        if self.training and self.recurrent_dropout > 0:
            keep = 1.0 - self.recurrent_dropout
            drop = torch.bernoulli(u.new_full((dirs, batch, hidden), keep)) / keep
        ln_weight = ln_bias = None
        eps = 0.0
        if self.recurrent_norm is not None:
            ln_weight = self.recurrent_norm.weight.view(dirs, 2 * hidden)
            ln_bias = self.recurrent_norm.bias.view(dirs, 2 * hidden)
            eps = self.recurrent_norm.eps
        probe = () if states is None else (self.time_major(states, lengths),)
        # the recurrence runs in the weights' precision, also under mixed-precision autocast
        with torch.autocast(inputs.device.type, enabled=False):
            wx, pad = wx.to(u.dtype), ~mask
            if torch.jit.is_tracing():  # exporting: a loop over any number of steps
                states = traced_scan(wx, u, pad, self.nonlinearity, ln_weight, ln_bias, eps)
            else:
                states = LiGRUScan.apply(
                    wx, u, pad, drop, self.nonlinearity, ln_weight, ln_bias, eps, *probe
                )
        final = states[:, :, -1].transpose(0, 1).reshape(batch, dirs * hidden)
        if dirs == 1:
            return states[0] * mask[..., None], final
        backward = reverse_within_lengths(states[1], lengths)
        return torch.cat([states[0], backward], -1) * mask[..., None], final

    def time_major(self, states: Tensor, lengths: Tensor) -> Tensor:
        """[B, T, Dirs*H] outputs -> [Dirs, B, T, H] in each direction's own reading order."""
        directions = list(states.split(self.hidden_size, dim=-1))
        if self.directions == 2:
            directions[1] = reverse_within_lengths(directions[1], lengths)
        return torch.stack(directions)


class LiGRU(Encoder):
    """Stacked, optionally bidirectional Li-GRU encoder that never reads padding.

    The reverse direction starts at each sequence's true last frame; `final` is the forward
    state after the last real frame beside the reverse state at frame 0. `states` are the top
    layer's h_t (the outputs). `dropout` (None: off) acts between layers, with its own mode
    and variational masks.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int = 128,
        num_layers: int = 1,
        bidirectional: bool = False,
        normalization: str = "batchnorm",
        recurrent_layernorm: bool = False,
        recurrent_dropout: float = 0.0,
        nonlinearity: str = "relu",
        dropout: SequenceDropout | None = None,
    ) -> None:
        super().__init__()
        if input_size <= 0:
            raise ValueError(f"the encoder's input_size must be > 0, got {input_size}")
        if num_layers <= 0:
            raise ValueError(f"model.num_layers must be > 0, got {num_layers}")
        dropout_probability(dropout)
        check_options(hidden_size, normalization, recurrent_dropout, nonlinearity)
        directions = 2 if bidirectional else 1
        self.layers = nn.ModuleList(
            LiGRULayer(
                input_size if i == 0 else directions * hidden_size,
                hidden_size,
                bidirectional,
                normalization,
                recurrent_layernorm,
                recurrent_dropout,
                nonlinearity,
            )
            for i in range(num_layers)
        )
        self.dropout = dropout
        self.input_size = input_size
        self.output_size = directions * hidden_size

    def forward(self, inputs: Tensor, lengths: Tensor) -> EncoderOutput:
        steps = inputs.shape[1]
        mask = torch.arange(steps, device=inputs.device) < lengths.to(inputs.device)[:, None]
        outputs = inputs
        for i, layer in enumerate(self.layers):
            if i > 0 and self.dropout is not None:
                outputs = self.dropout(outputs)
            top_inputs = outputs
            outputs, final = layer(outputs, lengths, mask)
        states = outputs
        if through_time_requested():  # the top layer again, reading its states as a leaf
            states = outputs.detach().requires_grad_()
            outputs, final = self.layers[-1](top_inputs, lengths, mask, states)
        return EncoderOutput(outputs, lengths, final, states)


class LiGRUCell(nn.Module):
    """One Li-GRU step for decoders: forward(x_t [B, D], h [B, H]) -> h [B, H].

    No BatchNorm here (a decoder's steps arrive one at a time): `normalization` is
    layernorm (per gate) or none.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        normalization: str = "layernorm",
        recurrent_layernorm: bool = False,
        nonlinearity: str = "relu",
    ) -> None:
        super().__init__()
        check_options(hidden_size, normalization, 0.0, nonlinearity)
        if normalization == "batchnorm":
            raise ValueError("LiGRUCell normalization must be layernorm or none, got 'batchnorm'")
        self.hidden_size = hidden_size
        self.input_projection = gate_linear(input_size, hidden_size, normalization == "none")
        self.recurrent = recurrent_gate_linear(hidden_size)
        self.norm = GateLayerNorm(2, hidden_size) if normalization == "layernorm" else None
        self.recurrent_norm = GateLayerNorm(2, hidden_size) if recurrent_layernorm else None
        self.activation = torch.relu if nonlinearity == "relu" else torch.tanh

    def forward(self, x: Tensor, h: Tensor) -> Tensor:
        wx = self.input_projection(x)
        uh = self.recurrent(h)
        if self.norm is not None:
            wx = self.norm(wx)
        if self.recurrent_norm is not None:
            uh = self.recurrent_norm(uh)
        gz, gh = (wx + uh).chunk(2, dim=-1)
        z = torch.sigmoid(gz)
        return z * h + (1 - z) * self.activation(gh)
