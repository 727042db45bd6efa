"""`.npz` (numpy) and `.pt` (torch.save) files holding sequences and labels under named keys.

Sequences may be one array [N, T, D] (or [N, T], univariate) or a list of [T, D] (or [T])
arrays of different lengths. A ragged list in an `.npz` file is an object array, which numpy
reads only through pickle (running code from the file), so it needs `data.allow_pickle=true`;
a `.pt` file is read with `weights_only=True`, which loads lists of tensors without pickle code.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from seqlab.data.readers import Records


@dataclass
class ArrayKeys:
    """The names of each split's sequences (X) and targets (y) inside an archive."""

    X_train: str = "X_train"
    y_train: str = "y_train"
    X_val: str = "X_val"
    y_val: str = "y_val"
    X_test: str = "X_test"
    y_test: str = "y_test"


def load_arrays(path: str, fmt: str, allow_pickle: bool) -> Mapping[str, Any]:
    """The file's key -> value map (npz values are read lazily, on first access)."""
    if fmt == "pt":
        try:
            content = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:
            raise ValueError(f"{path}: torch.load cannot read it: {error}") from error
        if not isinstance(content, Mapping):
            raise ValueError(
                f"{path}: holds a {type(content).__name__}, expected a dict of named arrays "
                "(X_train, y_train, X_test, y_test, ...)"
            )
        return content
    try:
        return np.load(path, allow_pickle=allow_pickle)
    except Exception as error:
        raise ValueError(f"{path}: numpy cannot read it as an .npz archive: {error}") from error


def read_arrays(
    path: str, content: Mapping[str, Any], x_key: str, y_key: str, roles: tuple[str, str]
) -> Records:
    """Sequences under `x_key` and targets under `y_key` (absent: None); `roles` name the
    config keys (data.keys.X_train, ...) that chose them."""
    inputs = _sequences(path, x_key, _value(path, content, x_key, roles[0]))
    where = [f"{x_key}[{i}]" for i in range(len(inputs))]
    if y_key not in content:
        return Records(path, inputs, None, where)
    targets = _items(_value(path, content, y_key, roles[1]))
    if len(targets) != len(inputs):
        raise ValueError(
            f"{path}: {x_key!r} holds {len(inputs)} sequences but {y_key!r} {len(targets)} targets"
        )
    return Records(path, inputs, targets, where)


def _value(path: str, content: Mapping[str, Any], key: str, role: str) -> Any:
    if key not in content:
        raise ValueError(
            f"{path}: no array {key!r} (data.keys.{role}); the file holds {sorted(content)}"
        )
    try:
        value = content[key]
    except ValueError as error:  # an object array without allow_pickle
        raise ValueError(
            f"{path}: {key!r} is an object array (sequences of different lengths), which numpy "
            "reads only with pickle: set data.allow_pickle=true if you trust the file, or save "
            f"it as a .pt file with torch.save ({error})"
        ) from error
    return value.numpy() if isinstance(value, torch.Tensor) else value


def _items(value: Any) -> list[Any]:
    """One entry per sequence: rows of an array, or the elements of a list / object array."""
    return [v.numpy() if isinstance(v, torch.Tensor) else v for v in value]


def _sequences(path: str, key: str, value: Any) -> list[np.ndarray]:
    if isinstance(value, np.ndarray) and value.dtype != object:
        if value.ndim == 2:
            value = value[:, :, None]
        if value.ndim != 3:
            raise ValueError(
                f"{path}: {key!r} has shape {value.shape}; expected [N, T, D], [N, T] or a list "
                "of [T, D] sequences"
            )
    out = []
    for index, item in enumerate(_items(value)):
        try:
            array = np.asarray(item, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{path}: {key}[{index}] is not a rectangular [T, D] array of numbers (ragged "
                f"feature counts?): {error}"
            ) from error
        array = array[:, None] if array.ndim == 1 else array
        if array.ndim != 2:
            raise ValueError(f"{path}: {key}[{index}] has shape {array.shape}; expected [T, D]")
        out.append(array)
    return out
