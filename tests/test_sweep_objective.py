"""A sweep trial returns the monitored value of the checkpoint that `test` uses."""

from types import SimpleNamespace

import torch

from seqlab.train import OBJECTIVE, sweep_objective, train


def stub_trainer(best: float | None, last: float, monitor: str = "val/acc") -> SimpleNamespace:
    checkpoint = SimpleNamespace(
        monitor=monitor,
        best_model_score=None if best is None else torch.tensor(best, dtype=torch.float64),
    )
    return SimpleNamespace(checkpoint_callback=checkpoint, callback_metrics={"val/acc": last})


def test_objective_is_the_best_checkpoints_score_not_the_last_epochs() -> None:
    assert sweep_objective(stub_trainer(best=0.9, last=0.6), "val/acc") == 0.9


def test_objective_falls_back_to_the_last_value_without_a_best_checkpoint() -> None:
    assert sweep_objective(stub_trainer(best=None, last=0.6), "val/acc") == 0.6
    other = stub_trainer(best=0.9, last=0.6, monitor="val/loss")
    assert sweep_objective(other, "val/acc") == 0.6


def test_a_run_reports_its_best_validation_score(tiny_config) -> None:
    cfg = tiny_config("trainer.max_epochs=3")
    metrics = train(cfg)
    better = max if cfg.task.monitor_mode == "max" else min
    assert better(metrics[OBJECTIVE], metrics[cfg.task.monitor]) == metrics[OBJECTIVE]
