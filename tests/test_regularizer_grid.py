"""Every regularizer composes with every task and encoder in conf/ and trains a step.

The grid is read from conf/, so tasks and encoders added later are covered automatically.
A task that needs other data than the tiny synthetic many-to-one set lists its overrides in
TASK_DATA. Augmentation refuses target sequences and token inputs by design: where it does,
the test checks that the refusal is that one, then trains everything else.
"""

from pathlib import Path

import pytest
from hydra.errors import InstantiationException
from hydra.utils import get_class

from seqlab.build import build_datamodule
from seqlab.heads.base import Head
from seqlab.train import CONFIG_DIR, train
from tests.multitask_helpers import MULTITASK

TASK_DATA: dict[str, list[str]] = {
    "many_to_many": ["data.per_step=true"],
    "seq2seq": [
        "data=synthetic_seq2seq",
        "data.num_items=32",
        "task.heads.main.decoding.max_length=8",
    ],
    "multitask": MULTITASK,
    "ctc": ["data=synthetic_seq2seq", "data.num_items=32"],
}
# many_to_many (also as a multitask head) needs one output per step: the CRDNN runs there
# without time pooling.
TASK_MODEL: dict[tuple[str, str], list[str]] = {
    ("many_to_many", "crdnn"): ["model.pool_sizes=[1,1,1]"],
    ("multitask", "crdnn"): ["model.pool_sizes=[1,1,1]"],
    ("ctc", "crdnn"): ["model.pool_sizes=[2,1,1]", "task.heads.main.upsample=4"],  # pool by 2
}
STEP = ["trainer.limit_train_batches=1", "trainer.limit_val_batches=1", "test=false"]


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (Path(CONFIG_DIR) / group).glob("*.yaml"))


REGULARIZERS = [name for name in options("regularizer") if name != "none"]


def test_the_grid_sees_every_regularizer() -> None:
    expected = {"dropout", "l1", "l2", "label_smoothing", "noise", "augment"}
    assert expected <= set(REGULARIZERS)


@pytest.mark.parametrize("regularizer", REGULARIZERS)
def test_each_regularizer_alone_trains_a_step(tiny_config, regularizer: str) -> None:
    metrics = train(tiny_config(f"regularizer={regularizer}", *STEP))
    assert metrics["train/loss"] > 0


def augment_refuses(cfg) -> bool:
    """True when the data has token inputs or target sequences (augment's stated limits)."""
    batch = next(iter(build_datamodule(cfg).train_dataloader()))
    return batch.target_lengths is not None or not batch.inputs.is_floating_point()


@pytest.mark.parametrize("model", options("model"))
@pytest.mark.parametrize("task", options("task"))
def test_all_regularizers_train_with_every_task_and_encoder(tiny_config, task, model) -> None:
    base = [f"task={task}", f"model={model}", *TASK_DATA.get(task, []), *STEP]
    base += TASK_MODEL.get((task, model), [])
    together = f"regularizer=[{','.join(REGULARIZERS)}]"
    cfg = tiny_config(*base, together, "regularizer.dropout.inputs=true")
    if augment_refuses(cfg):
        # raised in the task's constructor, so Hydra's instantiate wraps it
        with pytest.raises((ValueError, InstantiationException), match="regularizer.augment"):
            train(cfg)
        without = ",".join(r for r in REGULARIZERS if r != "augment")
        cfg = tiny_config(*base, f"regularizer=[{without}]", "regularizer.dropout.inputs=true")
    metrics = train(cfg)
    assert metrics["train/loss"] > 0 and metrics["train/penalty"] > 0


@pytest.mark.parametrize("task", options("task"))
def test_bagging_trains_every_task_that_supports_it(tiny_config, task: str) -> None:
    cfg = tiny_config(
        f"task={task}", *TASK_DATA.get(task, []), "ensemble=bagging", "ensemble.members=2", *STEP
    )
    heads = {name: get_class(head._target_) for name, head in cfg.task.heads.items()}
    assert heads
    # members are averaged by their heads: every head must know how to average its outputs
    unaveraged = [name for name, cls in heads.items() if cls.combine is Head.combine]
    if unaveraged:
        with pytest.raises(ValueError, match=f"head '{unaveraged[0]}' .*cannot average"):
            train(cfg)
        return
    metrics = train(cfg)
    assert metrics["train/member1/loss"] >= 0 and metrics["train/loss"] > 0
