"""Collate, Batch, dataset checks, the UEA loader, size limits of generated data."""

import sys

import pytest
import torch

from seqlab.build import build_datamodule
from seqlab.data.collate import pad_collate
from seqlab.data.dataset import SequenceDataset
from seqlab.data.sources.uea import UEADataModule, load_uea_split
from seqlab.data.splitting import hash_split, standardize, stratified_holdout
from seqlab.data.vocab import Vocabulary
from tests.conftest import compose_config


def items(lengths: list[int], dim: int = 3) -> list:
    return [(torch.randn(n, dim), torch.tensor(i % 2), i) for i, n in enumerate(lengths)]


def test_collate_pads_to_longest_and_keeps_order() -> None:
    batch_items = items([2, 5, 3])
    batch = pad_collate(batch_items)
    assert batch.inputs.shape == (3, 5, 3)
    assert batch.lengths.tolist() == [2, 5, 3]
    assert batch.indices.tolist() == [0, 1, 2]
    for row, (x, _, _) in enumerate(batch_items):
        assert torch.equal(batch.inputs[row, : len(x)], x)
        assert (batch.inputs[row, len(x) :] == 0).all()
    assert batch.mask.sum(1).tolist() == [2, 5, 3]


def test_collate_sequence_targets_get_lengths() -> None:
    batch = pad_collate(
        [(torch.ones(2, 1), torch.tensor([1, 2, 3]), 0), (torch.ones(4, 1), torch.tensor([4]), 1)]
    )
    assert batch.targets.tolist() == [[1, 2, 3], [4, 0, 0]]
    assert batch.target_lengths.tolist() == [3, 1]
    assert batch.target_mask.tolist() == [[True, True, True], [True, False, False]]


def test_batch_to_keeps_lengths_on_cpu() -> None:
    batch = pad_collate(items([2, 4])).to(torch.device("meta"))
    assert batch.inputs.device.type == "meta"
    assert batch.lengths.device.type == "cpu"


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ([torch.ones(3, 2), torch.ones(0, 2)], "item 1 has zero length"),
        ([torch.tensor([[1.0, float("nan")]]), torch.ones(2, 2)], "item 0 has non-finite"),
        ([torch.ones(2, 2), torch.tensor([[float("inf"), 1.0]])], "item 1 has non-finite"),
    ],
)
def test_bad_items_are_named(inputs: list, message: str) -> None:
    with pytest.raises(ValueError, match=f"mydata: {message}"):
        SequenceDataset("mydata", inputs, [torch.tensor(0)] * len(inputs))


def test_stratified_holdout_is_disjoint_and_balanced() -> None:
    labels = [0] * 10 + [1] * 20
    keep, held = stratified_holdout(labels, 0.2, seed=1)
    assert set(keep).isdisjoint(held) and sorted(keep + held) == list(range(30))
    assert [labels[i] for i in held].count(0) == 2
    assert stratified_holdout(labels, 0.2, seed=1) == (keep, held)


def test_standardize_uses_training_frames_only() -> None:
    train = [torch.tensor([[1.0], [3.0]]), torch.tensor([[5.0]])]
    test = [torch.tensor([[100.0]])]
    train_z, test_z = standardize(train, test)
    frames = torch.cat(train_z)
    assert frames.mean().abs() < 1e-6 and (frames.std() - 1).abs() < 1e-6
    assert test_z[0].item() == pytest.approx((100 - 3) / 2)


def test_japanese_vowels_ships_offline() -> None:
    train_x, train_y = load_uea_split("JapaneseVowels", "train")
    test_x, _ = load_uea_split("JapaneseVowels", "test")
    assert (len(train_x), len(test_x)) == (270, 370)
    assert {x.shape[1] for x in train_x} == {12}
    assert min(len(x) for x in train_x + test_x) >= 7
    assert max(len(x) for x in train_x + test_x) <= 29
    assert len(set(train_y)) == 9


def test_uea_datamodule_spec_and_splits() -> None:
    data = UEADataModule(name="JapaneseVowels", val_fraction=0.2, seed=0)
    assert (data.spec.input_size, data.spec.num_classes) == (12, 9)
    assert (len(data.splits.train), len(data.splits.val)) == (216, 54)
    assert len(data.splits.test) == 370


def test_unknown_uea_name_lists_choices() -> None:
    with pytest.raises(ValueError, match="data.name='Nope'.*JapaneseVowels"):
        load_uea_split("Nope", "train")


def test_missing_package_names_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aeon", None)  # makes `import aeon` fail
    with pytest.raises(ImportError, match="'aeon'.*pip install aeon"):
        _ = UEADataModule(name="JapaneseVowels").spec


def test_vocabulary_round_trip_and_unknown_symbol() -> None:
    vocab = Vocabulary("CAB")
    assert vocab.symbols[:3] == ("<pad>", "<bos>", "<eos>") and len(vocab) == 6
    ids = vocab.encode(list("CAB"))
    assert vocab.decode([vocab.bos_id, *ids, vocab.eos_id, 3]) == ["C", "A", "B"]
    with pytest.raises(ValueError, match="word 7: symbol 'Z'"):
        vocab.encode(["Z"], where="word 7")


def test_hash_split_is_stable_and_proportional() -> None:
    keys = [f"word{i}" for i in range(4000)]
    splits = [hash_split(k, 0.1, 0.1) for k in keys]
    assert splits == [hash_split(k, 0.1, 0.1) for k in keys]
    assert abs(splits.count("test") / 4000 - 0.1) < 0.02
    assert abs(splits.count("val") / 4000 - 0.1) < 0.02
    with pytest.raises(ValueError, match="split fractions"):
        hash_split("x", 0.6, 0.5)


@pytest.mark.parametrize(
    ("source", "size"),
    [
        ("synthetic", "data.max_length=100000000"),
        ("synthetic_seq2seq", "data.num_items=100000000000"),
        ("synthetic_multitask", "data.max_length=100000000"),
    ],
)
def test_generated_data_too_large_for_memory_is_refused_up_front(source: str, size: str) -> None:
    cfg = compose_config([f"data={source}", size])
    with pytest.raises(Exception, match=rf"data={source}: .*{size}.* GiB of generated") as error:
        build_datamodule(cfg)
    assert "lower data.num_items or data.max_length" in str(error.value)
