"""task=multitask: one encoding per batch, weighted head losses, per-head metrics, DDP safety."""

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from hydra.errors import ConfigCompositionException, InstantiationException
from omegaconf.errors import MissingMandatoryValue

from seqlab.build import build_datamodule, build_task
from seqlab.data.batch import Batch
from seqlab.data.collate import pad_collate
from seqlab.data.multitarget import MultiTargetDataset
from seqlab.models.search import hypotheses
from seqlab.tasks.module import SequenceTask
from seqlab.train import train
from tests.multitask_helpers import MULTITASK

WEIGHTS = {"label": 1.0, "steps": 0.5, "sequence": 2.0}
STEP = ["trainer.limit_train_batches=1", "trainer.limit_val_batches=1", "test=false"]
BAD_CONFIG = (ValueError, InstantiationException)  # hydra wraps errors raised in __init__


def build(tiny_config, *overrides: str) -> tuple[SequenceTask, Batch]:
    cfg = tiny_config(*MULTITASK, *overrides)
    datamodule = build_datamodule(cfg)
    task = build_task(cfg, datamodule)
    assert isinstance(task, SequenceTask)
    task.log = lambda *args, **kwargs: None  # outside a Trainer
    return task, next(iter(datamodule.train_dataloader()))


def independent_losses(task: SequenceTask, batch: Batch) -> dict[str, torch.Tensor]:
    """Each head's loss from its own layers and F.cross_entropy, not through head.loss."""
    model = task.model
    encoded = model.encode(batch)
    label = model.heads["label"].out(encoded.final)
    steps = batch.target("steps")
    step_logits = model.heads["steps"].out(encoded.outputs)[steps.target_mask]
    sequence = batch.target("sequence")
    seq_logits = model.heads["sequence"](encoded, sequence, "val")  # teacher-forced
    return {
        "label": F.cross_entropy(label, batch.targets["label"]),
        "steps": F.cross_entropy(step_logits, steps.targets[steps.target_mask]),
        "sequence": F.cross_entropy(
            seq_logits[sequence.target_mask], sequence.targets[sequence.target_mask]
        ),
    }


def head_losses(task: SequenceTask, batch: Batch) -> dict[str, torch.Tensor]:
    encoded = task.model.encode(batch)
    outputs = task.head_outputs(task.model, encoded, batch, "val")
    return task.head_losses(task.model, outputs, batch)


def test_total_loss_is_the_weighted_sum_of_independent_head_losses(tiny_config) -> None:
    task, batch = build(tiny_config)
    task.eval()
    with torch.no_grad():
        total = task.evaluate(batch, "val")
        data_loss, _ = task.model.data_loss(batch)
        expected = independent_losses(task, batch)
        losses = head_losses(task, batch)
    assert {name: head.weight for name, head in task.model.heads.items()} == WEIGHTS
    assert all(loss > 0 for loss in expected.values())
    for name, loss in expected.items():
        torch.testing.assert_close(losses[name], loss)
    weighted = sum(WEIGHTS[name] * loss for name, loss in expected.items())
    torch.testing.assert_close(total, weighted)
    torch.testing.assert_close(data_loss, weighted)  # teacher forcing 1: the same outputs
    unweighted = sum(expected.values())
    assert not torch.allclose(total, unweighted)


def test_the_encoder_runs_once_per_batch(tiny_config) -> None:
    task, batch = build(tiny_config)
    calls = []
    task.model.encoder.register_forward_hook(lambda *args: calls.append(1))
    task.training_step(batch, 0)
    assert len(calls) == 1
    task.eval()
    with torch.no_grad():
        task.evaluate(batch, "val")  # the seq2seq head decodes from the same encoding
    assert len(calls) == 2


def test_every_parameter_gets_a_gradient_even_at_weight_zero(tiny_config) -> None:
    task, batch = build(tiny_config, "task.heads.label.weight=0.0")
    task.train()
    task.training_step(batch, 0).backward()
    names = [name for name, _ in task.named_parameters()]
    assert any(n.startswith("models.0.heads.label.") for n in names)
    assert any(n.startswith("models.0.heads.sequence.decoder.") for n in names)
    missing = [name for name, p in task.named_parameters() if p.grad is None]
    assert not missing, f"parameters without a gradient (DDP would fail): {missing}"
    label_grads = [
        p.grad for n, p in task.named_parameters() if n.startswith("models.0.heads.label.")
    ]
    assert label_grads and all(torch.count_nonzero(g) == 0 for g in label_grads)
    step_grads = [
        p.grad for n, p in task.named_parameters() if n.startswith("models.0.heads.steps.")
    ]
    assert any(torch.count_nonzero(g) > 0 for g in step_grads)


def garbage_in_padding(batch: Batch) -> Batch:
    """`batch` with random values at every padded input step and padded target step."""
    generator = torch.Generator().manual_seed(0)
    inputs = batch.inputs.clone()
    inputs[~batch.mask] = torch.randn(inputs[~batch.mask].shape, generator=generator) * 100
    targets = dict(batch.targets)
    for name in ("steps", "sequence"):
        view = batch.target(name)
        padded = ~view.target_mask
        noise = torch.randint(3, 6, (int(padded.sum()),), generator=generator)
        targets[name] = view.targets.clone().masked_scatter(padded, noise)
    return Batch(inputs, batch.lengths, targets, batch.indices, batch.target_lengths)


def test_padding_changes_no_head_loss(tiny_config) -> None:
    task, batch = build(tiny_config)
    assert (~batch.mask).any() and (~batch.target("steps").target_mask).any()
    dirty_batch = garbage_in_padding(batch)
    assert not torch.equal(dirty_batch.inputs, batch.inputs)
    assert not torch.equal(dirty_batch.targets["sequence"], batch.targets["sequence"])
    task.eval()
    with torch.no_grad():
        clean = head_losses(task, batch)
        dirty = head_losses(task, dirty_batch)
    assert set(clean) == set(WEIGHTS)
    for name in WEIGHTS:
        torch.testing.assert_close(clean[name], dirty[name])


def head_outputs(task: SequenceTask, batch: Batch, row: int) -> list[torch.Tensor]:
    """Row `row`'s outputs of every head at its real steps (teacher-forced for seq2seq)."""
    model = task.model
    encoded = model.encode(batch)
    steps, sequence = batch.target("steps"), batch.target("sequence")
    n, m = int(steps.target_lengths[row]), int(sequence.target_lengths[row])
    return [
        model.heads["label"](encoded, batch.target("label"))[row],
        model.heads["steps"](encoded, steps)[row, :n],
        model.heads["sequence"](encoded, sequence)[row, :m],
    ]


def test_each_item_scores_the_same_alone_and_batched(tiny_config) -> None:
    cfg = tiny_config(*MULTITASK)
    datamodule = build_datamodule(cfg)
    task = build_task(cfg, datamodule).eval()
    items = [datamodule.splits.train[i] for i in range(6)]
    batch = pad_collate(items)
    assert len(set(batch.lengths.tolist())) > 1
    with torch.no_grad():
        for row, item in enumerate(items):
            alone = head_outputs(task, pad_collate([item]), 0)
            for a, b in zip(alone, head_outputs(task, batch, row), strict=True):
                torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_a_tiny_run_trains_and_logs_every_heads_metrics(tiny_config) -> None:
    metrics = train(tiny_config(*MULTITASK, "trainer.limit_train_batches=2"))
    for stage in ("train", "val", "test"):
        for name in WEIGHTS:
            assert metrics[f"{stage}/{name}/loss"] > 0
        assert f"{stage}/label/acc" in metrics and f"{stage}/steps/acc" in metrics
        assert f"{stage}/acc" not in metrics  # several heads: every metric names its head
    assert metrics["val/sequence/per"] >= 0 and 0 <= metrics["test/sequence/wer"] <= 1
    assert metrics["train/loss"] > 0


def test_an_unknown_head_fails_at_compose_listing_the_heads(tiny_config) -> None:
    with pytest.raises(ConfigCompositionException, match="head/many_to_few") as error:
        tiny_config(*MULTITASK, "+head@task.heads.extra=many_to_few")
    assert "seq2seq" in str(error.value) and "per_step" in str(error.value)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("task.heads.steps.weight=-0.5", "task.heads.steps: a head's weight must be"),
        ("+head@task.heads.syllables=sequence", "task.heads.syllables: the data has no"),
        ("task.heads.steps.reduction=median", "task.heads.steps: reduction must be one of"),
    ],
)
def test_bad_heads_are_named(tiny_config, override: str, message: str) -> None:
    with pytest.raises(BAD_CONFIG, match=message):
        build(tiny_config, override)


def test_a_step_head_refuses_a_downsampling_shared_encoder(tiny_config) -> None:
    with pytest.raises(BAD_CONFIG, match="one encoder output per input step"):
        build(tiny_config, "model=crdnn", "model.pool_sizes=[2,1,1]")


def test_all_weights_zero_is_refused(tiny_config) -> None:
    zero = (
        "task.heads.label.weight=0",
        "task.heads.steps.weight=0",
        "task.heads.sequence.weight=0",
    )
    with pytest.raises(BAD_CONFIG, match="at least one head needs a weight > 0"):
        build(tiny_config, *zero)


def test_multitask_without_heads_is_refused_naming_task_heads(tiny_config) -> None:
    cfg = tiny_config("task=multitask", "data=synthetic_multitask", "data.num_items=8")
    with pytest.raises(
        (*BAD_CONFIG, MissingMandatoryValue),
        match=r"task\.heads is empty|Missing mandatory value.*heads",
    ):
        build_task(cfg, build_datamodule(cfg))


def test_a_typo_in_a_head_fails_at_compose(tiny_config) -> None:
    with pytest.raises(ConfigCompositionException, match="wieght"):
        tiny_config(*MULTITASK, "task.heads.label.wieght=2")


def test_single_target_tasks_refuse_multi_target_data(tiny_config) -> None:
    cfg = tiny_config("data=synthetic_multitask", "data.num_items=8", "task=many_to_one")
    with pytest.raises(BAD_CONFIG, match="task.heads.main: the data has no target 'main'"):
        build_task(cfg, build_datamodule(cfg))
    with pytest.raises(BAD_CONFIG, match="use task=multitask"):
        build_task(cfg, build_datamodule(cfg))


def test_heads_compose_with_dropout_noise_and_label_smoothing(tiny_config) -> None:
    regularizers = "regularizer=[dropout,noise,label_smoothing,l2]"
    metrics = train(tiny_config(*MULTITASK, regularizers, *STEP))
    assert metrics["train/penalty"] > 0 and metrics["train/sequence/loss"] > 0


def test_seq2seq_heads_score_against_their_own_targets_references(tiny_config) -> None:
    task, batch = build(tiny_config)
    task.eval()
    head = task.model.heads["sequence"]
    with torch.no_grad():
        decoded = hypotheses(head.decode(task.model.encode(batch), "greedy").tokens)
    n = int(batch.indices.max()) + 1
    references = [[(3,), (4, index)] for index in range(n)]
    for row, index in enumerate(batch.indices.tolist()):
        references[index] = [(4, index), tuple(decoded[row])]  # the decoding is acceptable
    targets = [{"sequence": torch.tensor([3, 2])}] * n
    dataset = MultiTargetDataset("d", [batch.inputs[0]] * n, targets, {"sequence": references})
    task._trainer = SimpleNamespace(val_dataloaders=SimpleNamespace(dataset=dataset))
    expected = [references[index] for index in batch.indices.tolist()]
    assert task.references("val", "sequence", batch.target("sequence")) == expected
    assert task.references("val", "label", batch.target("label")) is None
    with torch.no_grad():
        task.evaluate(batch, "val")
    metrics = task.metrics["val_metrics"]["model"]["sequence"]
    assert float(metrics["wer"].compute()) == 0.0 and float(metrics["per"].compute()) == 0.0
    task._trainer = None
    with torch.no_grad():
        task.evaluate(batch, "val")  # without references: scored against the targets
    assert float(metrics["wer"].compute()) > 0.0
