"""task=many_to_many: padded steps change nothing; sum vs mean; label smoothing; guards."""

import warnings

import pytest
import torch
import torch.nn.functional as F

from seqlab.data.collate import pad_collate
from seqlab.data.spec import DataSpec
from seqlab.tasks.module import SequenceTask

LENGTHS = [3, 6, 2]
CLASSES = DataSpec(input_size=4, num_classes=5)
REGRESSION = DataSpec(input_size=4, target_size=2, persistence_baseline=True)
ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3}


def make_task(spec: DataSpec, reduction: str = "mean", **kwargs) -> SequenceTask:
    torch.manual_seed(0)
    model = {"_target_": "seqlab.models.rnn.RecurrentEncoder", "cell": "gru", "hidden_size": 8}
    given = kwargs.pop("model", {})
    model = given if "_target_" in given else model | given  # a full config replaces the GRU
    head = {"_target_": "seqlab.heads.per_step.PerStepHead", "weight": 1.0, "reduction": reduction}
    task = SequenceTask(
        spec=spec,
        model=model,
        heads={"main": head},
        regularizer=kwargs.pop("regularizer", {}),
        init={"scheme": "default"},
        optimizer=ADAM,
        **kwargs,
    )
    return task.eval()


def make_items(spec: DataSpec, seed: int = 0) -> list:
    generator = torch.Generator().manual_seed(seed)
    items = []
    for index, n in enumerate(LENGTHS):
        x = torch.randn(n, spec.input_size, generator=generator)
        if spec.num_classes:
            y = torch.randint(spec.num_classes, (n,), generator=generator)
        else:
            y = torch.randn(n, spec.target_size, generator=generator)
        items.append((x, y, index))
    return items


def run_step(task: SequenceTask, batch, stage: str = "val") -> tuple[float, dict]:
    """Loss and every metric of `stage` after this one batch (metrics reset first)."""
    metrics = task.metrics[f"{stage}_metrics"]["model"]["main"]
    for metric in metrics.values():
        metric.reset()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # self.log outside a Trainer only warns
        loss = task.evaluate(batch, stage)
    return float(loss), {k: float(m.compute()) for k, m in metrics.items()}


def with_garbage_padding(batch):
    """The same batch with large random values in every padded input and target step."""
    garbage = batch.inputs.clone()
    garbage[~batch.mask] = 1e3 * torch.rand_like(garbage[~batch.mask])
    targets = batch.targets.clone()
    if targets.is_floating_point():
        targets[~batch.target_mask] = 1e3
    else:
        targets[~batch.target_mask] = 4
    return type(batch)(garbage, batch.lengths, targets, batch.indices, batch.target_lengths)


@pytest.mark.parametrize("spec", [CLASSES, REGRESSION], ids=["classes", "regression"])
def test_garbage_in_padded_steps_changes_nothing(spec: DataSpec) -> None:
    task = make_task(spec)
    batch = pad_collate(make_items(spec))
    clean_loss, clean_metrics = run_step(task, batch)
    garbage_loss, garbage_metrics = run_step(task, with_garbage_padding(batch))
    assert garbage_loss == pytest.approx(clean_loss, rel=1e-6)
    assert garbage_metrics == pytest.approx(clean_metrics, rel=1e-6)
    assert len(clean_metrics) >= 3


@pytest.mark.parametrize("spec", [CLASSES, REGRESSION], ids=["classes", "regression"])
def test_sum_and_mean_combine_alone_losses_as_documented(spec: DataSpec) -> None:
    items = make_items(spec)
    summed = make_task(spec, reduction="sum")
    alone = [run_step(summed, pad_collate([item]))[0] for item in items]  # per-sequence sums
    batch = pad_collate(items)
    assert run_step(summed, batch)[0] == pytest.approx(sum(alone) / len(items), rel=1e-5)
    mean = make_task(spec, reduction="mean")
    assert run_step(mean, batch)[0] == pytest.approx(sum(alone) / sum(LENGTHS), rel=1e-5)


def test_outputs_alone_equal_outputs_batched() -> None:
    task = make_task(CLASSES, model={"num_layers": 2, "cell": "lstm"})
    items = make_items(CLASSES)
    with torch.no_grad():
        batched = task(pad_collate(items))["main"]
        for row, item in enumerate(items):
            alone = task(pad_collate([item]))["main"][0]
            torch.testing.assert_close(batched[row, : len(item[0])], alone, atol=1e-6, rtol=0)


def test_label_smoothing_enters_the_training_loss_only() -> None:
    smoothing = {"label_smoothing": {"epsilon": 0.2}}
    task = make_task(CLASSES, regularizer=smoothing)
    batch = pad_collate(make_items(CLASSES))
    loss, metrics = run_step(task, batch)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # self.log outside a Trainer only warns
        logits = task(batch)["main"][batch.target_mask]
        training_loss = task.training_step(batch, 0)
    targets = batch.targets[batch.target_mask]
    smoothed = F.cross_entropy(logits, targets, label_smoothing=0.2)
    plain = float(F.cross_entropy(logits, targets))
    assert float(training_loss) == pytest.approx(float(smoothed), rel=1e-5)
    assert loss == pytest.approx(plain, rel=1e-5)  # validation: the plain data loss
    assert float(smoothed) != pytest.approx(plain, rel=1e-3)
    assert metrics["ce"] == pytest.approx(plain, rel=1e-5)  # metrics stay unsmoothed
    assert metrics["ppl"] == pytest.approx(float(torch.exp(torch.tensor(plain))), rel=1e-5)
    predicted = logits.argmax(-1)
    assert metrics["acc"] == pytest.approx(float((predicted == targets).float().mean()))


def test_regression_metrics_and_persistence_baseline() -> None:
    task = make_task(REGRESSION)
    batch = pad_collate(make_items(REGRESSION))
    loss, metrics = run_step(task, batch)
    mask = batch.target_mask
    with torch.no_grad():
        predicted = task(batch)["main"][mask]
    targets, naive = batch.targets[mask], batch.inputs[:, :, :2][mask]
    assert metrics["mse"] == pytest.approx(float((predicted - targets).pow(2).mean()))
    assert metrics["mae"] == pytest.approx(float((predicted - targets).abs().mean()))
    assert metrics["mse_naive"] == pytest.approx(float((naive - targets).pow(2).mean()))
    assert metrics["mae_naive"] == pytest.approx(float((naive - targets).abs().mean()))
    ratio = metrics["mse"] / metrics["mse_naive"]
    assert metrics["mse_ratio"] == pytest.approx(ratio, rel=1e-5)
    assert loss == pytest.approx(metrics["mse"], rel=1e-5)


def test_next_step_data_refuses_a_bidirectional_encoder() -> None:
    spec = DataSpec(input_size=4, target_size=1, next_step=True)
    make_task(spec)  # a causal encoder is accepted
    with pytest.raises(ValueError, match="bidirectional"):
        make_task(spec, model={"bidirectional": True})


def test_a_downsampling_encoder_is_refused_before_training() -> None:
    crdnn = {"_target_": "seqlab.models.crdnn.CRDNN", "_recursive_": False, "conv_channels": [4]}
    rnn = {"_target_": "seqlab.models.rnn.RecurrentEncoder", "hidden_size": 4}
    crdnn |= {"conv_strides": [1], "pool_sizes": [2], "rnn": rnn, "dnn_sizes": []}
    with pytest.raises(ValueError, match="turns 6 steps into 3"):
        make_task(CLASSES, model=crdnn)
    make_task(CLASSES, model=crdnn | {"pool_sizes": [1]})  # no pooling: accepted


def test_per_sequence_targets_and_bad_reduction_are_refused() -> None:
    with pytest.raises(ValueError, match="task.heads.main: reduction must be one of"):
        make_task(CLASSES, reduction="median")
    batch = pad_collate([(torch.randn(3, 4), torch.tensor(1), 0)])
    with pytest.raises(ValueError, match="one target per step"):
        make_task(CLASSES)(batch)
