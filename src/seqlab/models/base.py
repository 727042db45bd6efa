"""The contract every encoder keeps, so any head or task can sit on any encoder."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple

from torch import Tensor, nn

from seqlab.regularization.dropout import SequenceDropout

_THROUGH_TIME: ContextVar[bool] = ContextVar("states_through_time", default=False)


class EncoderOutput(NamedTuple):
    """What an encoder returns.

    outputs: [B, T', H] per-step features, exactly zero at padded steps.
    lengths: [B] long on the CPU, the valid steps of `outputs` (after any downsampling).
    final:   [B, H] one vector per sequence, read at each sequence's true last step.
    states:  [B, T', dirs*H] or None: the top recurrent layer's hidden state after every step,
             forward|backward directions concatenated, zero at padding, in the autograd graph
             (the tensor `outputs` is computed from). Under `states_through_time()` the
             recurrence itself reads them, so d loss / d states is the gradient through time.
    """

    outputs: Tensor
    lengths: Tensor
    final: Tensor
    states: Tensor | None = None


class Encoder(nn.Module):
    """Maps padded inputs [B, T, D] and their lengths to an `EncoderOutput`."""

    input_size: int
    output_size: int

    def forward(self, inputs: Tensor, lengths: Tensor) -> EncoderOutput:  # pragma: no cover
        raise NotImplementedError


@contextmanager
def states_through_time() -> Iterator[None]:
    """Within this block encoders return `states` that their own recurrence reads.

    A fused kernel (or Li-GRU's scan) keeps the step-to-step path inside one op, so the
    gradient w.r.t. its output holds only what the heads read at each step. Probes such as the
    gradient-flow callback need the whole d loss / d h_t, and pay for it here: encoders first
    compute the states, then run the top layer step by step with each state re-entering the
    recurrence through `inject` (the same values, so outputs and losses are unchanged).
    Meant for probes in eval mode: in training the second run of the top layer would draw
    new dropout masks (and Li-GRU's BatchNorm would count the batch twice).
    """
    token = _THROUGH_TIME.set(True)
    try:
        yield
    finally:
        _THROUGH_TIME.reset(token)


def through_time_requested() -> bool:
    """True inside `states_through_time()`."""
    return _THROUGH_TIME.get()


def inject(computed: Tensor, states: Tensor) -> Tensor:
    """`computed` in value, plus an identity path from the leaf `states` (same shape).

    computed + (states - states.detach()) is exactly `computed` (the difference is exactly
    zero), while d/d states is the identity: what flows on from `computed` reaches `states`.
    """
    return computed + (states - states.detach())


def dropout_probability(dropout: SequenceDropout | None) -> float:
    """p of an encoder's between-layer dropout (0 when off); refuses anything else by name."""
    if dropout is None:
        return 0.0
    if not isinstance(dropout, SequenceDropout):
        raise TypeError(
            "an encoder's dropout (from regularizer.dropout with layers=true) must be a "
            f"SequenceDropout or None, got {type(dropout).__name__} {dropout!r}"
        )
    return dropout.p
