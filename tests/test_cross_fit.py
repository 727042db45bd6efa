"""K-fold cross-fitting: hashed folds, in-fold training, out-of-fold validation, merged data."""

from pathlib import Path

import pandas as pd
import pytest
import torch

from seqlab.build import build_datamodule, build_task
from seqlab.data.collate import pad_collate
from seqlab.tasks.cross_fit import fold_of, in_fold_weights, item_folds
from seqlab.tasks.module import SequenceTask
from seqlab.train import train
from tests.conftest import compose_config, evaluate_best


def kfold(tiny_config, *overrides: str) -> tuple[SequenceTask, object]:
    cfg = tiny_config("ensemble=kfold", "ensemble.members=3", *overrides)
    task = build_task(cfg, build_datamodule(cfg))
    batch = pad_collate(
        [(torch.randn(n, 4), torch.tensor(n % 3), i) for i, n in enumerate((3, 9, 5, 4, 7, 6))]
    )
    return task, batch


def test_folds_are_a_function_of_seed_and_index_and_split_the_items_evenly() -> None:
    indices = torch.arange(3000)
    folds = item_folds(7, indices, 5)
    assert torch.equal(folds, item_folds(7, indices, 5))
    assert not torch.equal(folds, item_folds(8, indices, 5))
    shuffled = indices[torch.randperm(3000)]
    assert torch.equal(item_folds(7, shuffled, 5), folds[shuffled])
    counts = torch.bincount(folds, minlength=5)
    assert counts.min() > 540 and counts.max() < 660  # 600 each, give or take the hash
    assert fold_of(7, 11, 5) == int(folds[11])


def test_each_member_trains_on_every_item_but_its_own_fold() -> None:
    indices = torch.arange(200)
    folds = item_folds(3, indices, 4)
    for member in range(4):
        weights = in_fold_weights(folds, member)
        assert torch.equal(weights == 0, folds == member)
    total = sum(in_fold_weights(folds, k) for k in range(4))
    assert torch.equal(total, torch.full((200,), 3.0))  # every item trains K - 1 members


def recorded(encode, calls: list):
    """`encode` that appends the dataset indices of each batch it is given to `calls`."""

    def wrapped(batch):
        calls.append(batch.indices.tolist())
        return encode(batch)

    return wrapped


def test_at_validation_each_member_runs_on_its_own_fold_only(tiny_config) -> None:
    task, batch = kfold(tiny_config)
    task.log = lambda *args, **kwargs: None
    calls = [[] for _ in task.models]
    for model, log in zip(task.models, calls, strict=True):
        model.encode = recorded(model.encode, log)
    task.eval()
    with torch.no_grad():
        task.evaluate(batch, "val")
    folds = item_folds(task.fold_seed, batch.indices, 3).tolist()
    indices = batch.indices.tolist()
    own = [[i for i, f in zip(indices, folds, strict=True) if f == k] for k in range(3)]
    assert calls == [[rows] if rows else [] for rows in own]


def test_a_member_never_learns_from_its_own_fold(tiny_config) -> None:
    """Changing the targets of fold-k items moves every member's loss but member k's."""
    task, batch = kfold(tiny_config)
    task.log = lambda *args, **kwargs: None
    seed = task.fold_seed
    folds = item_folds(seed, batch.indices, 3)
    assert len(set(folds.tolist())) > 1
    member = int(folds[0])
    changed = pad_collate(
        [
            (batch.inputs[i, :n], (batch.targets[i] + (folds[i] == member).long()) % 3, i)
            for i, n in enumerate(batch.lengths.tolist())
        ]
    )
    task.eval()  # no dropout: the two losses differ only by the targets
    with torch.no_grad():
        per_member = [
            [
                m.heads["main"].loss(
                    m(b)["main"], b, 0.0, in_fold_weights(item_folds(seed, b.indices, 3), k)
                )
                for k, m in enumerate(task.models)
            ]
            for b in (batch, changed)
        ]
    assert torch.equal(per_member[0][member], per_member[1][member])
    others = [k for k in range(3) if k != member]
    assert all(not torch.equal(per_member[0][k], per_member[1][k]) for k in others)


def test_validation_scores_each_item_with_the_member_that_did_not_train_on_it(
    tiny_config,
) -> None:
    task, batch = kfold(tiny_config)
    logged = {}
    task.log = lambda name, value, **kwargs: logged.setdefault(name, value)
    task.eval()
    with torch.no_grad():
        loss = task.evaluate(batch, "val")
        members = torch.stack([m(batch)["main"].log_softmax(-1) for m in task.models])
    folds = item_folds(task.fold_seed, batch.indices, 3)
    rows = torch.arange(len(batch))
    expected = -members[folds, rows, batch.targets].mean()
    torch.testing.assert_close(loss, expected)
    task.log_metrics("val")
    assert "val/acc" in logged and not any("member" in name for name in logged)


def test_per_step_outputs_out_of_fold_are_the_members_outputs_on_the_whole_batch(
    tiny_config,
) -> None:
    """A member scores its fold's rows still padded to the batch's width, so many-to-many
    outputs line up step by step with what it gives on the whole batch."""
    task, _ = kfold(tiny_config, "task=many_to_many", "data.per_step=true")
    lengths = (3, 9, 5, 4, 7, 6)
    batch = pad_collate(
        [(torch.randn(n, 4), torch.arange(n) % 3, i) for i, n in enumerate(lengths)]
    )
    task.eval()
    with torch.no_grad():
        picked = task.out_of_fold(batch)["main"]
        members = torch.stack([m(batch)["main"] for m in task.models])
    folds = item_folds(task.fold_seed, batch.indices, 3)
    whole = members[folds, torch.arange(len(batch))]
    torch.testing.assert_close(picked[batch.mask], whole[batch.mask])


def test_cross_fit_merges_the_hold_out_into_training_and_validates_on_it(tiny_config) -> None:
    plain = build_datamodule(tiny_config()).splits
    merged = build_datamodule(tiny_config("ensemble=kfold")).splits
    assert merged.val is merged.train
    assert len(merged.train) == len(plain.train) + len(plain.val)
    assert torch.equal(merged.train.inputs[len(plain.train)], plain.val.inputs[0])
    assert merged.test.inputs[0].equal(plain.test.inputs[0])


def test_kfold_switches_cross_fit_on_and_nothing_else_does() -> None:
    assert compose_config([]).data.cross_fit is True  # many_to_one's default ensemble
    assert compose_config(["ensemble=none"]).data.cross_fit is False
    assert compose_config(["ensemble=bagging"]).data.cross_fit is False
    assert compose_config(["task=many_to_many"]).data.cross_fit is False
    assert compose_config(["debug=overfit"]).ensemble.kind == "none"  # memorise with one model


def test_kfold_without_cross_fit_is_refused_before_training(tiny_config) -> None:
    with pytest.raises(ValueError, match="data.cross_fit=true"):
        train(tiny_config("ensemble=kfold", "data.cross_fit=false"))


def test_kfold_needs_two_folds(tiny_config) -> None:
    with pytest.raises(ValueError, match="ensemble.members >= 2"):
        kfold(tiny_config, "ensemble.members=1")


def test_kfold_trains_with_the_default_callbacks_and_evaluates_from_checkpoint(
    tiny_config, tmp_path: Path
) -> None:
    trained = train(
        tiny_config("ensemble=kfold", "ensemble.members=2", "trainer.max_epochs=2", "logger=csv")
    )
    assert 0.0 <= trained["val/acc"] <= 1.0 and "val/member0/acc" not in trained
    for key in ("test/acc", "test/member0/acc", "test/member1/acc", "test/members_mean/acc"):
        assert 0.0 <= trained[key] <= 1.0
    logged = pd.concat(pd.read_csv(p) for p in tmp_path.rglob("metrics.csv"))
    assert logged["val/loss"].notna().sum() == 2
    evaluated = evaluate_best(tmp_path)
    assert evaluated["test/acc"] == pytest.approx(trained["test/acc"], abs=1e-6)
