"""Long-format CSV: one row per step with a sequence id, a step, features and a label.

Rows of a sequence need not be adjacent; they are ordered by the step column. A sequence
label (`per_step=False`) must be the same on every row of its sequence. Line numbers in
errors count the header as line 1.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from seqlab.data.readers import Records


@dataclass
class CsvColumns:
    """Column names of a long CSV; `features` None: every column but id, step and label."""

    id: str = "id"
    step: str = "step"
    label: str = "label"
    features: list[str] | None = None


def read_long_csv(path: str, columns: CsvColumns, per_step: bool) -> Records:
    """Sequences [T, D] of the feature columns, targets from the label column (None if the
    file has no label column: a prediction file)."""
    try:
        table = pd.read_csv(path)
    except Exception as error:
        raise ValueError(f"{path}: pandas cannot read it as CSV: {error}") from error
    ids, step, label = columns.id, columns.step, columns.label
    features = list(columns.features or [c for c in table.columns if c not in (ids, step, label)])
    for role, name in (("id", ids), ("step", step), *(("features", f) for f in features)):
        if name not in table.columns:
            raise ValueError(
                f"{path}: no column {name!r} (data.columns.{role}); the header has "
                f"{list(table.columns)}"
            )
    for name in (ids, step):
        missing = np.flatnonzero(table[name].isna().to_numpy())
        if missing.size:
            raise ValueError(f"{path}: line {missing[0] + 2} has no {name!r} (data.columns)")
    if not features:
        raise ValueError(f"{path}: no feature columns besides {ids!r}, {step!r}, {label!r}")
    values = _numbers(path, table, list(features))
    line = np.arange(len(table)) + 2
    labelled = label in table.columns
    inputs, targets, where = [], [], []
    for key, rows in table.groupby(ids, sort=False).indices.items():
        rows = rows[np.argsort(table[step].to_numpy()[rows], kind="stable")]
        _check_steps(path, table[step].to_numpy()[rows], line[rows], key)
        inputs.append(values[rows])
        where.append(f"sequence {key!r} (line {line[rows].min()})")
        if labelled:
            targets.append(_target(path, table[label].to_numpy()[rows], line[rows], per_step))
    return Records(path, inputs, targets if labelled else None, where)


def _numbers(path: str, table: pd.DataFrame, features: list[str]) -> np.ndarray:
    """[rows, D] floats; a cell that is not a finite number is an error naming line and column."""
    out = np.empty((len(table), len(features)))
    for j, name in enumerate(features):
        column = pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(column))
        if bad.size:
            cell = table[name].iloc[bad[0]]
            raise ValueError(
                f"{path}: line {bad[0] + 2}, column {name!r}: {cell!r} is not a finite number "
                f"({bad.size} such cells in this column)"
            )
        out[:, j] = column
    return out


def _check_steps(path: str, steps: np.ndarray, lines: np.ndarray, key: object) -> None:
    repeated = np.flatnonzero(steps[1:] == steps[:-1])
    if repeated.size:
        k = repeated[0]
        raise ValueError(
            f"{path}: sequence {key!r} has step {steps[k]} twice (lines {lines[k]} and "
            f"{lines[k + 1]})"
        )


def _target(path: str, labels: np.ndarray, lines: np.ndarray, per_step: bool) -> object:
    """The sequence's label (the same on all its rows) or its per-step labels."""
    missing = np.flatnonzero(pd.isna(labels))
    if missing.size:
        raise ValueError(f"{path}: line {lines[missing[0]]} has no label")
    if per_step:
        return labels
    differs = np.flatnonzero(labels != labels[0])
    if differs.size:
        k = differs[0]
        raise ValueError(
            f"{path}: line {lines[k]} has label '{labels[k]}', but its sequence's line "
            f"{lines[0]} has '{labels[0]}': a per-sequence task needs one label per sequence "
            "(per-step labels: data.task=classify_steps or regress_steps)"
        )
    return labels[0]
