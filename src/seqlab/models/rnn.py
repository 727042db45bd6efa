"""Elman RNN, LSTM and GRU encoders on torch's fused kernels (cuDNN / oneDNN)."""

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqlab.models.base import (
    Encoder,
    EncoderOutput,
    dropout_probability,
    through_time_requested,
)
from seqlab.models.fused import (
    direction_weights,
    last_steps,
    reverse_padded,
    run_direction,
    run_fused,
    run_stepwise,
    uses_packed_sequences,
)
from seqlab.regularization.dropout import SequenceDropout

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
State = tuple[Tensor, ...]  # (h, c) for an LSTM, (h,) otherwise; each [layers, B, H]
MERGES = ("concat", "sum")


class RecurrentEncoder(Encoder):
    """Stacked, optionally bidirectional recurrent encoder that never reads padding.

    The final state is the one after the last real frame, and the reverse direction starts
    there. A unidirectional stack runs as one fused call on the padded batch (CPU) or packed
    (`uses_packed_sequences`). A bidirectional stack on the CPU runs layer by layer, each
    direction a unidirectional kernel call on the padded batch holding the module's own
    weights (`rnn.weight_ih_l0_reverse`, ...), which is as fast as torch's bidirectional kernel
    and, unlike it, exact without packing. The two directions are merged by `concat` (width 2H)
    or `sum` (width H); `states` are the per-direction states before the merge.
    With `shared_directions` both directions use one set of weights: each layer is one
    unidirectional module run once over the sequences and their length-aware reversals
    (stacked in the batch), which equals a bidirectional torch module with tied weights.

    `dropout` acts between layers. Torch's stacked module (`rnn`) receives only `dropout.p`:
    its kernel (cuDNN / oneDNN) applies inverted per-step dropout whatever `dropout.mode` and
    `.variational` say, and so does the layer-by-layer CPU run, to stay the same model.
    `shared_directions` layers are seqlab's own and apply the module itself.
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
        dropout: SequenceDropout | None = None,
    ) -> None:
        super().__init__()
        p = dropout_probability(dropout)
        check_options(cell, input_size, hidden_size, num_layers, nonlinearity, merge)
        if shared_directions and not bidirectional:
            raise ValueError("model.shared_directions=true needs model.bidirectional=true")
        extra = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
        if shared_directions:
            sizes = [input_size] + [2 * hidden_size] * (num_layers - 1)
            self.layers = nn.ModuleList(
                CELLS[cell](size, hidden_size, batch_first=True, **extra) for size in sizes
            )
            self.dropout = dropout
        else:
            self.rnn = CELLS[cell](
                input_size,
                hidden_size,
                num_layers=num_layers,
                bidirectional=bidirectional,
                dropout=p if num_layers > 1 else 0.0,
                batch_first=True,
                **extra,
            )
        self.bidirectional, self.shared_directions = bidirectional, shared_directions
        self.merge, self.hidden_size, self.num_layers = merge, hidden_size, num_layers
        self.input_size = input_size
        self.output_size = hidden_size * (2 if bidirectional and merge == "concat" else 1)

    def forward(self, inputs: Tensor, lengths: Tensor) -> EncoderOutput:
        if inputs.shape[-1] != self.input_size:
            raise ValueError(
                f"the encoder was built for {self.input_size} input features per step, "
                f"got inputs of shape {tuple(inputs.shape)}"
            )
        through_time = through_time_requested()
        layerwise = self.bidirectional and not uses_packed_sequences(inputs)
        if self.shared_directions or layerwise or through_time:
            steps, top_inputs = self._layer_by_layer(inputs, lengths)
        else:
            steps = run_fused(self.rnn, inputs, lengths)[0]
        states = steps
        if through_time:
            states = steps.detach().requires_grad_()
            steps = self._through_time(top_inputs, lengths, states)
        final = self._finals(steps, lengths)
        if not self.bidirectional:
            return EncoderOutput(steps, lengths, final, states)
        return EncoderOutput(self._merge(steps), lengths, self._merge(final), states)

    def state_refusal(self) -> str | None:
        """Why `forward_with_state` cannot run this encoder (None: it can)."""
        if self.bidirectional:
            return "model.bidirectional=true (the backward direction starts at the sequence end)"
        return None

    def forward_with_state(
        self, inputs: Tensor, lengths: Tensor, initial_state: State | None = None
    ) -> tuple[EncoderOutput, State]:
        """`forward` from `initial_state` (None: zeros), returning every layer's state after
        each sequence's last real step too: what truncated BPTT carries into the next chunk.

        Unidirectional only (`state_refusal`). Without padding the fused kernel runs on the
        padded batch; with it, packed, so no padded step moves a state.
        """
        refusal = self.state_refusal()
        if refusal is not None:
            raise ValueError(f"an initial state needs a unidirectional encoder, not {refusal}")
        hx = None if initial_state is None else initial_state
        if self.rnn.mode != "LSTM" and hx is not None:
            hx = hx[0]
        if bool((lengths == inputs.shape[1]).all()) and not uses_packed_sequences(inputs):
            outputs, state = self.rnn(inputs, hx)
        else:
            packed = pack_padded_sequence(inputs, lengths.cpu(), True, enforce_sorted=False)
            outputs, state = self.rnn(packed, hx)
            outputs = pad_packed_sequence(outputs, True, total_length=inputs.shape[1])[0]
        state = state if isinstance(state, tuple) else (state,)
        return EncoderOutput(outputs, lengths, last_steps(outputs, lengths), outputs), state

    def _layer_by_layer(self, inputs: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Top layer's states [B, T, D*H] (zero at pads) and that layer's inputs."""
        x = inputs
        for depth in range(self.num_layers):
            if depth > 0:
                x = self._drop_between_layers(x)
            layer_inputs = x
            x = self._layer(depth, x, lengths)
        return x, layer_inputs

    def _drop_between_layers(self, x: Tensor) -> Tensor:
        if self.shared_directions:
            return x if self.dropout is None else self.dropout(x)
        return F.dropout(x, self.rnn.dropout, self.training)  # as inside the fused kernel

    def _layer(self, depth: int, x: Tensor, lengths: Tensor) -> Tensor:
        """One layer, every direction, on the padded batch: [B, T, D*H]."""
        if self.shared_directions:
            batch = x.shape[0]
            both = torch.cat([x, reverse_padded(x, lengths)])
            out, _ = run_fused(self.layers[depth], both, torch.cat([lengths, lengths]))
            return torch.cat([out[:batch], reverse_padded(out[batch:], lengths)], dim=-1)
        directions = (False, True) if self.bidirectional else (False,)
        runs = []
        for reverse in directions:
            weights = direction_weights(self.rnn, depth, reverse)
            runs.append(run_direction(self.rnn, weights, x, lengths, reverse))
        return torch.cat(runs, dim=-1)

    def _finals(self, states: Tensor, lengths: Tensor) -> Tensor:
        """Forward states at the last real step beside backward states at step 0."""
        if not self.bidirectional:
            return last_steps(states, lengths)
        forward, backward = states.split(self.hidden_size, dim=-1)
        return torch.cat([last_steps(forward, lengths), backward[:, 0]], dim=-1)

    def _through_time(self, x: Tensor, lengths: Tensor, states: Tensor) -> Tensor:
        """The top layer again from its inputs `x`, step by step, each state re-entering the
        recurrence from the leaf `states` (which holds the same values): [B, T, D*H]."""
        if self.shared_directions:
            rnn, depth = self.layers[-1], 0
        else:
            rnn, depth = self.rnn, self.num_layers - 1
        runs = []
        for direction, leaf in enumerate(states.split(self.hidden_size, dim=-1)):
            weights = direction_weights(rnn, depth, direction == 1 and not self.shared_directions)
            if direction == 0:
                runs.append(run_stepwise(rnn, weights, x, lengths, leaf))
                continue
            reversed_run = run_stepwise(
                rnn, weights, reverse_padded(x, lengths), lengths, reverse_padded(leaf, lengths)
            )
            runs.append(reverse_padded(reversed_run, lengths))
        return torch.cat(runs, dim=-1)

    def _merge(self, both: Tensor) -> Tensor:
        """[..., 2H] forward|backward features -> [..., 2H] (concat) or [..., H] (sum)."""
        if self.merge == "concat":
            return both
        forward, backward = both.split(self.hidden_size, dim=-1)
        return forward + backward


def check_options(
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int,
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
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"model.nonlinearity must be tanh or relu, got {nonlinearity!r}")
    if merge not in MERGES:
        raise ValueError(f"model.merge must be one of {MERGES}, got {merge!r}")
