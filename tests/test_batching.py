"""Batching through the DataModule and a real Trainer: epochs, metrics, padding, resuming."""

from pathlib import Path

import pytest
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from pytorch_lightning.callbacks import ModelCheckpoint

from seqlab.build import build_datamodule, build_task, build_trainer
from seqlab.callbacks.padding import PaddingFraction
from tests.batch_recorder import BatchRecorder


def fit(cfg, *callbacks, ckpt_path: str | None = None):
    datamodule = build_datamodule(cfg)
    task = build_task(cfg, datamodule)
    trainer = build_trainer(cfg, list(callbacks), loggers=[])
    trainer.fit(task, datamodule=datamodule, ckpt_path=ckpt_path)
    return trainer, task, datamodule


def test_training_epochs_cover_the_data_with_new_batches(tiny_config) -> None:
    recorder = BatchRecorder()
    fit(tiny_config("trainer.max_epochs=3", "callbacks=none"), recorder)
    epochs = [recorder.epochs[e] for e in range(3)]
    for batches in epochs:
        assert sorted(i for b in batches for i in b) == list(range(32))
    assert epochs[0] != epochs[1] != epochs[2]


def test_overfit_reuses_the_same_batches(tiny_config) -> None:
    recorder = BatchRecorder()
    cfg = tiny_config("debug=overfit", "trainer.max_epochs=3", "callbacks=none")
    fit(cfg, recorder)
    assert recorder.epochs[0] == recorder.epochs[1] == recorder.epochs[2]


def test_eval_batch_order_changes_no_metric(tiny_config) -> None:
    cfg = tiny_config("data.num_items=64", "callbacks=none")
    trainer, task, datamodule = fit(cfg, PaddingFraction())
    results = {}
    for mode in ("sorted", "random", "bucket"):
        datamodule.eval_batching = mode
        (results[mode],) = trainer.test(task, datamodule=datamodule, verbose=False)
    for mode in ("random", "bucket"):
        assert results[mode]["test/acc"] == results["sorted"]["test/acc"]
        assert results[mode]["test/loss"] == pytest.approx(results["sorted"]["test/loss"], 1e-6)
    assert results["sorted"]["test/padding_fraction"] < results["random"]["test/padding_fraction"]


def test_padding_fraction_is_logged_and_bucket_pads_less(tiny_config) -> None:
    fractions = {}
    for mode in ("random", "bucket"):
        cfg = tiny_config("data.num_items=128", f"data.batching={mode}", "callbacks=none")
        trainer, _, _ = fit(cfg, PaddingFraction())
        fractions[mode] = float(trainer.callback_metrics["train/padding_fraction"])
        assert 0 <= float(trainer.callback_metrics["val/padding_fraction"]) < 1
    assert 0 <= fractions["bucket"] < fractions["random"] / 2


def test_resuming_mid_epoch_continues_with_the_same_batches(tiny_config, tmp_path: Path) -> None:
    cfg = tiny_config("trainer.max_epochs=2", "callbacks=none", "data.batch_size=4")
    full = BatchRecorder()
    saver = ModelCheckpoint(tmp_path / "steps", every_n_train_steps=3, save_top_k=-1)
    fit(cfg, full, saver)
    (ckpt,) = (tmp_path / "steps").glob("*step=3.ckpt")
    resumed = BatchRecorder()
    fit(cfg, resumed, ckpt_path=str(ckpt))
    assert resumed.epochs[0] == full.epochs[0][3:]
    assert resumed.epochs[1] == full.epochs[1]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("data.batch_size=0", "data.batch_size must be > 0"),
        ("data.max_tokens=0", "data.max_tokens must be > 0"),
        ("data.batching=shuffle", "data.batching must be one of"),
        ("data.eval_batching=fast", "data.eval_batching must be one of"),
    ],
)
def test_bad_batching_settings_fail_at_instantiation(tiny_config, override, message) -> None:
    with pytest.raises((ValueError, InstantiationException), match=message):
        instantiate(tiny_config(override).data)
