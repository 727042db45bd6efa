"""data=files end to end: train.py runs on a user's files given by path overrides alone."""

from pathlib import Path

import numpy as np
import pytest

from seqlab.train import train
from tests.conftest import TINY, compose_config
from tests.files_helpers import toy_sequences, write_long_csv, write_ts

RUN = [o for o in TINY if not o.startswith(("data", "logger"))] + ["logger=csv"]


def files_for(kind: str, tmp: Path) -> list[str]:
    """Write a small two-class data set as `kind` files; the data overrides that select it."""
    xs, ys = toy_sequences(48)
    xt, yt = toy_sequences(12, seed=1)
    if kind == "ts":
        train_path, test_path = write_ts(tmp / "a.ts", xs, ys), write_ts(tmp / "b.ts", xt, yt)
        return [f"data.train={train_path}", f"data.test={test_path}"]
    if kind == "npz":
        arrays = {"X_train": np.stack([x[:3] for x in xs]), "y_train": np.array(ys)}
        arrays |= {"X_test": np.stack([x[:3] for x in xt]), "y_test": np.array(yt)}
        np.savez(tmp / "d.npz", **arrays)  # equal lengths: ragged ones need data.allow_pickle
        return [f"data.train={tmp / 'd.npz'}"]
    train_path, test_path = (
        write_long_csv(tmp / "a.csv", xs, ys),
        write_long_csv(tmp / "b.csv", xt, yt),
    )
    return [f"data.train={train_path}", f"data.test={test_path}"]


@pytest.mark.parametrize("kind", ["ts", "npz", "csv"])
def test_train_on_files(kind: str, tmp_path: Path) -> None:
    data = files_for(kind, tmp_path)
    cfg = compose_config(
        [
            *RUN,
            "model=lstm",
            "model.hidden_size=8",
            f"paths.output_dir={tmp_path}",
            "data=files",
            *data,
        ]
    )
    metrics = train(cfg)
    assert 0.0 <= metrics["test/acc"] <= 1.0 and metrics["train/loss"] > 0
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()
    assert list((tmp_path / "csv").rglob("metrics.csv"))
