"""A run's life in one directory (in-process): Ctrl-C saves and resumes exactly into the same
CSV version and W&B run; a finished run reports instead of training again; a NaN loss names
its step and leaves the last good state; the same seed gives the same run."""

import json
import os
import signal
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch

import seqlab.train
from seqlab.checkpoints import read_checkpoint
from seqlab.loggers import finish_wandb
from seqlab.train import train
from tests.conftest import TINY, compose_config
from tests.wandb_reader import read_records, run_files

RUN = (*TINY, "model=lstm", "model.hidden_size=8", "trainer.max_epochs=2", "test=false")
DROPOUT = "regularizer=dropout"  # a resumed run must draw the masks the uninterrupted one drew


class SignalAt(pl.Callback):
    """Sends this process `signum` after optimizer step `step`, as a user's Ctrl-C would."""

    def __init__(self, step: int, signum: int) -> None:
        self.step, self.signum = step, signum

    def on_train_batch_end(self, trainer: pl.Trainer, *args) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), self.signum)


def config(run_dir: Path, *overrides: str):
    cfg = compose_config([*RUN, *overrides])
    cfg.paths.output_dir = str(run_dir)
    return cfg


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return read_checkpoint(run_dir / "checkpoints" / "last.ckpt")["state_dict"]


def test_ctrl_c_saves_and_the_run_continues_as_one(tmp_path: Path, monkeypatch) -> None:
    run_dir, reference = tmp_path / "run", tmp_path / "reference"
    build = seqlab.train.build_callbacks
    interrupt = SignalAt(3, signal.SIGINT)
    monkeypatch.setattr(seqlab.train, "build_callbacks", lambda *a: [*build(*a), interrupt])
    with pytest.raises(SystemExit) as stop:
        train(config(run_dir, "logger=[csv,wandb]", DROPOUT))
    finish_wandb(failed=True)
    assert stop.value.code == 128 + signal.SIGINT
    assert read_checkpoint(run_dir / "checkpoints" / "last.ckpt")["global_step"] == 3

    monkeypatch.setattr(seqlab.train, "build_callbacks", build)
    resumed = train(config(run_dir, "logger=[csv,wandb]", DROPOUT))
    finish_wandb(failed=False)
    assert resumed == train(config(reference, "logger=csv", DROPOUT))
    ours, theirs = weights(run_dir), weights(reference)
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
    assert [p.name for p in (run_dir / "csv").iterdir()] == ["version_0"]
    first, second = run_files(run_dir)
    ids = {r.run.run_id for f in (first, second) for r in read_records(f) if r.HasField("run")}
    assert ids == {(run_dir / "wandb_run_id").read_text().strip()}, "one W&B run, resumed"


def test_a_finished_run_reports_instead_of_training(tmp_path: Path, caplog) -> None:
    first = train(config(tmp_path, "logger=csv", "trainer.max_epochs=1"))
    metrics_csv = tmp_path / "csv" / "version_0" / "metrics.csv"
    written, saved = metrics_csv.read_bytes(), (tmp_path / "checkpoints" / "last.ckpt").stat()
    steps = json.loads((tmp_path / "finished.json").read_text())["global_step"]

    assert train(config(tmp_path, "logger=csv", "trainer.max_epochs=1")) == first
    assert f"this run already finished (epochs: 1, steps: {steps})" in caplog.text
    assert metrics_csv.read_bytes() == written
    assert (tmp_path / "checkpoints" / "last.ckpt").stat().st_mtime_ns == saved.st_mtime_ns

    train(config(tmp_path, "logger=csv", "trainer.max_epochs=2"))
    assert "trainer.max_epochs=2 > 1: continuing its training" in caplog.text
    record = json.loads((tmp_path / "finished.json").read_text())
    assert (record["epoch"], record["global_step"], record["max_epochs"]) == (2, 2 * steps, 2)
    rows = metrics_csv.read_text().splitlines()
    assert set(written.decode().splitlines()[1:]) <= set(rows), "the first epoch's rows are kept"
    assert [p.name for p in (tmp_path / "csv").iterdir()] == ["version_0"]


def test_a_fit_ending_inside_an_epoch_saves_its_last_step(tmp_path: Path) -> None:
    """max_steps inside the first epoch: no validation ran, early stopping has no metric yet."""
    train(config(tmp_path, "logger=csv", "trainer.max_steps=3"))
    assert read_checkpoint(tmp_path / "checkpoints" / "last.ckpt")["global_step"] == 3


class LastSaved(pl.Callback):
    """The step held by last.ckpt at the start of each epoch (None: no file yet)."""

    def __init__(self, path: Path) -> None:
        self.path, self.steps = path, []

    def on_train_epoch_start(self, trainer: pl.Trainer, *args) -> None:
        saved = read_checkpoint(self.path)["global_step"] if self.path.exists() else None
        self.steps.append(saved)


@pytest.mark.parametrize(("interval", "expected"), [("0", [None, 5, 10]), ("30", [None] * 3)])
def test_epoch_ends_save_last_only_after_the_interval(tmp_path, monkeypatch, interval, expected):
    """Epochs of a fraction of a second do not write a file each; the end of fit always does."""
    saved = LastSaved(tmp_path / "checkpoints" / "last.ckpt")
    build = seqlab.train.build_callbacks
    monkeypatch.setattr(seqlab.train, "build_callbacks", lambda *a: [*build(*a), saved])
    overrides = ("data.num_items=32", "data.batch_size=8", "trainer.max_epochs=3")
    train(config(tmp_path, *overrides, f"callbacks.last_checkpoint.min_interval_s={interval}"))
    assert saved.steps == expected
    assert read_checkpoint(saved.path)["global_step"] == 15  # 5 steps per epoch (bucketing)


class PoisonAt(pl.Callback):
    """Sets a weight to NaN before optimizer step `step`, as a diverging run would."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *a) -> None:
        if trainer.global_step == self.step:
            next(pl_module.parameters()).data.fill_(float("nan"))


def test_a_nan_loss_names_the_step_and_keeps_the_last_good_state(tmp_path, monkeypatch) -> None:
    build = seqlab.train.build_callbacks
    monkeypatch.setattr(seqlab.train, "build_callbacks", lambda *a: [*build(*a), PoisonAt(2)])
    cfg = config(tmp_path, "logger=csv", "callbacks.last_checkpoint.every_n_train_steps=1")
    with pytest.raises(FloatingPointError, match="training loss is nan .* at epoch 0, step 2"):
        train(cfg)
    assert read_checkpoint(tmp_path / "checkpoints" / "last.ckpt")["global_step"] == 2


def test_the_same_seed_gives_the_same_run_bit_for_bit(tmp_path: Path) -> None:
    runs = [tmp_path / "a", tmp_path / "b"]
    first, second = (train(config(d, "logger=csv")) for d in runs)
    assert first == second
    ours, theirs = (weights(d) for d in runs)
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
