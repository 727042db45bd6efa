"""Augmentations: labels kept, lengths updated, padding zero, training batches only."""

import math

import pytest
import torch

from seqlab.data.batch import length_mask
from seqlab.data.collate import pad_collate
from seqlab.regularization.augment import (
    SequenceAugment,
    additive_noise,
    feature_mask,
    random_crop,
    time_mask,
    time_stretch,
)

LENGTHS = (9, 1, 4, 13, 2)
CONFIG = {
    "time_stretch": {"p": 1.0, "min_rate": 0.5, "max_rate": 2.0},
    "random_crop": {"p": 1.0, "min_fraction": 0.5},
    "time_mask": {"p": 1.0, "max_fraction": 0.5},
    "feature_mask": {"p": 1.0, "max_fraction": 0.5},
    "noise": {"p": 1.0, "std": 0.5},
}


def make_batch(lengths=LENGTHS, features: int = 6):
    torch.manual_seed(0)
    items = [
        (torch.randn(n, features) + 3.0, torch.tensor(i % 3), i) for i, n in enumerate(lengths)
    ]
    return pad_collate(items)


def padding_is_zero(x: torch.Tensor, lengths: torch.Tensor) -> bool:
    return bool((x[~length_mask(lengths, x.shape[1])] == 0).all())


FUNCTIONS = {
    "time_stretch": lambda x, n: time_stretch(x, n, **CONFIG["time_stretch"]),
    "random_crop": lambda x, n: random_crop(x, n, **CONFIG["random_crop"]),
    "time_mask": lambda x, n: time_mask(x, n, **CONFIG["time_mask"]),
    "feature_mask": lambda x, n: feature_mask(x, n, **CONFIG["feature_mask"]),
    "noise": lambda x, n: additive_noise(x, n, **CONFIG["noise"]),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_padding_stays_zero_and_lengths_stay_valid(name: str) -> None:
    batch = make_batch()
    for _ in range(20):
        x, lengths = FUNCTIONS[name](batch.inputs, batch.lengths)
        assert padding_is_zero(x, lengths)
        assert (lengths >= 1).all() and x.shape[1] == int(lengths.max())
        assert lengths.device.type == "cpu"


def test_time_stretch_lengths_follow_the_rate() -> None:
    batch = make_batch()
    _, lengths = time_stretch(batch.inputs, batch.lengths, p=1.0, min_rate=2.0, max_rate=2.0)
    expected = [max(1, round(n / 2.0)) for n in LENGTHS]
    assert lengths.tolist() == expected
    _, slow = time_stretch(batch.inputs, batch.lengths, p=1.0, min_rate=0.5, max_rate=0.5)
    assert slow.tolist() == [2 * n for n in LENGTHS]


def test_time_stretch_interpolates_between_real_frames() -> None:
    ramp = torch.arange(5.0)[None, :, None]
    x, lengths = time_stretch(ramp, torch.tensor([5]), p=1.0, min_rate=0.5, max_rate=0.5)
    torch.testing.assert_close(x[0, :, 0], torch.linspace(0, 4, 10))
    assert lengths.tolist() == [10]


def test_time_stretch_alone_equals_batched() -> None:
    batch = make_batch()
    together, lengths = time_stretch(batch.inputs, batch.lengths, 1.0, 1.5, 1.5)
    for row, n in enumerate(LENGTHS):
        alone, alone_length = time_stretch(
            batch.inputs[row : row + 1, :n], torch.tensor([n]), 1.0, 1.5, 1.5
        )
        assert alone_length.item() == lengths[row].item()
        torch.testing.assert_close(together[row, : lengths[row]], alone[0])


def test_random_crop_keeps_a_contiguous_window() -> None:
    batch = make_batch()
    torch.manual_seed(1)
    x, lengths = random_crop(batch.inputs, batch.lengths, p=1.0, min_fraction=0.5)
    for row, n in enumerate(LENGTHS):
        kept = int(lengths[row])
        assert math.ceil(0.5 * n) <= kept <= n
        windows = [batch.inputs[row, s : s + kept] for s in range(n - kept + 1)]
        assert any(torch.equal(x[row, :kept], w) for w in windows)


def test_time_mask_zeroes_one_short_span_only() -> None:
    batch = make_batch()
    for _ in range(20):
        x, lengths = time_mask(batch.inputs, batch.lengths, p=1.0, max_fraction=0.5)
        assert torch.equal(lengths, batch.lengths)
        for row, n in enumerate(LENGTHS):
            zero_steps = (x[row, :n] == 0).all(-1).nonzero().flatten()
            assert len(zero_steps) <= int(0.5 * n)
            if len(zero_steps):
                assert (zero_steps.diff() == 1).all()


def test_feature_mask_zeroes_the_same_band_at_every_step() -> None:
    batch = make_batch()
    x, _ = feature_mask(batch.inputs, batch.lengths, p=1.0, max_fraction=0.5)
    for row, n in enumerate(LENGTHS):
        zero_features = (x[row, :n] == 0).all(0)
        assert zero_features.sum() <= 3
        assert torch.equal(x[row, :n, ~zero_features], batch.inputs[row, :n, ~zero_features])


def test_probability_zero_changes_nothing() -> None:
    batch = make_batch()
    config = {name: {**settings, "p": 0.0} for name, settings in CONFIG.items()}
    out = SequenceAugment(config).train()(batch)
    assert torch.equal(out.inputs, batch.inputs) and torch.equal(out.lengths, batch.lengths)


def test_training_batches_change_but_labels_do_not() -> None:
    batch = make_batch()
    out = SequenceAugment(CONFIG).train()(batch)
    assert torch.equal(out.targets, batch.targets) and torch.equal(out.indices, batch.indices)
    assert not torch.equal(out.lengths, batch.lengths)
    assert padding_is_zero(out.inputs, out.lengths)


def test_nothing_happens_at_eval() -> None:
    batch = make_batch()
    assert SequenceAugment(CONFIG).eval()(batch) is batch


def test_target_sequences_are_refused() -> None:
    items = [(torch.randn(n, 3), torch.zeros(n, dtype=torch.long), i) for i, n in enumerate((3, 5))]
    with pytest.raises(ValueError, match="regularizer.augment.*target sequences"):
        SequenceAugment(CONFIG).train()(pad_collate(items))
