"""Elman RNN, LSTM and GRU encoders on torch's fused kernels (cuDNN / oneDNN)."""

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqlab.models.base import Encoder, EncoderOutput

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
MERGES = ("concat", "sum")


def reverse_padded(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse each sequence of `x` [B, T, D] within its true length; padding stays in place.

    An involution: applying it twice gives `x` back.
    """
    steps = torch.arange(x.shape[1], device=x.device)
    last = lengths.to(x.device)[:, None] - 1
    index = torch.where(steps[None] <= last, last - steps[None], steps[None])
    return x.gather(1, index[:, :, None].expand_as(x))


class RecurrentEncoder(Encoder):
    """Stacked, optionally bidirectional recurrent encoder that never reads padding.

    The fused kernel never reads padding (`run_fused`): the final state is the one after the
    last real frame, and the reverse direction starts there.
    The two directions are merged by `concat` (width 2H) or `sum` (width H). With
    `shared_directions` both directions use one set of weights: each layer is one
    unidirectional fused module run once over the sequences and their length-aware reversals
    (stacked in the batch), which equals a bidirectional torch module with tied weights.
    """

    def __init__(
        self,
        input_size: int,
        cell: str = "lstm",
        hidden_size: int = 128,
        num_layers: int = 1,
        bidirectional: bool = False,
        merge: str = "concat",
        shared_directions: bool = False,
        nonlinearity: str = "tanh",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        check_options(cell, input_size, hidden_size, num_layers, dropout, nonlinearity, merge)
        if shared_directions and not bidirectional:
            raise ValueError("model.shared_directions=true needs model.bidirectional=true")
        extra = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
        if shared_directions:
            sizes = [input_size] + [2 * hidden_size] * (num_layers - 1)
            self.layers = nn.ModuleList(
                CELLS[cell](size, hidden_size, batch_first=True, **extra) for size in sizes
            )
        else:
            self.rnn = CELLS[cell](
                input_size,
                hidden_size,
                num_layers=num_layers,
                bidirectional=bidirectional,
                dropout=dropout if num_layers > 1 else 0.0,
                batch_first=True,
                **extra,
            )
        self.bidirectional, self.shared_directions = bidirectional, shared_directions
        self.merge, self.dropout, self.hidden_size = merge, dropout, hidden_size
        self.input_size = input_size
        self.output_size = hidden_size * (2 if bidirectional and merge == "concat" else 1)

    def forward(self, inputs: Tensor, lengths: Tensor) -> EncoderOutput:
        if inputs.shape[-1] != self.input_size:
            raise ValueError(
                f"the encoder was built for {self.input_size} input features per step, "
                f"got inputs of shape {tuple(inputs.shape)}"
            )
        if self.shared_directions:
            outputs, final = self._shared(inputs, lengths)
        else:
            outputs, final = self._fused(inputs, lengths)
        if self.bidirectional:
            outputs, final = self._merge(outputs), self._merge(final)
        return EncoderOutput(outputs, lengths, final)

    def _fused(self, inputs: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Torch's own (bi)directional stack; outputs [B, T, D*H], final [B, D*H]."""
        return run_fused(self.rnn, inputs, lengths)

    def _shared(self, inputs: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Both directions through the same weights, layer by layer, as a batch of 2B."""
        batch = inputs.shape[0]
        both_lengths = torch.cat([lengths, lengths])
        x = inputs
        for depth, layer in enumerate(self.layers):
            if depth > 0:
                x = nn.functional.dropout(x, self.dropout, self.training)
            both = torch.cat([x, reverse_padded(x, lengths)])
            out, final = run_fused(layer, both, both_lengths)
            forward, backward = out[:batch], reverse_padded(out[batch:], lengths)
            x = torch.cat([forward, backward], dim=-1)
        return x, torch.cat([final[:batch], final[batch:]], dim=-1)

    def _merge(self, both: Tensor) -> Tensor:
        """[..., 2H] forward|backward features -> [..., 2H] (concat) or [..., H] (sum)."""
        if self.merge == "concat":
            return both
        forward, backward = both.split(self.hidden_size, dim=-1)
        return forward + backward


def run_fused(rnn: nn.RNNBase, inputs: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
    """Run a fused module without reading padding: outputs (zero at pads) and the top layer's
    final state per direction, concatenated [B, D*H].

    A unidirectional module on the CPU runs on the padded tensor itself: the recurrence is
    causal, so real steps never see the padding after them, and oneDNN's kernel is several
    times faster than its packed path (bench/rnn_speed.py). Otherwise (reverse direction, or
    cuDNN, which is fast on packed input) the sequences are packed.
    """
    if runs_unpacked(rnn, inputs):
        outputs, _ = rnn(inputs)
        lengths = lengths.to(inputs.device)
        steps = torch.arange(inputs.shape[1], device=inputs.device)
        outputs = outputs * (steps[None, :] < lengths[:, None])[..., None]
        rows = torch.arange(inputs.shape[0], device=inputs.device)
        return outputs, outputs[rows, lengths - 1]
    packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
    packed_out, state = rnn(packed)
    outputs, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=inputs.shape[1])
    h_n = state[0] if isinstance(state, tuple) else state
    directions = 2 if rnn.bidirectional else 1
    return outputs, torch.cat(list(h_n[-directions:]), dim=-1)


def runs_unpacked(rnn: nn.RNNBase, inputs: Tensor) -> bool:
    """Unidirectional on the CPU, except under float16 autocast, where oneDNN has no padded
    LSTM primitive (the packed path works)."""
    half = torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.float16
    return not rnn.bidirectional and inputs.device.type == "cpu" and not half


def check_options(
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int,
    dropout: float,
    nonlinearity: str,
    merge: str,
) -> None:
    """Reject bad options before any weight is built, naming the config key."""
    if cell not in CELLS:
        raise ValueError(f"model.cell must be one of {sorted(CELLS)}, got {cell!r}")
    if input_size <= 0:
        raise ValueError(f"the encoder's input_size must be > 0, got {input_size}")
    if hidden_size <= 0:
        raise ValueError(f"model.hidden_size must be > 0, got {hidden_size}")
    if num_layers <= 0:
        raise ValueError(f"model.num_layers must be > 0, got {num_layers}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(
            f"dropout between layers (regularizer.dropout.p) must be in [0, 1), got {dropout}"
        )
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"model.nonlinearity must be tanh or relu, got {nonlinearity!r}")
    if merge not in MERGES:
        raise ValueError(f"model.merge must be one of {MERGES}, got {merge!r}")
