"""Penalties, dropout, noise and label smoothing: values, train-only behaviour, bad input."""

import pytest
import torch
import torch.nn.functional as F
from hydra.errors import ConfigCompositionException, InstantiationException
from omegaconf.errors import ConfigKeyError, ValidationError
from torch import nn

from seqlab.build import build_datamodule, build_task
from seqlab.data.collate import pad_collate
from seqlab.regularization.dropout import SequenceDropout
from seqlab.regularization.label_smoothing import smoothed_targets
from seqlab.regularization.noise import GaussianNoise
from seqlab.regularization.penalty import WeightPenalty
from seqlab.train import train
from tests.conftest import compose_config


def small_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def test_l2_and_l1_equal_an_independent_sum() -> None:
    net = small_net()
    first, last = net[0].weight, net[2].weight
    l2 = WeightPenalty("l2", weight=0.1)(net)
    l1 = WeightPenalty("l1", weight=0.1)(net)
    assert l2.item() == pytest.approx(0.1 * ((first**2).sum() + (last**2).sum()).item())
    assert l1.item() == pytest.approx(0.1 * (first.abs().sum() + last.abs().sum()).item())


def test_biases_and_norms_are_included_only_on_request() -> None:
    net = small_net()
    with torch.no_grad():
        net[1].weight.fill_(3.0)
    weights = [net[0].weight, net[2].weight]
    biases = [net[0].bias, net[2].bias]
    norm = [net[1].weight, net[1].bias]
    square = lambda ps: sum((p**2).sum().item() for p in ps)  # noqa: E731
    with_biases = WeightPenalty("l2", 1.0, exclude_biases=False)(net).item()
    assert with_biases == pytest.approx(square(weights + biases))
    with_norms = WeightPenalty("l2", 1.0, exclude_norms=False)(net).item()
    assert with_norms == pytest.approx(square([*weights, norm[0]]))
    everything = WeightPenalty("l2", 1.0, exclude_biases=False, exclude_norms=False)(net).item()
    assert everything == pytest.approx(square(weights + biases + norm))


def test_per_module_lambda_overrides_the_default() -> None:
    net = small_net()
    penalty = WeightPenalty("l2", weight=0.1, modules={"2": 0.0, "0.weight": 2.0})(net)
    assert penalty.item() == pytest.approx(2.0 * (net[0].weight ** 2).sum().item())


def test_unknown_module_prefix_is_named() -> None:
    with pytest.raises(ValueError, match="regularizer.l2.modules.decoder"):
        WeightPenalty("l2", 0.1, modules={"decoder": 1.0}).lambdas(small_net())


def test_training_logs_penalty_apart_from_the_data_loss(tiny_config) -> None:
    metrics = train(tiny_config("regularizer=l2", "regularizer.l2.weight=0.01", "test=false"))
    assert metrics["train/penalty"] > 0
    expected = metrics["train/data_loss"] + metrics["train/penalty"]
    assert metrics["train/loss"] == pytest.approx(expected, rel=1e-5)


def test_dropout_mask_rate_is_close_to_p() -> None:
    torch.manual_seed(0)
    out = SequenceDropout(0.3).train()(torch.ones(100, 50, 20))
    assert (out == 0).float().mean().item() == pytest.approx(0.3, abs=0.01)


@pytest.mark.parametrize("variational", [False, True])
def test_both_modes_agree_in_expectation(variational: bool) -> None:
    torch.manual_seed(0)
    x = torch.rand(400, 10, 8) + 0.5
    for mode in ("inverted", "scale_at_test"):
        dropout = SequenceDropout(0.4, variational, mode)
        trained_mean = dropout.train()(x).mean().item()
        evaluated = dropout.eval()(x)
        assert trained_mean == pytest.approx(evaluated.mean().item(), rel=0.02)
    scale = SequenceDropout(0.4, mode="scale_at_test").eval()(x)
    torch.testing.assert_close(scale, 0.6 * x)


def test_variational_mask_is_constant_over_time() -> None:
    torch.manual_seed(0)
    out = SequenceDropout(0.5, variational=True).train()(torch.ones(6, 9, 5))
    assert (out == out[:, :1]).all()
    assert (out == 0).any() and (out != 0).any()


@pytest.mark.parametrize("mode", ["inverted", "scale_at_test"])
def test_dropout_and_noise_are_deterministic_at_eval(tiny_config, mode: str) -> None:
    cfg = tiny_config(
        "regularizer=[dropout,noise,augment]",
        "regularizer.dropout.inputs=true",
        "regularizer.noise.inputs=true",
        f"regularizer.dropout.mode={mode}",
    )
    datamodule = build_datamodule(cfg)
    task = build_task(cfg, datamodule).eval()
    batch = pad_collate([(torch.randn(n, 4), torch.tensor(0), i) for i, n in enumerate((3, 8))])
    model = task.model

    def regularized() -> torch.Tensor:
        """The head's outputs through the model's perturbations (as training computes them)."""
        return model.heads["main"](model.encode(batch), batch)

    with torch.no_grad():
        torch.testing.assert_close(task(batch)["main"], task(batch)["main"])
        # what evaluation computes is the regularized model in eval mode (for scale_at_test:
        # activations scaled by 1 - p, the expectation training saw)
        torch.testing.assert_close(task(batch)["main"], regularized())
        task.train()
        assert not torch.equal(regularized(), regularized())


def test_noise_keeps_padding_zero_and_is_off_at_eval() -> None:
    torch.manual_seed(0)
    x = torch.zeros(2, 5, 3)
    mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
    noisy = GaussianNoise(1.0).train()(x, mask)
    assert (noisy[1, 2:] == 0).all() and (noisy[mask] != 0).all()
    assert torch.equal(GaussianNoise(1.0).eval()(x, mask), x)


def test_smoothed_targets_match_the_stated_values() -> None:
    soft = smoothed_targets(torch.tensor([0, 2]), num_classes=4, epsilon=0.2)
    torch.testing.assert_close(soft[0], torch.tensor([0.85, 0.05, 0.05, 0.05]))
    torch.testing.assert_close(soft[1], torch.tensor([0.05, 0.05, 0.85, 0.05]))
    torch.testing.assert_close(soft.sum(-1), torch.ones(2))


def test_task_loss_is_cross_entropy_against_the_smoothed_targets(tiny_config) -> None:
    cfg = tiny_config("regularizer=label_smoothing", "regularizer.label_smoothing.epsilon=0.2")
    task = build_task(cfg, build_datamodule(cfg)).eval()
    task.log = lambda *args, **kwargs: None  # outside a Trainer
    assert task.regularization.smoothing == pytest.approx(0.2)
    batch = pad_collate([(torch.randn(n, 4), torch.tensor(n % 3), i) for i, n in enumerate((3, 8))])
    soft = smoothed_targets(batch.targets, 3, 0.2)
    with torch.no_grad():
        logits = task(batch)["main"]
        expected = -(soft * F.log_softmax(logits, dim=-1)).sum(-1)
        head = task.model.heads["main"]
        torch.testing.assert_close(head.losses(logits, batch, smoothing=0.2), expected)
        torch.testing.assert_close(task.training_step(batch, 0), expected.mean())
        plain = F.cross_entropy(logits, batch.targets)
        torch.testing.assert_close(task.evaluate(batch, "val"), plain)  # val/test: unsmoothed
    assert not torch.allclose(expected.mean(), plain)


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (["regularizer=l2", "regularizer.l2.weight=-1"], "regularizer.l2.weight"),
        (["regularizer=l1", "+regularizer.l1.modules.head=-0.5"], "regularizer.l1.modules.head"),
        (["regularizer=dropout", "regularizer.dropout.p=1.0"], "regularizer.dropout.p"),
        (["regularizer=dropout", "regularizer.dropout.p=-0.1"], "regularizer.dropout.p"),
        (["regularizer=dropout", "regularizer.dropout.mode=classic"], "regularizer.dropout.mode"),
        (
            ["regularizer=label_smoothing", "regularizer.label_smoothing.epsilon=1.0"],
            "regularizer.label_smoothing.epsilon",
        ),
        (["regularizer=noise", "regularizer.noise.std=-1"], "regularizer.noise.std"),
        (
            ["regularizer=augment", "regularizer.augment.random_crop.min_fraction=0"],
            "regularizer.augment.random_crop.min_fraction",
        ),
        (
            ["regularizer=augment", "regularizer.augment.time_mask.max_fraction=1.0"],
            "regularizer.augment.time_mask.max_fraction",
        ),
        (
            ["regularizer=augment", "regularizer.augment.time_stretch.min_rate=0"],
            "regularizer.augment.time_stretch.min_rate",
        ),
        (["regularizer=augment", "regularizer.augment.noise.p=1.5"], "regularizer.augment.noise.p"),
    ],
)
def test_bad_settings_are_named_before_training(tiny_config, overrides: list, key: str) -> None:
    cfg = tiny_config(*overrides)
    with pytest.raises((ValueError, InstantiationException), match=key.replace(".", r"\.")):
        build_task(cfg, build_datamodule(cfg))


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("regularizer.l2.wieght=0.1", "wieght"),
        ("regularizer.l2.weight=big", "regularizer.l2.weight"),
        ("regularizer.augment.time_mask.p=often", "regularizer.augment.time_mask.p"),
    ],
)
def test_typos_and_wrong_types_fail_at_compose(override: str, key: str) -> None:
    with pytest.raises((ConfigCompositionException, ValidationError, ConfigKeyError)) as error:
        compose_config(["regularizer=[l2,augment]", override])
    assert key in str(error.value) or key in str(error.value.__cause__)
