"""Online bagging: hashed Poisson bootstrap, mean-probability ensemble, member metrics."""

import math
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from hydra.errors import ConfigCompositionException, InstantiationException
from omegaconf.errors import ValidationError

from seqlab.build import build_datamodule, build_task
from seqlab.data.collate import pad_collate
from seqlab.data.spec import DataSpec
from seqlab.tasks.bagging import bootstrap_weight, bootstrap_weights, member_models
from seqlab.tasks.module import SequenceTask
from seqlab.train import train
from tests.conftest import compose_config, evaluate_best


def test_weights_are_a_function_of_seed_index_and_member() -> None:
    indices = torch.arange(500)
    first = bootstrap_weights(7, indices, member=0)
    assert torch.equal(first, bootstrap_weights(7, indices, member=0))
    assert not torch.equal(first, bootstrap_weights(7, indices, member=1))
    assert not torch.equal(first, bootstrap_weights(8, indices, member=0))
    shuffled = indices[torch.randperm(500)]
    assert torch.equal(bootstrap_weights(7, shuffled, 0), first[shuffled])


def test_weights_follow_poisson_one() -> None:
    weights = bootstrap_weights(0, torch.arange(20000), member=3)
    assert weights.mean().item() == pytest.approx(1.0, abs=0.03)
    assert weights.var().item() == pytest.approx(1.0, abs=0.05)
    assert (weights == 0).float().mean().item() == pytest.approx(math.exp(-1), abs=0.01)
    assert bootstrap_weight(0, 5, 3) == int(weights[5])


def test_member_models_repeat_or_override_the_model() -> None:
    model = {"_target_": "seqlab.models.rnn.RecurrentEncoder", "cell": "lstm", "hidden_size": 8}
    assert member_models(model, 2, []) == [model, model]
    other = {"_target_": "seqlab.models.conv.ConvEncoder"}
    configs = member_models(model, 2, [{"cell": "gru"}, other])
    assert configs == [model | {"cell": "gru"}, other]


def bagging(tiny_config, *overrides: str) -> tuple[SequenceTask, object]:
    cfg = tiny_config("ensemble=bagging", "ensemble.members=3", *overrides)
    task = build_task(cfg, build_datamodule(cfg))
    assert isinstance(task, SequenceTask)
    batch = pad_collate(
        [(torch.randn(n, 4), torch.tensor(n % 3), i) for i, n in enumerate((3, 9, 5))]
    )
    return task, batch


def test_bagging_builds_k_independent_members(tiny_config) -> None:
    task, _ = bagging(tiny_config)
    assert len(task.models) == 3 and task.model is task.models[0]
    first = dict(task.models[0].named_parameters())
    for member in task.models[1:]:
        for name, parameter in member.named_parameters():
            assert parameter is not first[name]
    assert not torch.equal(
        task.models[0].heads["main"].out.weight, task.models[1].heads["main"].out.weight
    )


def test_ensemble_prediction_is_the_mean_of_member_probabilities(tiny_config) -> None:
    task, batch = bagging(tiny_config)
    task.eval()
    with torch.no_grad():
        members = [member(batch)["main"].softmax(-1) for member in task.models]
        combined = task(batch)["main"]
    assert not torch.allclose(members[0], members[1])
    mean = torch.stack(members).mean(0)
    torch.testing.assert_close(combined.exp(), mean)  # log of the mean probabilities
    torch.testing.assert_close(combined.softmax(-1), mean)
    assert not torch.allclose(
        combined.softmax(-1), torch.stack([m.log() for m in members]).mean(0).softmax(-1)
    )  # not the mean of the logits


def test_a_regression_ensemble_predicts_the_mean_of_member_values() -> None:
    spec = DataSpec(input_size=4, target_size=1)
    task = SequenceTask(
        spec,
        model={"_target_": "seqlab.models.rnn.RecurrentEncoder", "cell": "gru", "hidden_size": 6},
        heads={"main": {"_target_": "seqlab.heads.sequence.SequenceHead", "weight": 1.0}},
        regularizer={},
        init={"scheme": "default"},
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True},
        ensemble={"kind": "bagging", "members": 3, "seed": 0},
    ).eval()
    batch = pad_collate([(torch.randn(n, 4), torch.randn(()), i) for i, n in enumerate((3, 9))])
    with torch.no_grad():
        members = [member(batch)["main"] for member in task.models]
        combined = task(batch)["main"]
    assert combined.shape == (2, 1) and not torch.allclose(members[0], members[1])
    torch.testing.assert_close(combined, torch.stack(members).mean(0))


def test_ensemble_gives_the_same_prediction_alone_and_batched(tiny_config) -> None:
    task, batch = bagging(tiny_config)
    task.eval()
    with torch.no_grad():
        together = task(batch)["main"]
        for row, n in enumerate(batch.lengths.tolist()):
            alone = pad_collate([(batch.inputs[row, :n], batch.targets[row], row)])
            torch.testing.assert_close(task(alone)["main"][0], together[row], atol=1e-6, rtol=0)


def test_evaluation_loss_is_the_nll_of_the_mean_probabilities(tiny_config) -> None:
    task, batch = bagging(tiny_config)
    task.log = lambda *args, **kwargs: None
    task.eval()
    with torch.no_grad():
        loss = task.evaluate(batch, "val")
        mean = torch.stack([m(batch)["main"].softmax(-1) for m in task.models]).mean(0)
    expected = -mean[torch.arange(len(batch)), batch.targets].log().mean()
    torch.testing.assert_close(loss, expected)


def test_training_loss_weights_each_member_by_its_bootstrap(tiny_config) -> None:
    task, batch = bagging(tiny_config)
    task.log = lambda *args, **kwargs: None
    torch.manual_seed(0)
    task.train()
    loss = task.training_step(batch, 0)
    task.eval()
    expected = 0.0
    for k, member in enumerate(task.models):
        losses = member.heads["main"].losses(member(batch)["main"], batch)
        expected = (
            expected + (bootstrap_weights(task.bagging_seed, batch.indices, k) * losses).sum() / 3
        )
    torch.testing.assert_close(loss, expected)
    unweighted = sum(m.heads["main"].losses(m(batch)["main"], batch).mean() for m in task.models)
    assert not torch.allclose(loss, unweighted)


def test_members_can_have_different_models(tiny_config) -> None:
    task, _ = bagging(
        tiny_config, "ensemble.members=2", "ensemble.models=[{cell: gru},{hidden_size: 5}]"
    )
    encoders = [m.encoder for m in task.models]
    assert encoders[0].rnn.mode == "GRU" and encoders[1].rnn.mode == "LSTM"
    assert encoders[1].output_size == 5 and encoders[0].output_size == 8


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["ensemble.members=0"], "ensemble.members"),
        (["ensemble.models=[{cell: gru}]"], "ensemble.members=3"),
        (["ensemble.members=1", "ensemble.models=[{hiden_size: 3}]"], r"ensemble.models\[0\]"),
    ],
)
def test_bad_ensemble_settings_are_named(tiny_config, overrides: list, message: str) -> None:
    with pytest.raises((ValueError, InstantiationException), match=message):
        bagging(tiny_config, *overrides)


def test_bagging_trains_logs_members_and_evaluates_from_checkpoint(
    tiny_config, tmp_path: Path
) -> None:
    trained = train(tiny_config("ensemble=bagging", "ensemble.members=2", "trainer.max_epochs=2"))
    for key in ("test/acc", "test/member0/acc", "test/member1/acc", "test/members_mean/acc"):
        assert 0.0 <= trained[key] <= 1.0
    assert trained["test/loss"] > 0 and trained["train/member0/loss"] > 0
    members_mean = (trained["test/member0/acc"] + trained["test/member1/acc"]) / 2
    assert trained["test/members_mean/acc"] == pytest.approx(members_mean)
    evaluated = evaluate_best(tmp_path)
    assert evaluated["test/acc"] == pytest.approx(trained["test/acc"], abs=1e-6)
    assert evaluated["test/member1/acc"] == pytest.approx(trained["test/member1/acc"], abs=1e-6)


def test_ensemble_settings_are_typed_at_compose() -> None:
    with pytest.raises((ConfigCompositionException, ValidationError)) as error:
        compose_config(["ensemble=bagging", "ensemble.members=five"])
    assert "ensemble.members" in str(error.value) + str(error.value.__cause__)
    assert compose_config([]).ensemble.kind == "kfold"  # many_to_one's default
    assert compose_config(["task=seq2seq", "data=cmudict_g2p"]).ensemble.kind == "none"


def test_clipping_scales_the_total_norm_over_all_members(tiny_config) -> None:
    """docs/tasks.md: `trainer.gradient_clip_val` clips the total norm over all members."""
    task, _ = bagging(tiny_config)
    for number, member in enumerate(task.models):
        for parameter in member.parameters():
            parameter.grad = torch.full_like(parameter, 10.0 if number == 0 else 1e-4)
    before = [p.grad.clone() for p in task.parameters()]
    task.trainer = pl.Trainer(
        gradient_clip_val=1.0, gradient_clip_algorithm="norm", logger=False, accelerator="cpu"
    )
    optimizer = torch.optim.SGD(task.parameters(), lr=0.1)
    task.configure_gradient_clipping(
        optimizer, gradient_clip_val=1.0, gradient_clip_algorithm="norm"
    )
    total = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in task.parameters()]))
    assert total.item() == pytest.approx(1.0, rel=1e-4)
    factors = {
        round((p.grad / b).flatten()[0].item(), 6)
        for p, b in zip(task.parameters(), before, strict=True)
    }
    assert len(factors) == 1 and 0 < factors.pop() < 1  # one scale for every member
