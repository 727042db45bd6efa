"""Decoding CTC log-probabilities: best path (greedy) and prefix beam search.

The blank is id 0 (the vocabulary's `<pad>`, never a real target), and `<bos>` / `<eos>`
(ids 1, 2) are never CTC targets either: both decoders emit only ids >= 3.
"""

import math
from collections import defaultdict

import torch
from torch import Tensor

from seqlab.heads.sequence_metrics import Symbols

BLANK = 0
FIRST_SYMBOL = 3  # ids below are <pad> (the blank), <bos>, <eos>
NEG_INF = float("-inf")


def greedy(log_probs: Tensor, lengths: Tensor) -> list[Symbols]:
    """Best path: the argmax of every real frame, repeats collapsed, blanks removed."""
    best = emittable(log_probs).argmax(-1).cpu()
    new = torch.ones_like(best, dtype=torch.bool)
    new[:, 1:] = best[:, 1:] != best[:, :-1]
    keep = new & (best >= FIRST_SYMBOL)
    return [
        tuple(row[: int(n)][kept[: int(n)]].tolist())
        for row, kept, n in zip(best, keep, lengths.tolist(), strict=True)
    ]


def emittable(log_probs: Tensor) -> Tensor:
    """`log_probs` with `<bos>` and `<eos>` ruled out (a frame is a blank or a symbol)."""
    ruled_out = log_probs.clone()
    ruled_out[..., BLANK + 1 : FIRST_SYMBOL] = NEG_INF
    return ruled_out


def _add(a: float, b: float) -> float:
    """log(exp(a) + exp(b)) for Python floats."""
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    high, low = (a, b) if a > b else (b, a)
    return high + math.log1p(math.exp(low - high))


def prefix_beam_search(log_probs: Tensor, lengths: Tensor, beam_size: int) -> list[Symbols]:
    """The most probable collapsed sequence of each item, searched over prefixes.

    Unlike the best path, a prefix's score sums every alignment that collapses to it (ending
    in a blank or in its last symbol, Hannun et al. 2014). Each frame extends a prefix only by
    its `beam_size` most likely symbols, which bounds the work at T * beam^2 per item.
    """
    symbols = log_probs[..., FIRST_SYMBOL:].topk(min(beam_size, log_probs.shape[-1] - 3), -1)
    candidates = (symbols.indices + FIRST_SYMBOL).cpu().tolist()
    frames = log_probs.detach().double().cpu().tolist()
    return [
        _search(frames[b][: int(n)], candidates[b][: int(n)], beam_size)
        for b, n in enumerate(lengths.tolist())
    ]


def _search(frames: list[list[float]], candidates: list[list[int]], beam_size: int) -> Symbols:
    beams: dict[Symbols, tuple[float, float]] = {(): (0.0, NEG_INF)}  # (ends blank, ends symbol)
    for frame, symbols in zip(frames, candidates, strict=True):
        grown: dict[Symbols, list[float]] = defaultdict(lambda: [NEG_INF, NEG_INF])
        for prefix, (blank, symbol) in beams.items():
            total = _add(blank, symbol)
            same = grown[prefix]
            same[0] = _add(same[0], total + frame[BLANK])
            last = prefix[-1] if prefix else None
            if last is not None:  # a repeated frame of the last symbol collapses into it
                same[1] = _add(same[1], symbol + frame[last])
            for s in symbols:
                longer = grown[(*prefix, s)]
                before = blank if s == last else total  # a repeat needs a blank in between
                longer[1] = _add(longer[1], before + frame[s])
        ranked = sorted(grown.items(), key=lambda kv: _add(*kv[1]), reverse=True)
        beams = {prefix: (p[0], p[1]) for prefix, p in ranked[:beam_size]}
    return max(beams, key=lambda prefix: _add(*beams[prefix]))
