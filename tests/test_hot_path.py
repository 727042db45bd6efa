"""The training step reads nothing back from the device except when the logs are written,
logs what Lightning writes, and still stops a NaN run naming the step, before a checkpoint."""

from collections import defaultdict

import pytest
import pytorch_lightning as pl
import torch

import seqlab.train
from seqlab.build import build_datamodule, build_task, build_trainer

SYNCS = ("item", "tolist", "__bool__", "__float__", "__int__")  # host reads of a tensor


class CountSyncs(pl.Callback):
    """Counts host reads of tensors inside `training_step`, per optimizer step."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reads: dict[int, int] = defaultdict(int)
        self.losses: dict[int, float] = {}
        self.monkeypatch, self.counting = monkeypatch, False
        for name in SYNCS:
            self.wrap(name, getattr(torch.Tensor, name))

    def wrap(self, name: str, original) -> None:
        def counted(tensor, *args, **kwargs):
            if self.counting:
                self.reads[self.step] += 1
            return original(tensor, *args, **kwargs)

        self.monkeypatch.setattr(torch.Tensor, name, counted)

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        step = pl_module.training_step

        def counted_step(*args, **kwargs):
            self.step, self.counting = trainer.global_step, True
            try:
                loss = step(*args, **kwargs)
            finally:
                self.counting = False
            self.losses[trainer.global_step] = loss.detach().clone()
            return loss

        pl_module.training_step = counted_step


def fit(tiny_config, monkeypatch, *overrides: str) -> tuple[pl.Trainer, CountSyncs]:
    cfg = tiny_config("callbacks=none", "trainer.limit_val_batches=0", *overrides)
    datamodule = build_datamodule(cfg)
    task = build_task(cfg, datamodule)
    counter = CountSyncs(monkeypatch)
    trainer = build_trainer(cfg, [counter], [])
    trainer.fit(task, datamodule=datamodule)
    monkeypatch.undo()
    return trainer, counter


def test_training_steps_between_logging_steps_read_nothing_back(tiny_config, monkeypatch) -> None:
    trainer, counter = fit(
        tiny_config, monkeypatch, "trainer.log_every_n_steps=3", "trainer.max_steps=4"
    )
    assert sorted(counter.losses) == [0, 1, 2, 3]
    assert counter.reads[0] == counter.reads[1] == 0, "no host read between logging steps"
    assert counter.reads[2] > 0, "the logging step (3rd) checks the loss on the host"
    assert counter.reads[3] > 0, "so does the run's last step"
    logged = trainer.callback_metrics["train/loss"]
    assert torch.equal(logged, counter.losses[3]), "train/loss is the last step's"


def test_the_logged_training_loss_is_each_logging_steps_own(tiny_config, monkeypatch) -> None:
    from pytorch_lightning.loggers import CSVLogger

    cfg = tiny_config("callbacks=none", "trainer.log_every_n_steps=2", "trainer.max_steps=4")
    datamodule = build_datamodule(cfg)
    task = build_task(cfg, datamodule)
    counter = CountSyncs(monkeypatch)
    logger = CSVLogger(cfg.paths.output_dir, name="csv")
    trainer = build_trainer(cfg, [counter], [logger])
    trainer.fit(task, datamodule=datamodule)
    monkeypatch.undo()
    with open(f"{logger.log_dir}/metrics.csv") as lines:
        header, *values = (line.strip().split(",") for line in lines)
    loss, step = header.index("train/loss"), header.index("step")
    logged = {int(r[step]): float(r[loss]) for r in values if r[loss]}
    assert sorted(logged) == [1, 3]
    for at, value in logged.items():
        assert value == pytest.approx(float(counter.losses[at]), rel=1e-6)


class PoisonAt(pl.Callback):
    """Sets a weight to NaN before optimizer step `step`, as a diverging run would."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *a) -> None:
        if trainer.global_step == self.step:
            next(pl_module.parameters()).data.fill_(float("nan"))


def test_a_nan_loss_stops_naming_its_step_before_a_checkpoint(tiny_config, monkeypatch) -> None:
    """Logs every 50 steps and checkpoints every step: step 1 (of 3 in the epoch) logs
    nothing, so the check that stops it is the one before its checkpoint."""
    build = seqlab.train.build_callbacks
    monkeypatch.setattr(seqlab.train, "build_callbacks", lambda *a: [*build(*a), PoisonAt(1)])
    cfg = tiny_config(
        "callbacks.last_checkpoint.every_n_train_steps=1",
        "trainer.log_every_n_steps=50",
    )
    with pytest.raises(FloatingPointError, match=r"training loss is nan .* at epoch 0, step 1,"):
        seqlab.train.train(cfg)
    last = torch.load(f"{cfg.paths.output_dir}/checkpoints/last.ckpt", weights_only=False)
    assert last["global_step"] == 1, "the last checkpoint is the last good state"


def test_training_metrics_skip_per_update_checks_validation_ones_keep_them(tiny_config) -> None:
    """torchmetrics' input checks read back from the device on every update."""
    cfg = tiny_config()
    task = build_task(cfg, build_datamodule(cfg))
    (train,) = task.metrics["train_metrics"]["model"].values()
    (val,) = task.metrics["val_metrics"]["model"].values()
    assert [m.validate_args for m in train.values()] == [False]
    assert [m.validate_args for m in val.values()] == [True]
