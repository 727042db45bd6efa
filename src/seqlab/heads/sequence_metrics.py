"""Phoneme (symbol) error rate and word (sequence) error rate against several references.

Each symbol id becomes one character, so torchmetrics' `CharErrorRate` computes exactly
sum(edit distance) / sum(reference length) over symbols (multi-character phonemes such as
`AA1` count once). With several references per item (a word with two pronunciations):

- WER: the hypothesis is right if it equals ANY reference exactly;
- PER: the edit distance is taken to the reference CLOSEST to the hypothesis (the first one
  on ties), and that reference's length is the denominator.
"""

from collections.abc import Mapping, Sequence

import torch
from torchmetrics import MeanMetric, Metric
from torchmetrics.functional.text import edit_distance
from torchmetrics.text import CharErrorRate

Symbols = tuple[int, ...]
_FIRST_CHAR = 0x4E00  # ids map to printable, non-space characters


def as_text(symbols: Symbols) -> str:
    return "".join(chr(_FIRST_CHAR + i) for i in symbols)


def closest_reference(hypothesis: Symbols, references: Sequence[Symbols]) -> Symbols:
    """The reference with the smallest edit distance to `hypothesis` (first on ties)."""
    if len(references) == 1:
        return references[0]
    hyp = as_text(hypothesis)
    distances = edit_distance(
        [hyp] * len(references), [as_text(r) for r in references], reduction="none"
    )
    return references[int(torch.argmin(distances))]


def error_rate_metrics() -> dict[str, Metric]:
    """`per` and `wer` of one stage, accumulated over its batches."""
    return {"per": CharErrorRate(), "wer": MeanMetric()}


def update_error_rates(
    metrics: Mapping[str, Metric],
    hypotheses: Sequence[Symbols],
    references: Sequence[Sequence[Symbols]],
) -> None:
    """Add a batch of hypotheses, each scored against every acceptable reference."""
    closest = [closest_reference(h, refs) for h, refs in zip(hypotheses, references, strict=True)]
    metrics["per"].update([as_text(h) for h in hypotheses], [as_text(r) for r in closest])
    wrong = [
        float(tuple(h) not in {tuple(r) for r in refs})
        for h, refs in zip(hypotheses, references, strict=True)
    ]
    metrics["wer"].update(torch.tensor(wrong, device=metrics["wer"].mean_value.device))
