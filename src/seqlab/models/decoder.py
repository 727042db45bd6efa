"""Recurrent decoder that emits one symbol per step while attending to the encoder.

The recurrent cell is chosen from `DECODER_CELLS`, a registry of factories
`(input_size, hidden_size) -> DecoderCell`. A cell with the `forward(x_t, h) -> h` contract
(GRU, Li-GRU) plugs in through `HiddenStateCell`.
"""

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor, nn

from seqlab.models.attention import Memory, make_attention
from seqlab.models.base import EncoderOutput
from seqlab.models.ligru import LiGRUCell

State = tuple[Tensor, ...]


class DecoderCell(nn.Module):
    """One recurrent step on a state tuple whose first tensor is the hidden output [B, H]."""

    def initial_state(self, hidden: Tensor) -> State:
        raise NotImplementedError

    def forward(self, x: Tensor, state: State) -> State:  # pragma: no cover
        raise NotImplementedError


class HiddenStateCell(DecoderCell):
    """Adapts any cell with `forward(x_t, h) -> h` (GRUCell, Li-GRU) to `DecoderCell`."""

    def __init__(self, cell: nn.Module) -> None:
        super().__init__()
        self.cell = cell

    def initial_state(self, hidden: Tensor) -> State:
        return (hidden,)

    def forward(self, x: Tensor, state: State) -> State:
        return (self.cell(x, state[0]),)


class LSTMDecoderCell(DecoderCell):
    """LSTM step; the projected encoder vector starts h, the memory cell starts at zero."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.cell = nn.LSTMCell(input_size, hidden_size)

    def initial_state(self, hidden: Tensor) -> State:
        return hidden, torch.zeros_like(hidden)

    def forward(self, x: Tensor, state: State) -> State:
        return self.cell(x, state)


DECODER_CELLS: dict[str, Callable[[int, int], DecoderCell]] = {
    "lstm": LSTMDecoderCell,
    "gru": lambda input_size, hidden_size: HiddenStateCell(nn.GRUCell(input_size, hidden_size)),
    "ligru": lambda input_size, hidden_size: HiddenStateCell(LiGRUCell(input_size, hidden_size)),
}


class DecoderState(NamedTuple):
    """Everything that changes from one output step to the next (reordered by beam search)."""

    cell: State
    context: Tensor  # [B, K] attention context of the previous step (input feeding)

    def select(self, rows: Tensor) -> "DecoderState":
        return DecoderState(tuple(s[rows] for s in self.cell), self.context[rows])


class StepOutput(NamedTuple):
    logits: Tensor  # [B, V]
    state: DecoderState
    weights: Tensor  # [B, T] attention weights over encoder steps


class AttentionDecoder(nn.Module):
    """Embedding of the previous symbol + previous context -> cell -> attention -> logits.

    Luong-style output: logits = W_out tanh(W_c [h_t; c_t]); the context is also fed to the
    next step's input (input feeding), so the decoder knows where it looked before.
    """

    def __init__(
        self,
        vocab_size: int,
        encoder_size: int,
        cell: str = "lstm",
        hidden_size: int = 256,
        embedding_dim: int = 64,
        attention: str = "additive",
        attention_size: int = 128,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if cell not in DECODER_CELLS:
            raise ValueError(f"decoder.cell must be one of {sorted(DECODER_CELLS)}, got {cell!r}")
        for key, value in (("hidden_size", hidden_size), ("embedding_dim", embedding_dim)):
            if value <= 0:
                raise ValueError(f"decoder.{key} must be > 0, got {value}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"decoder.dropout must be in [0, 1), got {dropout}")
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.bridge = nn.Linear(encoder_size, hidden_size)
        self.cell = DECODER_CELLS[cell](embedding_dim + encoder_size, hidden_size)
        self.attention = make_attention(attention, hidden_size, encoder_size, attention_size)
        self.combine = nn.Linear(hidden_size + encoder_size, hidden_size)
        self.out = nn.Linear(hidden_size, vocab_size)
        self.dropout = nn.Dropout(dropout)

    def start(self, encoded: EncoderOutput) -> tuple[Memory, DecoderState]:
        """Attention memory and the first state, from the encoder's steps and final vector."""
        steps = torch.arange(encoded.outputs.shape[1], device=encoded.outputs.device)
        mask = steps[None, :] < encoded.lengths.to(encoded.outputs.device)[:, None]
        memory = self.attention.prepare(encoded.outputs, mask)
        hidden = torch.tanh(self.bridge(encoded.final))
        context = encoded.outputs.new_zeros(encoded.outputs.shape[0], encoded.outputs.shape[2])
        return memory, DecoderState(self.cell.initial_state(hidden), context)

    def step(self, previous: Tensor, state: DecoderState, memory: Memory) -> StepOutput:
        """One output step given the previous symbols [B] (long)."""
        x = torch.cat([self.dropout(self.embedding(previous)), state.context], dim=-1)
        cell_state = self.cell(x, state.cell)
        hidden = cell_state[0]
        context, weights = self.attention(hidden, memory)
        attended = torch.tanh(self.combine(torch.cat([hidden, context], dim=-1)))
        logits = self.out(self.dropout(attended))
        return StepOutput(logits, DecoderState(cell_state, context), weights)
