"""Length-aware batch samplers: coverage, determinism, budgets, rank sharding, resuming."""

import random
from collections import Counter

import pytest

from seqlab.data.samplers import LengthBatchSampler, padded_tokens, straggler_ratio


def random_lengths(count: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    return [rng.randint(1, 40) for _ in range(count)]


LENGTHS = random_lengths(203, seed=0)


def epoch_of(sampler: LengthBatchSampler, epoch: int) -> list[list[int]]:
    sampler.set_epoch(epoch)
    return list(sampler)


@pytest.mark.parametrize("mode", ["random", "sorted", "bucket"])
@pytest.mark.parametrize("budget", [{"batch_size": 16}, {"max_tokens": 200}])
def test_every_index_exactly_once_per_epoch(mode: str, budget: dict) -> None:
    sampler = LengthBatchSampler(LENGTHS, mode=mode, seed=3, **budget)
    for epoch in range(3):
        batches = epoch_of(sampler, epoch)
        assert len(batches) == len(sampler)
        assert sorted(i for b in batches for i in b) == list(range(len(LENGTHS)))


def test_bucket_is_deterministic_per_seed_and_epoch_and_changes_across_epochs() -> None:
    def batches(seed: int, epoch: int) -> list[list[int]]:
        return epoch_of(LengthBatchSampler(LENGTHS, mode="bucket", batch_size=8, seed=seed), epoch)

    assert batches(1, 0) == batches(1, 0)
    assert batches(1, 0) != batches(1, 1)
    assert batches(1, 0) != batches(2, 0)
    compositions = [{frozenset(b) for b in batches(1, e)} for e in (0, 1)]
    assert compositions[0] != compositions[1], "bucket mode must regroup items, not only reorder"


def test_sorted_gives_the_same_batches_every_epoch_in_length_order() -> None:
    sampler = LengthBatchSampler(LENGTHS, mode="sorted", batch_size=8)
    first = epoch_of(sampler, 0)
    assert first == epoch_of(sampler, 5)
    longest = [max(LENGTHS[i] for i in b) for b in first]
    assert longest == sorted(longest)


def test_bucket_pads_far_less_than_random() -> None:
    def padding(mode: str) -> float:
        batches = epoch_of(LengthBatchSampler(LENGTHS, mode=mode, batch_size=8, seed=0), 0)
        return 1 - sum(LENGTHS) / sum(padded_tokens(b, LENGTHS) for b in batches)

    assert padding("bucket") < padding("random") / 3


def test_explicit_boundaries_bound_each_batch() -> None:
    sampler = LengthBatchSampler(LENGTHS, mode="bucket", batch_size=64, boundaries=[10, 20, 30])
    for batch in epoch_of(sampler, 0):
        bins = {(LENGTHS[i] > 10) + (LENGTHS[i] > 20) + (LENGTHS[i] > 30) for i in batch}
        assert len(bins) == 1


@pytest.mark.parametrize("mode", ["random", "sorted", "bucket"])
def test_token_budget_is_respected(mode: str) -> None:
    sampler = LengthBatchSampler(LENGTHS, mode=mode, max_tokens=120, seed=1)
    batches = epoch_of(sampler, 0)
    assert all(padded_tokens(b, LENGTHS) <= 120 for b in batches)
    assert max(len(b) for b in batches) > 3


def test_item_longer_than_the_budget_gets_its_own_batch_with_a_warning() -> None:
    lengths = [5, 5, 50, 5, 5]
    with pytest.warns(UserWarning, match="1 train items are longer than data.max_tokens=20"):
        sampler = LengthBatchSampler(lengths, mode="random", max_tokens=20)
    batches = epoch_of(sampler, 0)
    assert [2] in batches
    assert all(padded_tokens(b, lengths) <= 20 for b in batches if b != [2])


@pytest.mark.parametrize("mode", ["random", "sorted", "bucket"])
@pytest.mark.parametrize("world_size", [2, 3, 8])
def test_ranks_get_disjoint_covering_equal_shares(mode: str, world_size: int) -> None:
    shares = [
        epoch_of(LengthBatchSampler(LENGTHS, mode, 10, seed=4, rank=r, world_size=world_size), 2)
        for r in range(world_size)
    ]
    assert len({len(s) for s in shares}) == 1
    seen = Counter(i for share in shares for batch in share for i in batch)
    assert sorted(seen) == list(range(len(LENGTHS))) and set(seen.values()) == {1}


@pytest.mark.parametrize("world_size", [2, 8])
def test_bucket_ranks_are_balanced_at_every_step(world_size: int) -> None:
    lengths = random_lengths(4000, seed=1)
    shares = [
        epoch_of(LengthBatchSampler(lengths, "bucket", 16, rank=r, world_size=world_size), 0)
        for r in range(world_size)
    ]
    assert straggler_ratio(shares, lengths) <= 1.1


def test_state_dict_restores_the_remaining_batches() -> None:
    def make() -> LengthBatchSampler:
        return LengthBatchSampler(LENGTHS, mode="bucket", batch_size=8, seed=5)

    reference = epoch_of(make(), 3)
    sampler = make()
    sampler.set_epoch(3)
    iterator = iter(sampler)
    consumed = [next(iterator) for _ in range(7)]
    state = sampler.state_dict()
    resumed = make()
    resumed.load_state_dict(state)
    assert consumed + list(resumed) == reference
    assert epoch_of(resumed, 4) == epoch_of(make(), 4), "the next epoch starts from its beginning"


def test_evaluation_splits_batches_so_every_rank_gets_one() -> None:
    lengths = [3, 4, 5, 6, 7]
    shares = [
        epoch_of(LengthBatchSampler(lengths, "sorted", 8, rank=r, world_size=4, fill_ranks=True), 0)
        for r in range(4)
    ]
    assert [len(s) for s in shares] == [1, 1, 1, 1]
    assert sorted(i for s in shares for b in s for i in b) == list(range(5))
    with pytest.raises(ValueError, match="5 single-item batches cannot be shared evenly by 6"):
        LengthBatchSampler(lengths, "sorted", 8, rank=0, world_size=6, fill_ranks=True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "data.batch_size must be > 0"),
        ({"max_tokens": -5}, "data.max_tokens must be > 0"),
        ({"mode": "shuffled"}, "data.batching must be one of"),
        ({"num_buckets": 0}, "data.num_buckets must be >= 1"),
        ({"boundaries": [10, 5]}, "data.bucket_boundaries must be positive and strictly"),
        ({"lengths": []}, "the train split is empty"),
        (
            {"world_size": 30, "batch_size": 10, "mode": "sorted"},
            "gives 21 batches for 30 processes",
        ),
    ],
)
def test_bad_settings_name_the_key(kwargs: dict, message: str) -> None:
    args = {"lengths": LENGTHS, **kwargs}
    with pytest.raises(ValueError, match=message):
        LengthBatchSampler(**args)
