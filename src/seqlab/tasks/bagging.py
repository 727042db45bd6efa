"""Online bagging: K members trained side by side, each on its own bootstrap.

Each member sees every batch, but example i counts w(seed, i, k) ~ Poisson(1) times in
member k's loss (Oza & Russell's online bagging). The weight is a hash of (seed, dataset
index, member), not a random draw: the bootstrap is the same in every epoch, on every DDP
rank, and after resuming. At evaluation the members' outputs are averaged by their heads.
"""

import hashlib
import math

import torch
from torch import Tensor


def hashed_uniform(seed: int, index: int, member: int | str) -> float:
    """A uniform in (0, 1) hashed from (seed, index, member): a draw with no state to keep."""
    digest = hashlib.blake2b(f"{seed}:{index}:{member}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") + 0.5) / 2.0**64


def bootstrap_weight(seed: int, index: int, member: int) -> int:
    """Poisson(1) draw by inverting its CDF at a uniform hashed from (seed, index, member)."""
    uniform = hashed_uniform(seed, index, member)
    count, probability = 0, math.exp(-1.0)
    cumulative = probability
    while uniform > cumulative:
        count += 1
        probability /= count
        cumulative += probability
    return count


def bootstrap_weights(seed: int, indices: Tensor, member: int) -> Tensor:
    """[B] float weights of member `member` for the dataset items `indices`."""
    counts = [bootstrap_weight(seed, i, member) for i in indices.tolist()]
    return torch.tensor(counts, dtype=torch.float32, device=indices.device)


def member_models(model: dict, members: int, models: list[dict]) -> list[dict]:
    """One model config per member: `model` K times, or `model` with each entry's overrides.

    An entry holding `_target_` is a complete model config of its own (another encoder).
    """
    if members < 1:
        raise ValueError(f"ensemble.members must be >= 1, got {members}")
    if not models:
        return [dict(model) for _ in range(members)]
    if members != len(models):
        raise ValueError(
            f"ensemble.members={members} but ensemble.models lists {len(models)} models; "
            f"set ensemble.members={len(models)}"
        )
    configs = []
    for number, entry in enumerate(models):
        if "_target_" in entry:
            configs.append(dict(entry))
            continue
        unknown = sorted(set(entry) - set(model))
        if unknown:
            raise ValueError(
                f"ensemble.models[{number}] sets {unknown}, which model "
                f"{model.get('_target_')} does not have (keys: {sorted(model)})"
            )
        configs.append({**model, **entry})
    return configs
