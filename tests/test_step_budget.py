"""A tiny training set still gets `min_steps` optimizer steps, and schedules see them."""

import math

import pytorch_lightning as pl
from omegaconf import DictConfig

from seqlab.build import build_callbacks, build_datamodule, build_task, build_trainer
from seqlab.data.datamodule import SequenceDataModule


def fit(cfg: DictConfig) -> tuple[pl.Trainer, SequenceDataModule]:
    datamodule = build_datamodule(cfg)
    task = build_task(cfg, datamodule)
    trainer = build_trainer(cfg, build_callbacks(cfg, []), [])
    trainer.fit(task, datamodule=datamodule)
    return trainer, datamodule


def test_the_epoch_cap_rises_to_reach_min_steps(tiny_config) -> None:
    trainer, _ = fit(tiny_config("callbacks.step_budget.min_steps=10", "scheduler=warmup_cosine"))
    per_epoch = len(trainer.train_dataloader)
    assert per_epoch < 10  # one epoch alone would fall short
    assert trainer.max_epochs == math.ceil(10 / per_epoch)
    assert trainer.global_step >= 10
    assert trainer.estimated_stepping_batches == trainer.max_epochs * per_epoch  # the schedule's


def test_an_explicit_max_steps_is_left_alone(tiny_config) -> None:
    trainer, _ = fit(tiny_config("callbacks.step_budget.min_steps=10", "trainer.max_steps=3"))
    assert trainer.global_step == 3
    assert trainer.max_epochs == 1
