"""Hold-out splits and train-only feature standardisation."""

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


def standardize(train: Sequence[Tensor], *others: Sequence[Tensor]) -> list[list[Tensor]]:
    """Scale every split by the per-feature mean and std of the real training frames."""
    frames = torch.cat(list(train))
    mean, std = frames.mean(0), frames.std(0).clamp_min(1e-8)
    return [[(x - mean) / std for x in split] for split in (train, *others)]
