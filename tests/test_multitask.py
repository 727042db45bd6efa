"""task=multitask: one encoding per batch, weighted head losses, per-head metrics, DDP safety."""

import pytest
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from hydra.errors import ConfigCompositionException, InstantiationException

from seqlab.build import build_datamodule, build_task
from seqlab.data.batch import Batch
from seqlab.data.collate import pad_collate
from seqlab.data.multitarget import MultiTargetDataset
from seqlab.tasks.multitask import MultitaskTask
from seqlab.train import train
from tests.multitask_helpers import MULTITASK

WEIGHTS = {"label": 1.0, "steps": 0.5, "sequence": 2.0}
STEP = ["trainer.limit_train_batches=1", "trainer.limit_val_batches=1", "test=false"]
BAD_CONFIG = (ValueError, InstantiationException)  # hydra wraps errors raised in __init__


def build(tiny_config, *overrides: str) -> tuple[MultitaskTask, Batch]:
    cfg = tiny_config(*MULTITASK, *overrides)
    datamodule = build_datamodule(cfg)
    task = build_task(cfg, datamodule)
    assert isinstance(task, MultitaskTask)
    return task, next(iter(datamodule.train_dataloader()))


def independent_losses(task: MultitaskTask, batch: Batch) -> dict[str, torch.Tensor]:
    """Each head's loss from its own layers and F.cross_entropy, not through head_step."""
    encoded = task.encode(batch)
    label = task.heads["label"].head(encoded.final)
    steps = batch.target("steps")
    step_logits = task.heads["steps"].head(encoded.outputs)[steps.target_mask]
    sequence = batch.target("sequence")
    seq_logits = task.heads["sequence"].teacher_forced(encoded, sequence.targets, 1.0)
    return {
        "label": F.cross_entropy(label, batch.targets["label"]),
        "steps": F.cross_entropy(step_logits, steps.targets[steps.target_mask]),
        "sequence": F.cross_entropy(
            seq_logits[sequence.target_mask], sequence.targets[sequence.target_mask]
        ),
    }


def test_total_loss_is_the_weighted_sum_of_independent_head_losses(tiny_config) -> None:
    task, batch = build(tiny_config)
    task.eval()
    with torch.no_grad():
        total = task.step(batch, "val")
        expected = independent_losses(task, batch)
    assert task.weights == WEIGHTS
    assert all(loss > 0 for loss in expected.values())
    weighted = sum(WEIGHTS[name] * loss for name, loss in expected.items())
    torch.testing.assert_close(total, weighted)
    unweighted = sum(expected.values())
    assert not torch.allclose(total, unweighted)


def test_the_encoder_runs_once_per_batch(tiny_config) -> None:
    task, batch = build(tiny_config)
    calls = []
    task.encoder.register_forward_hook(lambda *args: calls.append(1))
    task.step(batch, "train")
    assert len(calls) == 1


def test_every_parameter_gets_a_gradient_even_at_weight_zero(tiny_config) -> None:
    task, batch = build(tiny_config, "task.heads.label.weight=0.0")
    task.train()
    task.step(batch, "train").backward()
    names = [name for name, _ in task.named_parameters()]
    assert any(n.startswith("heads.label.") for n in names)
    assert any(n.startswith("heads.sequence.decoder.") for n in names)
    missing = [name for name, p in task.named_parameters() if p.grad is None]
    assert not missing, f"parameters without a gradient (DDP would fail): {missing}"
    label_grads = [p.grad for n, p in task.named_parameters() if n.startswith("heads.label.")]
    assert all(torch.count_nonzero(g) == 0 for g in label_grads)


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
        clean = task.head_losses(batch, "val")
        dirty = task.head_losses(dirty_batch, "val")
    for name in WEIGHTS:
        torch.testing.assert_close(clean[name], dirty[name])


def head_outputs(task: MultitaskTask, batch: Batch, row: int) -> list[torch.Tensor]:
    """Row `row`'s outputs of every head at its real steps (teacher-forced for seq2seq)."""
    encoded = task.encode(batch)
    steps, sequence = batch.target("steps"), batch.target("sequence")
    n, m = int(steps.target_lengths[row]), int(sequence.target_lengths[row])
    forced = task.heads["sequence"].teacher_forced(encoded, sequence.targets, 1.0)
    return [
        task.heads["label"].head(encoded.final)[row],
        task.heads["steps"].outputs(encoded, steps)[row, :n],
        forced[row, :m],
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
    assert metrics["val/sequence/per"] >= 0 and 0 <= metrics["test/sequence/wer"] <= 1
    assert metrics["train/loss"] > 0


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("task.heads.label.type=many_to_few", "task.heads.label.type must be one of"),
        ("task.heads.steps.weight=-0.5", "task.heads.steps.weight must be"),
        ("++task.heads={syllables:{type:many_to_one}}", "task.heads.syllables: the data has no"),
    ],
)
def test_bad_heads_are_named(tiny_config, override: str, message: str) -> None:
    with pytest.raises(BAD_CONFIG, match=message):
        build(tiny_config, override)


def test_a_step_head_refuses_a_downsampling_shared_encoder(tiny_config) -> None:
    with pytest.raises(BAD_CONFIG, match="one encoder output per input step"):
        build(tiny_config, "model=crdnn", "model.pool_sizes=[2,1]")


def test_no_heads_or_all_weights_zero_are_refused(tiny_config) -> None:
    cfg = tiny_config("task=multitask", "data=synthetic_multitask", "data.num_items=8")
    with pytest.raises(BAD_CONFIG, match="task.heads is empty"):
        build_task(cfg, build_datamodule(cfg))
    zero = (
        "task.heads.label.weight=0",
        "task.heads.steps.weight=0",
        "task.heads.sequence.weight=0",
    )
    with pytest.raises(BAD_CONFIG, match="at least one head needs a weight > 0"):
        build(tiny_config, *zero)


def test_a_typo_in_a_head_fails_at_compose(tiny_config) -> None:
    with pytest.raises(ConfigCompositionException, match="wieght"):
        tiny_config(*MULTITASK, "task.heads.label.wieght=2")


def test_single_target_tasks_refuse_multi_target_data(tiny_config) -> None:
    cfg = tiny_config("data=synthetic_multitask", "data.num_items=8", "task=many_to_one")
    with pytest.raises(BAD_CONFIG, match="use task=multitask"):
        build_task(cfg, build_datamodule(cfg))


def test_heads_compose_with_dropout_noise_and_label_smoothing(tiny_config) -> None:
    regularizers = "regularizer=[dropout,noise,label_smoothing,l2]"
    metrics = train(tiny_config(*MULTITASK, regularizers, *STEP))
    assert metrics["train/penalty"] > 0 and metrics["train/sequence/loss"] > 0


def test_seq2seq_heads_score_against_their_own_targets_references(tiny_config, monkeypatch) -> None:
    task, batch = build(tiny_config)
    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)
    task.trainer = trainer
    task.setup("validate")
    head = task.heads["sequence"]
    assert head._trainer is trainer
    n = int(batch.indices.max()) + 1
    references = {"sequence": [[(3,), (4, index)] for index in range(n)]}
    targets = [{"sequence": torch.tensor([3, 2])}] * n
    dataset = MultiTargetDataset("d", [batch.inputs[0]] * n, targets, references)
    monkeypatch.setattr(head, "_stage_dataset", lambda stage: dataset)
    expected = [[(3,), (4, index)] for index in batch.indices.tolist()]
    assert head.references(batch.target("sequence"), "val") == expected
