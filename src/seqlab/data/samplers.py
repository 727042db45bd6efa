"""Length-aware batch samplers: random, sorted or bucketed batches, sharded over DDP ranks.

Padding every item to the longest of a random batch wastes compute; sorting removes the waste
but makes every epoch identical. Bucketing groups items of similar length and shuffles inside
the buckets and over the batch order, so batches stay tight and still change every epoch.

Every rank builds the same global batch list from (seed, epoch) and takes whole batches, so
all ranks step the same number of times and together see every item exactly once.
"""

from __future__ import annotations

import bisect
import itertools
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
from torch.utils.data import Sampler

MODES = ("random", "sorted", "bucket")


def check_batching(
    mode: str,
    batch_size: int,
    max_tokens: int | None,
    num_buckets: int,
    boundaries: Sequence[int] | None,
    setting: str = "data.batching",
) -> None:
    """Reject bad batching settings by their config key, before any data is loaded."""
    if mode not in MODES:
        raise ValueError(f"{setting} must be one of {', '.join(MODES)}, got {mode!r}")
    if batch_size <= 0:
        raise ValueError(f"data.batch_size must be > 0, got {batch_size}")
    if max_tokens is not None and max_tokens <= 0:
        raise ValueError(f"data.max_tokens must be > 0 (or null), got {max_tokens}")
    if num_buckets < 1:
        raise ValueError(f"data.num_buckets must be >= 1, got {num_buckets}")
    if boundaries is not None:
        bounds = list(boundaries)
        if not bounds or bounds[0] <= 0 or any(a >= b for a, b in itertools.pairwise(bounds)):
            raise ValueError(
                f"data.bucket_boundaries must be positive and strictly increasing, got {bounds}"
            )


def padded_tokens(batch: Sequence[int], lengths: Sequence[int]) -> int:
    """Positions a batch occupies once padded: items x longest item."""
    return len(batch) * max(lengths[i] for i in batch)


def straggler_ratio(shares: Sequence[Sequence[Sequence[int]]], lengths: Sequence[int]) -> float:
    """Mean over steps of max / mean over ranks of padded tokens (1.0 = perfectly balanced).

    `shares[r]` is rank r's batch list; the slowest rank sets the pace of every all-reduce.
    """
    ratios = []
    for step in zip(*shares, strict=True):
        sizes = [padded_tokens(batch, lengths) for batch in step]
        ratios.append(max(sizes) * len(sizes) / sum(sizes))
    return sum(ratios) / len(ratios)


def quantile_boundaries(lengths: Sequence[int], num_buckets: int) -> list[int]:
    """Upper bucket edges at the length quantiles (duplicates merged, so discrete lengths may
    give fewer buckets than asked for)."""
    ordered = sorted(lengths)
    edges = {
        ordered[min(len(ordered) - 1, (k * len(ordered)) // num_buckets)]
        for k in range(1, num_buckets)
    }
    return sorted(edges - {ordered[-1]})


class LengthBatchSampler(Sampler[list[int]]):
    """Yields this rank's batches (lists of dataset indices) for the current epoch.

    `mode`: `random` (shuffled items), `sorted` (items by length, the same batches in the same
    order every epoch) or `bucket` (items shuffled inside length buckets, batch order shuffled).
    Batches hold `batch_size` items, or, with `max_tokens`, as many as fit
    `items x longest item <= max_tokens`. Shuffling draws from a generator seeded by
    (seed, epoch). With several ranks, batches of similar padded size are grouped by `world_size`
    and each rank takes one per group, so ranks wait little on each other at every all-reduce.
    Fewer batches than ranks is an error, unless `fill_ranks` (evaluation): then batches are
    split until every rank has one, each item still seen once.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        mode: str = "bucket",
        batch_size: int = 32,
        max_tokens: int | None = None,
        num_buckets: int = 64,
        boundaries: Sequence[int] | None = None,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        name: str = "train",
        setting: str = "data.batching",
        epoch_source: Callable[[], int] | None = None,
        fill_ranks: bool = False,
    ) -> None:
        check_batching(mode, batch_size, max_tokens, num_buckets, boundaries, setting)
        if len(lengths) == 0:
            raise ValueError(f"the {name} split is empty: there is nothing to batch")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is outside a world of {world_size} processes")
        self.lengths = list(lengths)
        self.mode, self.batch_size, self.max_tokens = mode, batch_size, max_tokens
        self.seed, self.rank, self.world_size = seed, rank, world_size
        self.name, self.setting = name, setting
        self.epoch_source = epoch_source
        self.fill_ranks = fill_ranks
        self.epoch = 0
        self.position = 0
        self._resume: tuple[int, int] | None = None
        self._cache: tuple[int, list[list[int]]] | None = None
        edges = (
            list(boundaries)
            if boundaries
            else quantile_boundaries(self.lengths, min(num_buckets, self._max_buckets()))
        )
        self.boundaries = edges
        self.buckets: list[list[int]] = [[] for _ in range(len(edges) + 1)]
        for index, length in enumerate(self.lengths):
            self.buckets[bisect.bisect_left(edges, length)].append(index)
        self.buckets = [b for b in self.buckets if b]
        self._warn_oversized()
        self.global_batches(0)  # fail now, not at the first step, if ranks outnumber batches

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose batches the next iteration yields."""
        self.epoch = epoch

    def global_batches(self, epoch: int) -> list[list[int]]:
        """Every rank's batches of `epoch`, rank r owning positions r, r + N, r + 2N, ..."""
        if self._cache is not None and self._cache[0] == epoch:
            return self._cache[1]
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        batches = self._make_batches(generator)
        batches = self._even_out(batches)
        if self.mode != "sorted":
            batches.sort(key=lambda b: padded_tokens(b, self.lengths))
        n = self.world_size
        groups = [batches[i : i + n] for i in range(0, len(batches), n)]
        if self.mode != "sorted":
            groups = [groups[i] for i in torch.randperm(len(groups), generator=generator)]
        ordered = [batch for group in groups for batch in group]
        self._cache = (epoch, ordered)
        return ordered

    def rank_batches(self, epoch: int) -> list[list[int]]:
        """This rank's share of `global_batches(epoch)`."""
        return self.global_batches(epoch)[self.rank :: self.world_size]

    def __len__(self) -> int:
        epoch = self.epoch_source() if self.epoch_source is not None else self.epoch
        return len(self.global_batches(epoch)) // self.world_size

    def __iter__(self) -> Iterator[list[int]]:
        if self.epoch_source is not None:
            self.set_epoch(self.epoch_source())
        start = 0
        if self._resume is not None and self._resume[0] == self.epoch:
            start = self._resume[1]
        self._resume = None
        batches = self.rank_batches(self.epoch)
        for position in range(start, len(batches)):
            self.position = position + 1
            yield batches[position]

    def state_dict(self) -> dict[str, Any]:
        """Epoch and number of this epoch's batches already yielded on this rank."""
        return {"epoch": self.epoch, "position": self.position, "world_size": self.world_size}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue the saved epoch after its first `position` batches at the next iteration."""
        if state.get("world_size", self.world_size) != self.world_size:
            warnings.warn(
                f"the checkpoint's {self.name} sampler ran on {state['world_size']} processes, "
                f"this run has {self.world_size}: epoch {state['epoch']} restarts from its start",
                stacklevel=2,
            )
            self._resume = (state["epoch"], 0)
        else:
            self._resume = (state["epoch"], state["position"])
        self.epoch = state["epoch"]
        self.position = self._resume[1]

    def _make_batches(self, generator: torch.Generator) -> list[list[int]]:
        if self.mode == "random":
            return self._chunk(torch.randperm(len(self.lengths), generator=generator).tolist())
        if self.mode == "sorted":
            return self._chunk(sorted(range(len(self.lengths)), key=lambda i: self.lengths[i]))
        batches = []
        for bucket in self.buckets:
            order = torch.randperm(len(bucket), generator=generator).tolist()
            batches += self._chunk([bucket[i] for i in order])
        return batches

    def _chunk(self, order: list[int]) -> list[list[int]]:
        """Consecutive batches of `order`: by count, or greedily under the token budget."""
        if self.max_tokens is None:
            return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        batches: list[list[int]] = []
        current: list[int] = []
        longest = 0
        for index in order:
            length = self.lengths[index]
            if current and (len(current) + 1) * max(longest, length) > self.max_tokens:
                batches.append(current)
                current, longest = [], 0
            current.append(index)
            longest = max(longest, length)
        batches.append(current)
        return batches

    def _even_out(self, batches: list[list[int]]) -> list[list[int]]:
        """Split the largest batches until every rank gets the same count (no item repeated
        or dropped, so evaluation metrics stay exact under DDP)."""
        n = self.world_size
        if len(batches) < n and not self.fill_ranks:
            raise ValueError(
                f"the {self.name} split gives {len(batches)} batches for {n} processes "
                f"(trainer.devices x trainer.num_nodes): lower data.batch_size or data.max_tokens, "
                f"or use fewer processes"
            )
        while len(batches) < n or len(batches) % n:
            largest = max(range(len(batches)), key=lambda i: len(batches[i]))
            batch = batches[largest]
            if len(batch) < 2:
                raise ValueError(
                    f"the {self.name} split's {len(batches)} single-item batches cannot be shared "
                    f"evenly by {n} processes (trainer.devices x trainer.num_nodes): raise "
                    f"data.max_tokens or use fewer processes"
                )
            half = len(batch) // 2
            batches[largest : largest + 1] = [batch[:half], batch[half:]]
        return batches

    def _max_buckets(self) -> int:
        """At least two batches' worth of items per bucket, so batches still regroup between
        epochs on small datasets (a bucket that fits one batch would repeat it every epoch)."""
        per_batch = self.batch_size
        if self.max_tokens is not None:
            median = sorted(self.lengths)[len(self.lengths) // 2]
            per_batch = max(1, self.max_tokens // median)
        return max(1, len(self.lengths) // (2 * per_batch))

    def _warn_oversized(self) -> None:
        if self.max_tokens is None:
            return
        oversized = [i for i, n in enumerate(self.lengths) if n > self.max_tokens]
        if oversized:
            warnings.warn(
                f"{len(oversized)} {self.name} items are longer than data.max_tokens="
                f"{self.max_tokens} (longest {max(self.lengths)}); each gets a batch of its own",
                stacklevel=3,
            )
