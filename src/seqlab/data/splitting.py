"""Hold-out splits and train-only feature standardisation."""

import hashlib
from collections.abc import Sequence

import torch
from torch import Tensor


def stratified_holdout(labels: Sequence[int], fraction: float, seed: int) -> tuple[list, list]:
    """Indices (keep, held_out): `fraction` of every class held out, chosen by `seed`."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"data.val_fraction must be in (0, 1), got {fraction}")
    generator = torch.Generator().manual_seed(seed)
    keep, held_out = [], []
    for label in sorted(set(labels)):
        members = [i for i, y in enumerate(labels) if y == label]
        order = torch.randperm(len(members), generator=generator).tolist()
        n_out = round(len(members) * fraction)
        held_out += [members[j] for j in order[:n_out]]
        keep += [members[j] for j in order[n_out:]]
    return sorted(keep), sorted(held_out)


def scaling(train: Sequence[Tensor]) -> tuple[Tensor, Tensor]:
    """Per-feature mean and std of the real training frames (items [T, D], no padding)."""
    frames = torch.cat(list(train))
    return frames.mean(0), frames.std(0).clamp_min(1e-8)


def standardize(train: Sequence[Tensor], *others: Sequence[Tensor]) -> list[list[Tensor]]:
    """Scale every split by the per-feature mean and std of the real training frames."""
    mean, std = scaling(train)
    return [[(x - mean) / std for x in split] for split in (train, *others)]


def hash_split(key: str, val_fraction: float, test_fraction: float, salt: str = "") -> str:
    """'train', 'val' or 'test' for `key`, stable across runs, machines and Python versions.

    Splitting by a hash of the grouping key (e.g. a word) keeps every item of that key in
    one split, so nothing leaks between them.
    """
    if not (val_fraction >= 0 and test_fraction >= 0 and val_fraction + test_fraction < 1):
        raise ValueError(
            f"split fractions need 0 <= val, test and val + test < 1, got {val_fraction}, "
            f"{test_fraction}"
        )
    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < test_fraction:
        return "test"
    return "val" if u < test_fraction + val_fraction else "train"
