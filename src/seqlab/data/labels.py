"""Class names from the training labels, in the order people expect (2 before 10)."""

from collections.abc import Iterable


def natural_key(label: str) -> tuple:
    """Numbers by value first, then other names alphabetically."""
    return (0, float(label), "") if label.replace(".", "", 1).isdigit() else (1, 0.0, label)


def class_names(labels: Iterable[str]) -> tuple[str, ...]:
    """The distinct labels, naturally sorted: class i is the i-th name."""
    return tuple(sorted(set(labels), key=natural_key))
