"""Gradient norms per layer and in total, read back from an offline W&B run file."""

import math

import pytest
import pytorch_lightning as pl
import torch
import wandb
from pytorch_lightning.loggers import Logger
from pytorch_lightning.plugins import MixedPrecision
from torch import nn

from seqlab.build import build_datamodule, build_task
from seqlab.callbacks.grad_norms import GradNorms, gradient_norms, layer_name
from seqlab.loggers import finish_wandb
from seqlab.train import train
from tests.conftest import TINY, compose_config
from tests.wandb_reader import history, run_files


def test_parameters_group_by_module_layer_and_direction() -> None:
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    names = {layer_name(f"encoder.rnn.{name}") for name, _ in lstm.named_parameters()}
    assert names == {
        "encoder.rnn.l0",
        "encoder.rnn.l0_reverse",
        "encoder.rnn.l1",
        "encoder.rnn.l1_reverse",
    }
    assert layer_name("head.bias") == "head"
    assert layer_name("bias") == "bias"


def test_layer_norms_add_up_to_the_total_norm() -> None:
    model = nn.Sequential(nn.GRU(3, 5, num_layers=2, batch_first=True))
    model[0](torch.randn(2, 7, 3))[0].pow(2).sum().backward()
    norms = gradient_norms(model)
    expected = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in model.parameters()]))
    assert norms["total"] == pytest.approx(expected.item(), rel=1e-5)
    layers = [v for k, v in norms.items() if k != "total"]
    assert set(norms) == {"0.l0", "0.l1", "total"}
    assert math.sqrt(sum(v * v for v in layers)) == pytest.approx(norms["total"], rel=1e-5)


# the task's layers: the encoder's two LSTM layers and the head's output layer
LAYERS = [
    "grad_norm/encoder.rnn.l0",
    "grad_norm/encoder.rnn.l1",
    "grad_norm/heads.main.out",
]
LAYERLESS = ("grad_norm/total",)  # total and total_clipped


def test_offline_wandb_run_holds_the_gradient_norm_series(tiny_config, tmp_path) -> None:
    cfg = tiny_config(
        "logger=wandb",
        "model=lstm",
        "model.num_layers=2",
        "trainer.log_every_n_steps=3",
        "data.batching=random",  # 32 items / 8 = exactly 4 steps (bucket mode may make 5)
        "trainer.max_epochs=2",
        "trainer.gradient_clip_val=0.01",
        "callbacks.grad_flow=null",
        "test=false",
    )
    try:
        train(cfg)
    finally:
        finish_wandb(failed=False)
        wandb.teardown()  # the W&B service writes the file asynchronously: wait for it
    (run_file,) = run_files(tmp_path)
    rows = [row for row in history(run_file) if "grad_norm/total" in row]
    steps = [row["trainer/global_step"] for row in rows]
    assert steps == [0, 3, 6]  # 4 batches x 2 epochs = 8 optimizer steps, every 3rd logged
    for row in rows:
        names = {k for k in row if k.startswith("grad_norm/") and not k.startswith(LAYERLESS)}
        assert names == set(LAYERS)  # parameter names of the task: models.<k>.<part>
        layers = [row[name] for name in LAYERS]
        assert all(math.isfinite(v) and v > 0 for v in layers)
        assert math.sqrt(sum(v * v for v in layers)) == pytest.approx(row["grad_norm/total"])
    clipped = {
        r["trainer/global_step"]: r["grad_norm/total_clipped"]
        for r in history(run_file)
        if "grad_norm/total_clipped" in r
    }
    assert sorted(clipped) == steps
    for row in rows:
        assert row["grad_norm/total"] > 0.01  # so clipping had work to do
        assert clipped[row["trainer/global_step"]] == pytest.approx(0.01, rel=1e-3)


class RecordingLogger(Logger):
    """Keeps what is logged, in memory."""

    name, version = "recording", 0

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[int | None, dict]] = []

    def log_metrics(self, metrics: dict, step: int | None = None) -> None:
        self.rows.append((step, dict(metrics)))

    def log_hyperparams(self, *args, **kwargs) -> None:
        pass


def first_total_norm(plugins: list) -> float:
    cfg = compose_config([*TINY, "paths.output_dir=/tmp/unused"])
    pl.seed_everything(0)
    datamodule = build_datamodule(cfg)
    task = build_task(cfg, datamodule)
    logger = RecordingLogger()
    trainer = pl.Trainer(
        accelerator="cpu",
        max_steps=1,
        logger=logger,
        callbacks=[GradNorms(log_every_n_steps=1)],
        plugins=plugins,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
    )
    trainer.fit(task, datamodule=datamodule)
    return next(row["grad_norm/total"] for _, row in logger.rows if "grad_norm/total" in row)


def test_norms_are_measured_after_mixed_precision_unscaling() -> None:
    full = first_total_norm([])
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**16)
    mixed = first_total_norm([MixedPrecision("16-mixed", "cpu", scaler)])
    assert mixed == pytest.approx(full, rel=1e-2)  # scaled gradients would be 65536x larger
