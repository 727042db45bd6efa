"""Small data files of every `data=files` format, written into a test's tmp dir."""

from collections.abc import Sequence
from pathlib import Path

import numpy as np

TS_HEADER = """@problemName tiny
@timeStamps false
@missing false
@univariate false
@dimensions {dims}
@equalLength false
@classLabel true {classes}
@data
"""


def toy_sequences(
    n: int, features: int = 2, seed: int = 0, classes: Sequence[str] = ("a", "b")
) -> tuple[list[np.ndarray], list[str]]:
    """`n` sequences [T, features] of lengths 3..9; the class sets the mean of feature 0."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for i in range(n):
        label = classes[i % len(classes)]
        x = rng.normal(size=(int(rng.integers(3, 10)), features))
        x[:, 0] += 3.0 * classes.index(label)
        xs.append(x)
        ys.append(label)
    return xs, ys


def write_ts(path: Path, xs: Sequence[np.ndarray], ys: Sequence[str], classes: str = "a b") -> Path:
    """A UEA `.ts` file: one case per line, channels separated by ':', then the label."""
    lines = [
        ":".join(",".join(f"{v:.6f}" for v in channel) for channel in x.T) + f":{y}"
        for x, y in zip(xs, ys, strict=True)
    ]
    dims = xs[0].shape[1] if len(xs) else 1
    path.write_text(TS_HEADER.format(dims=dims, classes=classes) + "\n".join(lines) + "\n")
    return path


def write_long_csv(
    path: Path, xs: Sequence[np.ndarray], ys: Sequence, per_step: bool = False
) -> Path:
    """A long CSV (id, step, f0.., label), rows of each sequence in reverse step order."""
    rows = ["id,step," + ",".join(f"f{j}" for j in range(xs[0].shape[1])) + ",label"]
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        for t in reversed(range(len(x))):
            label = y[t] if per_step else y
            rows.append(f"s{i},{t}," + ",".join(f"{v:.6f}" for v in x[t]) + f",{label}")
    path.write_text("\n".join(rows) + "\n")
    return path


def object_array(items: Sequence[np.ndarray]) -> np.ndarray:
    """A 1-D object array of (ragged) arrays, as numpy stores lists of sequences."""
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out
