"""Model room: encoders, attention, decoders and heads. They see tensors and lengths only."""

from seqlab.models.base import Encoder, EncoderOutput
from seqlab.models.rnn import RecurrentEncoder

__all__ = ["Encoder", "EncoderOutput", "RecurrentEncoder"]
