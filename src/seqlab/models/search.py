"""Batched greedy and beam-search decoding for `AttentionDecoder`.

Both run until every sequence has emitted `<eos>` or `max_length` symbols. Finished
sequences emit padding (id 0) from then on, so the returned [B, L] tensors read like padded
targets: symbols, then `<eos>` (if it came within the limit), then zeros.
"""

from typing import NamedTuple

import torch
from torch import Tensor

from seqlab.models.attention import Memory
from seqlab.models.decoder import AttentionDecoder, DecoderState

PAD, BOS, EOS = 0, 1, 2


class Decoded(NamedTuple):
    tokens: Tensor  # [B, L] long: symbols, <eos>, then padding
    weights: Tensor | None  # [B, L, T] attention weights (greedy only)


def _log_probs(logits: Tensor) -> Tensor:
    """Log-probabilities with padding and <bos> ruled out: neither is ever a real output."""
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    log_probs[:, PAD] = float("-inf")
    log_probs[:, BOS] = float("-inf")
    return log_probs


def greedy_decode(
    decoder: AttentionDecoder, memory: Memory, state: DecoderState, max_length: int
) -> Decoded:
    """The most likely symbol at every step; returns the attention weights too."""
    batch = memory.keys.shape[0]
    previous = torch.full((batch,), BOS, dtype=torch.long, device=memory.keys.device)
    finished = torch.zeros(batch, dtype=torch.bool, device=memory.keys.device)
    tokens, weights = [], []
    for _ in range(max_length):
        out = decoder.step(previous, state, memory)
        token = _log_probs(out.logits).argmax(-1).masked_fill(finished, PAD)
        tokens.append(token)
        weights.append(out.weights.masked_fill(finished[:, None], 0.0))
        finished = finished | (token == EOS)
        state, previous = out.state, token
        if bool(finished.all()):
            break
    return Decoded(torch.stack(tokens, dim=1), torch.stack(weights, dim=1))


def beam_search(
    decoder: AttentionDecoder,
    memory: Memory,
    state: DecoderState,
    max_length: int,
    beam_size: int,
    length_penalty: float = 0.0,
) -> Decoded:
    """Keep the `beam_size` best prefixes per sequence, all sequences and beams in one batch.

    Hypotheses are ranked at the end by log-probability / length ** `length_penalty`
    (0: plain log-probability, so beam 1 is exactly greedy).
    """
    batch, device = memory.keys.shape[0], memory.keys.device
    rows = torch.arange(batch, device=device).repeat_interleave(beam_size)
    memory, state = memory.repeat(beam_size), state.select(rows)
    scores = torch.full((batch, beam_size), float("-inf"), device=device)
    scores[:, 0] = 0.0  # all beams start identical: expand only the first
    previous = torch.full((batch * beam_size,), BOS, dtype=torch.long, device=device)
    finished = torch.zeros(batch * beam_size, dtype=torch.bool, device=device)
    lengths = torch.zeros(batch * beam_size, dtype=torch.long, device=device)
    history = torch.zeros(batch * beam_size, 0, dtype=torch.long, device=device)
    offsets = torch.arange(batch, device=device)[:, None] * beam_size
    for _ in range(max_length):
        out = decoder.step(previous, state, memory)
        log_probs = _log_probs(out.logits)
        log_probs[finished] = float("-inf")
        log_probs[finished, PAD] = 0.0  # a finished beam keeps its score, emitting padding
        vocab = log_probs.shape[-1]
        total = (scores.reshape(-1, 1) + log_probs).reshape(batch, beam_size * vocab)
        scores, flat = total.topk(beam_size, dim=-1)
        chosen = (offsets + flat // vocab).reshape(-1)
        token = (flat % vocab).reshape(-1)
        history = torch.cat([history[chosen], token[:, None]], dim=1)
        lengths = lengths[chosen] + (~finished[chosen]).long()
        finished = finished[chosen] | (token == EOS)
        state, previous = out.state.select(chosen), token
        if bool(finished.all()):
            break
    ranking = scores / lengths.reshape(batch, beam_size).clamp_min(1).float() ** length_penalty
    best = offsets.squeeze(1) + ranking.argmax(-1)
    return Decoded(history[best], None)


def hypotheses(tokens: Tensor) -> list[tuple[int, ...]]:
    """Symbol ids of each decoded row, without `<eos>` and padding."""
    out = []
    for row in tokens.tolist():
        symbols = row[: row.index(EOS)] if EOS in row else row
        out.append(tuple(i for i in symbols if i != PAD))
    return out
