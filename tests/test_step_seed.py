"""Training draws (dropout masks, noise, augmentation) are seeded per batch from the run's
seed, the rank and the batch's place in the fit: the same in every run of that seed, new
for every batch (accumulated ones too) and every DDP rank."""

from pathlib import Path

import pytorch_lightning as pl
import torch

import seqlab.train
from seqlab.tasks.step_seed import batch_seed
from seqlab.train import train
from tests.conftest import TINY, compose_config

BUILD = seqlab.train.build_callbacks


class FirstDraws(pl.Callback):
    """A uniform draw at the end of every training batch: it follows the batch's seed."""

    def __init__(self) -> None:
        self.draws: list[float] = []

    def on_train_batch_end(self, *args) -> None:
        self.draws.append(torch.rand(()).item())  # after the batch: the state it left


def draws(tmp_path: Path, monkeypatch, *overrides: str) -> list[float]:
    recorder = FirstDraws()
    monkeypatch.setattr(seqlab.train, "build_callbacks", lambda *a: [*BUILD(*a), recorder])
    cfg = compose_config([*TINY, "model=lstm", "model.hidden_size=8", "test=false", *overrides])
    cfg.paths.output_dir = str(tmp_path)
    train(cfg)
    return recorder.draws


def test_each_batch_draws_anew_and_a_rerun_draws_the_same(tmp_path: Path, monkeypatch) -> None:
    run = ("regularizer=dropout", "trainer.accumulate_grad_batches=2", "trainer.max_epochs=2")
    first = draws(tmp_path / "a", monkeypatch, *run)
    assert len(first) >= 8 and len(set(first)) == len(first)  # 2 epochs, 2 batches per step
    assert draws(tmp_path / "b", monkeypatch, *run) == first
    other_seed = draws(tmp_path / "c", monkeypatch, *run, "seed=7")
    assert not set(other_seed) & set(first)


def test_ranks_and_batches_get_their_own_seeds() -> None:
    seeds = {batch_seed(42, rank, batch) for rank in range(4) for batch in range(256)}
    assert len(seeds) == 4 * 256
    assert all(0 <= seed < 2**63 for seed in seeds)
    assert batch_seed(42, 0, 5) == batch_seed(42, 0, 5)
