"""Shared checks and seeding of the generated long-memory tasks (adding, copy memory)."""

import torch

SPLITS = ("train", "val", "test")


def split_generator(seed: int, split: str) -> torch.Generator:
    """One generator per (seed, split): each split is its own stream, reproducible from the seed."""
    return torch.Generator().manual_seed(3 * seed + SPLITS.index(split))


def split_size(num_items: int, split: str) -> int:
    """Training items, or a quarter of them (at least one) for validation and test."""
    return num_items if split == "train" else max(num_items // 4, 1)


def check_positive(**values: int) -> None:
    """Refuse sizes <= 0 before anything is generated, naming the `data.` key."""
    for key, value in values.items():
        if value <= 0:
            raise ValueError(f"data.{key} must be > 0, got {value}")
