"""Attention over encoder steps: additive (Bahdanau) and dot / general (Luong).

Scores at padded encoder steps are set to -inf before the softmax, so those steps get
exactly zero weight and never reach the context vector.
"""

from typing import NamedTuple

import torch
from torch import Tensor, nn


class Memory(NamedTuple):
    """Encoder steps the decoder attends to, with what attention precomputes from them.

    keys: [B, T, K] encoder outputs; projected: [B, T, A] keys after the scorer's key map
    (computed once per sequence, not once per output step); mask: [B, T] True at real steps.
    """

    keys: Tensor
    projected: Tensor
    mask: Tensor

    def repeat(self, times: int) -> "Memory":
        """Each sequence `times` times in a row (beam search: B -> B * beams)."""
        return Memory(*(t.repeat_interleave(times, dim=0) for t in self))


class Attention(nn.Module):
    """Maps a decoder query [B, Q] and a `Memory` to (context [B, K], weights [B, T])."""

    def prepare(self, keys: Tensor, mask: Tensor) -> Memory:
        return Memory(keys, self.project_keys(keys), mask)

    def project_keys(self, keys: Tensor) -> Tensor:
        return keys

    def score(self, query: Tensor, projected: Tensor) -> Tensor:
        """Unnormalised scores [B, T]."""
        raise NotImplementedError

    def forward(self, query: Tensor, memory: Memory) -> tuple[Tensor, Tensor]:
        scores = self.score(query, memory.projected).masked_fill(~memory.mask, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        context = torch.bmm(weights.unsqueeze(1), memory.keys).squeeze(1)
        return context, weights


class AdditiveAttention(Attention):
    """Bahdanau: v^T tanh(W_q q + W_k k)."""

    def __init__(self, query_size: int, key_size: int, attention_size: int) -> None:
        super().__init__()
        self.key_map = nn.Linear(key_size, attention_size, bias=False)
        self.query_map = nn.Linear(query_size, attention_size)
        self.v = nn.Linear(attention_size, 1, bias=False)

    def project_keys(self, keys: Tensor) -> Tensor:
        return self.key_map(keys)

    def score(self, query: Tensor, projected: Tensor) -> Tensor:
        return self.v(torch.tanh(projected + self.query_map(query).unsqueeze(1))).squeeze(-1)


class DotAttention(Attention):
    """Luong dot: q . k (query and key widths must match)."""

    def __init__(self, query_size: int, key_size: int, attention_size: int) -> None:
        super().__init__()
        if query_size != key_size:
            raise ValueError(
                f"attention.kind=dot needs the decoder hidden size ({query_size}) to equal "
                f"the encoder output size ({key_size}); use general or additive"
            )

    def score(self, query: Tensor, projected: Tensor) -> Tensor:
        return torch.bmm(projected, query.unsqueeze(-1)).squeeze(-1)


class GeneralAttention(DotAttention):
    """Luong general: q^T W k, with W k precomputed once per sequence."""

    def __init__(self, query_size: int, key_size: int, attention_size: int) -> None:
        nn.Module.__init__(self)
        self.key_map = nn.Linear(key_size, query_size, bias=False)

    def project_keys(self, keys: Tensor) -> Tensor:
        return self.key_map(keys)


ATTENTIONS: dict[str, type[Attention]] = {
    "additive": AdditiveAttention,
    "dot": DotAttention,
    "general": GeneralAttention,
}


def make_attention(kind: str, query_size: int, key_size: int, attention_size: int) -> Attention:
    if kind not in ATTENTIONS:
        raise ValueError(f"attention.kind must be one of {sorted(ATTENTIONS)}, got {kind!r}")
    if attention_size <= 0:
        raise ValueError(f"attention.size must be > 0, got {attention_size}")
    return ATTENTIONS[kind](query_size, key_size, attention_size)
