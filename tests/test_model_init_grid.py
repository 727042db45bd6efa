"""Every model x init pair composes and trains; bad model options stop the run before training."""

from pathlib import Path

import pytest
import torch

from seqlab.build import build_datamodule, build_task
from seqlab.data.sources.synthetic import SyntheticDataModule
from seqlab.eval import evaluate
from seqlab.train import CONFIG_DIR, train
from tests.conftest import compose_config


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (Path(CONFIG_DIR) / group).glob("*.yaml"))


@pytest.mark.parametrize("init", options("init"))
@pytest.mark.parametrize("model", options("model"))
def test_every_model_and_init_trains_a_step(tiny_config, model: str, init: str) -> None:
    cfg = tiny_config(
        f"model={model}",
        f"init={init}",
        "logger=csv",  # the default callbacks with a real logger, as users run it
        "trainer.limit_train_batches=1",
        "trainer.limit_val_batches=1",
        "test=false",
    )
    metrics = train(cfg)
    assert torch.isfinite(torch.tensor(metrics["train/loss"]))


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (["model.merge=max"], "model.merge"),
        (["model.hidden_size=0"], "model.hidden_size"),
        (["model.bidirectional=false", "model.shared_directions=true"], "shared_directions"),
        (["regularizer=dropout", "regularizer.dropout.p=1.0"], "regularizer.dropout.p"),
        (["model=crdnn", "model.rnn.hidden_size=-1"], "model.hidden_size"),
        (["model=crdnn", "model.pool_sizes=[2]"], "model.pool_sizes"),
        (["model=crdnn", "model.rnn.merge=avg"], "model.merge"),
        (["init=uniform", "init.uniform_bound=-1"], "init.uniform_bound"),
    ],
)
def test_bad_model_options_fail_when_building(tiny_config, overrides: list[str], key: str):
    cfg = tiny_config(*overrides)
    with pytest.raises(Exception, match=key):
        build_task(cfg, build_datamodule(cfg))


class MislabelledData(SyntheticDataModule):
    """Items with one more feature than the spec announces."""

    def load_splits(self):
        splits = super().load_splits()
        for split in (splits.train, splits.val, splits.test):
            split.inputs = [torch.cat([x, x[:, :1]], dim=1) for x in split.inputs]
        return splits


def test_data_wider_than_its_spec_is_named_on_the_first_batch(tiny_config) -> None:
    cfg = tiny_config("data._target_=tests.test_model_init_grid.MislabelledData", "test=false")
    with pytest.raises(ValueError, match="data gives 5 input features.*input_size=4"):
        train(cfg)


def test_crdnn_checkpoint_evaluates_to_the_same_metric(tiny_config, tmp_path: Path) -> None:
    """The nested recurrent lobe is rebuilt from the checkpoint's plain hyperparameters."""
    trained = train(tiny_config("model=crdnn", "model@model.rnn=gru", "model.rnn.hidden_size=8"))
    ckpt = next((tmp_path / "checkpoints").glob("epoch_*.ckpt"))
    eval_cfg = compose_config(
        [f"ckpt_path={ckpt}", f"paths.output_dir={tmp_path}", "trainer.accelerator=cpu"],
        config_name="eval",
    )
    evaluated = evaluate(eval_cfg)
    assert evaluated["test/loss"] == pytest.approx(trained["test/loss"], abs=1e-6)
