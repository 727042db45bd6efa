"""Multi-target items: collate, the single-target batch view, checks, CMUdict syllables."""

import pytest
import torch

from seqlab.data.collate import pad_collate
from seqlab.data.datamodule import Splits
from seqlab.data.dataset import SequenceDataset
from seqlab.data.multitarget import MultiTargetDataset
from seqlab.data.references import MultiReferenceDataset
from seqlab.data.sources.cmudict_multitask import add_syllables
from seqlab.data.spec import DataSpec
from seqlab.data.vocab import Vocabulary


def item(length: int, label: int, steps: int, index: int) -> tuple:
    targets = {"label": torch.tensor(label), "seq": torch.arange(1, steps + 1)}
    return torch.randn(length, 2), targets, index


def test_collate_pads_each_sequence_target_to_its_own_length() -> None:
    batch = pad_collate([item(3, 0, 5, 0), item(6, 1, 2, 1)])
    assert batch.inputs.shape == (2, 6, 2)
    assert batch.targets["seq"].shape == (2, 5)
    assert set(batch.target_lengths) == {"seq"}
    assert batch.target_lengths["seq"].tolist() == [5, 2]
    assert batch.targets["seq"][1].tolist() == [1, 2, 0, 0, 0]
    seq = batch.target("seq")
    assert seq.target_mask.tolist() == [[True] * 5, [True, True, False, False, False]]
    label = batch.target("label")
    assert label.target_lengths is None and label.targets.tolist() == [0, 1]
    assert torch.equal(label.inputs, batch.inputs) and torch.equal(label.lengths, batch.lengths)
    moved = batch.to("cpu")
    assert moved.targets["seq"].device.type == "cpu" and moved.lengths.device.type == "cpu"
    with pytest.raises(ValueError, match="batch.target"):
        _ = batch.target_mask


def test_bad_named_targets_name_the_item_and_the_target() -> None:
    x = [torch.randn(3, 2), torch.randn(4, 2)]
    good = {"a": torch.tensor(1), "b": torch.tensor([1, 2])}
    with pytest.raises(ValueError, match="item 1 has targets \\['a'\\], item 0 has"):
        SequenceDataset("d", x, [good, {"a": torch.tensor(0)}])
    with pytest.raises(ValueError, match="item 1, target 'b', has an empty target sequence"):
        SequenceDataset("d", x, [good, {"a": torch.tensor(0), "b": torch.tensor([])}])
    with pytest.raises(ValueError, match="references for 'c', which is not a target"):
        MultiTargetDataset("d", x, [good, good], references={"c": [[(1,)], [(2,)]]})


def test_target_spec_is_the_view_one_head_sees() -> None:
    spec = DataSpec(input_size=5, input_vocab=("a",), targets={"y": {"num_classes": 3}})
    view = spec.target_spec("y")
    assert (view.input_size, view.num_classes, view.targets) == (5, 3, {})
    with pytest.raises(KeyError, match="no target 'z'"):
        spec.target_spec("z")


def test_syllables_count_the_vowels_of_each_pronunciation() -> None:
    pronunciations = [
        ("cat", ["K", "AE", "T"], 1),
        ("water", ["W", "AO", "T", "ER"], 2),
        ("every", ["EH", "V", "R", "IY"], 2),
        ("every", ["EH", "V", "ER", "IY"], 3),
        ("hmm", ["HH", "M"], 0),
    ]
    vocab = Vocabulary(p for _, pron, _ in pronunciations for p in pron)
    letters = Vocabulary(c for word, _, _ in pronunciations for c in word)
    ids = [vocab.encode(pron) for _, pron, _ in pronunciations]
    dataset = MultiReferenceDataset(
        "cmudict/train",
        [torch.tensor(letters.encode(word)) for word, _, _ in pronunciations],
        [torch.tensor([*i, Vocabulary.eos_id]) for i in ids],
        [[tuple(i)] for i in ids],
        [word for word, _, _ in pronunciations],
    )
    spec = DataSpec(
        input_size=len(letters),
        num_classes=len(vocab),
        input_vocab=letters.symbols,
        target_vocab=vocab.symbols,
    )
    phoneme_set = ["K", "AE1", "AE2", "T", "W", "AO1", "ER0", "EH1", "V", "R", "IY0", "HH", "M"]
    splits = add_syllables(Splits(dataset, dataset, dataset, spec), phoneme_set)
    counts = [int(target["syllables"]) for target in splits.val.targets]
    assert counts == [n for _, _, n in pronunciations]
    assert splits.spec.targets["syllables"]["num_classes"] == 4
    assert splits.spec.targets["phonemes"]["target_vocab"] == vocab.symbols
    assert splits.val.references["phonemes"] == dataset.references
    assert splits.train.name == "cmudict_multitask/train"


def test_first_sequences_trim_each_named_target() -> None:
    batch = pad_collate([item(3, 0, 5, 0), item(6, 1, 2, 1), item(2, 1, 7, 2)])
    first = batch.first(2)
    assert first.inputs.shape == (2, 6, 2) and first.indices.tolist() == [0, 1]
    assert first.targets["seq"].shape == (2, 5)
    assert first.target_lengths["seq"].tolist() == [5, 2]
    assert first.targets["label"].tolist() == [0, 1]


def test_rows_keep_the_batch_widths_of_each_named_target() -> None:
    batch = pad_collate([item(3, 0, 5, 0), item(6, 1, 2, 1), item(2, 1, 7, 2)])
    rows = batch.rows(torch.tensor([2, 0]))
    assert rows.inputs.shape == (2, 6, 2) and rows.indices.tolist() == [2, 0]
    assert rows.lengths.tolist() == [2, 3]
    assert rows.targets["seq"].shape == (2, 7)
    assert rows.target_lengths["seq"].tolist() == [7, 5]
    assert rows.targets["label"].tolist() == [1, 0]
