"""Value checks shared by every room, each naming the config key at fault."""

import math


def check_range(
    key: str,
    value: float,
    low: float,
    high: float,
    *,
    low_open: bool = False,
    high_open: bool = True,
) -> float:
    """`value` must lie in the interval from `low` to `high` (open ends as given)."""
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    if not (math.isfinite(value) or high == math.inf) or not (above and below):
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{key} must be in {interval}, got {value}")
    return value


def check_probability(key: str, value: float) -> float:
    """A drop or mask probability: [0, 1), since p = 1 would remove everything."""
    return check_range(key, value, 0.0, 1.0)


def check_positive(key: str, value: float) -> float:
    if not value > 0:
        raise ValueError(f"{key} must be > 0, got {value}")
    return value


def check_choice(key: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{key} must be one of {choices}, got {value!r}")
    return value
