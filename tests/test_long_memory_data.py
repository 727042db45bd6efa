"""The adding and copy-memory sources: layout, baselines, lengths, determinism, bad sizes."""

import math
from pathlib import Path

import pytest
import torch

from seqlab.build import build_datamodule, build_task
from seqlab.data.sources.adding import AddingDataModule
from seqlab.data.sources.copy_memory import CopyMemoryDataModule, recall_accuracy
from seqlab.train import train
from tests.conftest import compose_config


def test_adding_items_mark_one_step_per_half_and_sum_them() -> None:
    data = AddingDataModule(length=30, min_length=10, num_items=200, seed=3)
    assert data.spec.num_classes == 0 and data.spec.target_size == 1 and data.spec.input_size == 2
    lengths = set()
    for x, y, _ in data.splits.train:
        length = x.shape[0]
        lengths.add(length)
        marked = torch.nonzero(x[:, 1]).flatten().tolist()
        assert len(marked) == 2 and marked[0] < length // 2 <= marked[1] < length
        assert y.dim() == 0 and y == pytest.approx(float(x[marked, 0].sum()))
        assert x[:, 0].min() >= 0.0 and x[:, 0].max() <= 1.0
    assert min(lengths) >= 10 and max(lengths) <= 30 and len(lengths) > 5


def test_adding_baseline_is_the_constant_prediction_mse() -> None:
    data = AddingDataModule(length=20, num_items=4000, seed=0)
    targets = torch.stack(data.splits.test.targets)
    assert data.baseline_mse["test"] == pytest.approx(float((targets - 1).pow(2).mean()))
    assert data.baseline_mse["train"] == pytest.approx(1 / 6, abs=0.01)
    assert data.baselines()["val/mse_baseline"] == data.baseline_mse["val"]


@pytest.mark.parametrize("source", [AddingDataModule, CopyMemoryDataModule])
def test_generation_is_deterministic_per_seed_and_split(source: type) -> None:
    first, again = source(length=12, num_items=16, seed=5), source(length=12, num_items=16, seed=5)
    other = source(length=12, num_items=16, seed=6)
    assert torch.equal(first.splits.train.inputs[3], again.splits.train.inputs[3])
    assert not torch.equal(first.splits.train.inputs[3], other.splits.train.inputs[3])
    assert not torch.equal(first.splits.train.inputs[0], first.splits.test.inputs[0])


def test_copy_memory_layout_and_baseline() -> None:
    data = CopyMemoryDataModule(length=7, num_symbols=5, num_recall=3, num_items=8, seed=1)
    x, y, _ = data.splits.train[0]
    assert x.shape == (7 + 6, 5 + 2) and y.shape == (13,)
    channels = x.argmax(-1)
    assert torch.equal(y[-3:], channels[:3]) and (channels[:3] >= 1).all()
    assert channels[3 + 7 - 1] == 6 and (y[:-3] == 0).all()
    assert (channels[3:9] == 0).all() and (channels[-3:] == 0).all()
    assert data.spec.num_classes == 6 and data.spec.input_size == 7
    assert data.baseline_ce == pytest.approx(3 * math.log(5) / 13)
    assert data.baselines()["test/ce_baseline"] == data.baseline_ce


def test_recall_accuracy_scores_only_the_recalled_steps() -> None:
    targets = torch.tensor([[0, 0, 2, 1], [0, 0, 3, 3]])
    logits = torch.nn.functional.one_hot(targets, 4).float()
    logits[0, 0] = torch.tensor([0.0, 0.0, 0.0, 9.0])  # a wrong blank step: not counted
    logits[1, 3] = torch.tensor([0.0, 9.0, 0.0, 0.0])  # a wrong recalled symbol
    assert recall_accuracy(logits, targets, num_recall=2) == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("source", "kwargs", "key"),
    [
        (AddingDataModule, {"length": 0}, "data.length"),
        (AddingDataModule, {"length": 10, "min_length": 1}, "data.min_length"),
        (AddingDataModule, {"length": 10, "min_length": 11}, "data.min_length"),
        (AddingDataModule, {"num_items": 0}, "data.num_items"),
        (CopyMemoryDataModule, {"length": 0}, "data.length"),
        (CopyMemoryDataModule, {"length": 5, "num_recall": 6}, "data.num_recall"),
        (CopyMemoryDataModule, {"num_symbols": 1}, "data.num_symbols"),
    ],
)
def test_bad_sizes_are_refused_naming_the_key(source: type, kwargs: dict, key: str) -> None:
    with pytest.raises(ValueError, match=key):
        source(**kwargs)


def test_bad_size_fails_at_build_time_from_the_command_line() -> None:
    with pytest.raises(Exception, match="data.length") as error:
        build_datamodule(compose_config(["data=adding", "data.length=0"]))
    assert "got 0" in str(error.value)


def test_regression_data_with_a_symbol_head_is_refused(tmp_path: Path) -> None:
    cfg = compose_config(["data=adding", "task=seq2seq", f"paths.output_dir={tmp_path}"])
    cfg.data.num_items = 8
    with pytest.raises(ValueError, match=r"task\.heads\.main: .*token target sequences"):
        build_task(cfg, build_datamodule(cfg))


def test_the_many_to_one_head_regresses_the_sum(tmp_path: Path) -> None:
    cfg = compose_config(["data=adding", "task=many_to_one", f"paths.output_dir={tmp_path}"])
    cfg.data.num_items = 8
    head = build_task(cfg, build_datamodule(cfg)).model.heads["main"]
    assert not head.classifies and head.out.out_features == 1


def test_copy_memory_trains_and_reports_its_baseline(tmp_path: Path) -> None:
    overrides = ["experiment=copy_memory", "data.length=10", "data.num_recall=3"]
    overrides += ["data.num_items=64", "model.hidden_size=8", "logger=csv", "trainer.max_epochs=1"]
    overrides += ["callbacks.step_budget.min_steps=0"]
    overrides += ["trainer.enable_progress_bar=false", f"paths.output_dir={tmp_path}"]
    metrics = train(compose_config(overrides))
    assert metrics["test/ce_baseline"] == pytest.approx(3 * math.log(8) / 16)
    assert metrics["test/ce"] > 0 and 0 <= metrics["test/acc"] <= 1
    logged = (next(tmp_path.rglob("metrics.csv"))).read_text()
    assert "test/ce_baseline" in logged.splitlines()[0]
