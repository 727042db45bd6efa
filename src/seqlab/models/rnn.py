"""Elman RNN, LSTM and GRU encoders on torch's fused kernels (cuDNN / oneDNN)."""

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqlab.models.base import Encoder, EncoderOutput

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentEncoder(Encoder):
    """Stacked, optionally bidirectional recurrent encoder that never reads padding.

    Sequences are packed, so the fused kernel stops at each sequence's true end: the final
    state is the one after the last real frame, and the reverse direction starts there.
    """

    def __init__(
        self,
        input_size: int,
        cell: str = "lstm",
        hidden_size: int = 128,
        num_layers: int = 1,
        bidirectional: bool = False,
        nonlinearity: str = "tanh",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"model.cell must be one of {sorted(CELLS)}, got {cell!r}")
        if input_size <= 0:
            raise ValueError(f"the encoder's input_size must be > 0, got {input_size}")
        if hidden_size <= 0:
            raise ValueError(f"model.hidden_size must be > 0, got {hidden_size}")
        if num_layers <= 0:
            raise ValueError(f"model.num_layers must be > 0, got {num_layers}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout between layers must be in [0, 1), got {dropout}")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"model.nonlinearity must be tanh or relu, got {nonlinearity!r}")
        extra = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
        self.rnn = CELLS[cell](
            input_size,
            hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
            batch_first=True,
            **extra,
        )
        self.input_size = input_size
        self.output_size = hidden_size * (2 if bidirectional else 1)

    def forward(self, inputs: Tensor, lengths: Tensor) -> EncoderOutput:
        packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
        packed_out, state = self.rnn(packed)
        outputs, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=inputs.shape[1])
        h_n = state[0] if isinstance(state, tuple) else state
        directions = 2 if self.rnn.bidirectional else 1
        final = torch.cat(list(h_n[-directions:]), dim=-1)
        return EncoderOutput(outputs, lengths, final)
