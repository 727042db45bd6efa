"""Raw targets of feature files -> tensors, for each per-sequence or per-step `data.task`.

Every target of every file is checked before any dataset is built; errors name the file and
the item. Class names come from the training file only, so a validation, test or prediction
label never seen in training is an error, not a new class.
"""

import numpy as np
import torch
from torch import Tensor

from seqlab.data.labels import class_names
from seqlab.data.readers import Records

Splits = dict[str, Records]


def label_text(value: object) -> str | None:
    """A label as its class name (1.0 and 1 both name class "1"); None when it is missing."""
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            return None
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, int | np.integer):
        return str(int(value))
    text = "" if value is None else str(value).strip()
    return text or None


def class_targets(records: Splits, per_step: bool) -> tuple[dict[str, list[Tensor]], tuple]:
    """Class ids per split (zeros for a prediction file without labels) and the class names."""
    labels = {split: _labels(r, per_step) for split, r in records.items()}
    train = records["train"]
    flat = [c for item in labels["train"] for c in (item if per_step else [item])]
    classes = class_names(flat)
    if len(classes) < 2:
        raise ValueError(f"{train.path}: every label is {classes}: classifying needs two classes")
    index = {c: i for i, c in enumerate(classes)}
    out = {}
    for split, items in labels.items():
        r = records[split]
        if items is None:
            out[split] = [_zeros(x, per_step, torch.long) for x in r.inputs]
            continue
        for i, item in enumerate(items):
            unseen = [c for c in (item if per_step else [item]) if c not in index]
            if unseen:
                raise ValueError(
                    f"{r.place(i)} has label {unseen[0]!r}, which never occurs in the training "
                    f"file {train.path} (its classes: {', '.join(classes)})"
                )
        out[split] = [
            torch.tensor([index[c] for c in item] if per_step else index[item]) for item in items
        ]
    return out, classes


def value_targets(records: Splits, per_step: bool) -> tuple[dict[str, list[Tensor]], int]:
    """Float targets per split (zeros for a prediction file without them) and the number of
    values per sequence or step (one per sequence; per step [T] or [T, K])."""
    out, size = {}, None
    for split, r in records.items():
        if r.targets is None:
            out[split] = [_zeros(x, per_step, torch.float32) for x in r.inputs]
            continue
        values = []
        for i, (x, raw) in enumerate(zip(r.inputs, r.targets, strict=True)):
            value = _values(r, i, raw, x.shape[0] if per_step else None)
            width = value.shape[1] if value.dim() == 2 else 1
            if size is not None and width != size:
                raise ValueError(f"{r.place(i)} has {width} target values per step, not {size}")
            size = width
            values.append(value)
        out[split] = values
    return out, size or 1


def _labels(r: Records, per_step: bool) -> list | None:
    if r.targets is None:
        return None
    out = []
    for i, (x, raw) in enumerate(zip(r.inputs, r.targets, strict=True)):
        if not per_step:
            if np.ndim(raw) != 0:
                raise ValueError(
                    f"{r.place(i)} has {np.size(raw)} labels; a per-sequence task needs one "
                    "(per-step labels: data.task=classify_steps)"
                )
            raw = [raw]
        elif np.ndim(raw) != 1 or len(raw) != x.shape[0]:
            raise ValueError(f"{r.place(i)} has {np.size(raw)} labels for {x.shape[0]} steps")
        names = [label_text(v) for v in raw]
        if None in names:
            at = f" at step {names.index(None)}" if per_step else ""
            raise ValueError(f"{r.place(i)} has no label{at}")
        out.append(names if per_step else names[0])
    return out


def _values(r: Records, i: int, raw: object, steps: int | None) -> Tensor:
    """One finite value (`steps` None) or [steps] / [steps, K] finite values."""
    try:
        value = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{r.place(i)}: the target is not numeric ({error})") from error
    if steps is None and value.ndim != 0:
        raise ValueError(
            f"{r.place(i)} has {value.size} target values; a per-sequence task needs one "
            "(per-step values: data.task=regress_steps)"
        )
    if steps is not None and (value.ndim not in (1, 2) or len(value) != steps):
        raise ValueError(f"{r.place(i)} has targets of shape {value.shape} for {steps} steps")
    if not np.isfinite(value).all():
        raise ValueError(f"{r.place(i)} has a missing or non-finite target value")
    return torch.from_numpy(value).float()


def _zeros(x: np.ndarray, per_step: bool, dtype: torch.dtype) -> Tensor:
    """Placeholder targets of an unlabelled prediction item (never scored)."""
    return torch.zeros(x.shape[0] if per_step else (), dtype=dtype)
