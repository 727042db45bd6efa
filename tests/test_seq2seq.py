"""Seq2seq: learning copy/reverse, beam vs greedy, masking, padding invariance, config errors."""

import pytest
import torch
import torch.nn.functional as F

from seqlab.data.batch import Batch
from seqlab.data.spec import DataSpec
from seqlab.heads.sequence_metrics import error_rate_metrics, update_error_rates
from seqlab.models.attention import ATTENTIONS, make_attention
from seqlab.models.search import hypotheses
from tests.seq2seq_helpers import batch_of, decode, fit, head_of, make_task, own_targets, synthetic


@pytest.fixture(scope="module")
def trained() -> dict:
    """A copy and a reverse model, each trained for a few seconds."""
    models = {}
    for kind in ("copy", "reverse"):
        torch.manual_seed(0)
        splits = synthetic(kind).splits
        task = make_task(splits.spec)
        fit(task, splits.train, epochs=14)
        models[kind] = (task, splits)
    return models


@pytest.mark.parametrize("kind", ["copy", "reverse"])
@pytest.mark.parametrize("strategy", ["greedy", "beam"])
def test_learns_copy_and_reverse(trained: dict, kind: str, strategy: str) -> None:
    task, splits = trained[kind]
    batch = batch_of(splits.test, list(range(len(splits.test))))
    rates = error_rate_metrics()
    update_error_rates(rates, hypotheses(decode(task, batch, strategy).tokens), own_targets(batch))
    assert float(rates["wer"].compute()) <= 0.05
    assert float(rates["per"].compute()) <= 0.02


@pytest.mark.parametrize("kind", ["copy", "reverse"])
def test_beam_of_one_equals_greedy(trained: dict, kind: str, monkeypatch) -> None:
    task, splits = trained[kind]
    monkeypatch.setattr(head_of(task).decoding, "beam_size", 1)
    batch = batch_of(splits.val, list(range(len(splits.val))))
    greedy = decode(task, batch, "greedy").tokens
    beam = decode(task, batch, "beam").tokens
    assert torch.equal(greedy, beam)


@pytest.mark.parametrize("cell", ["lstm", "gru", "ligru"])
def test_untrained_beam_of_one_equals_greedy(cell: str) -> None:
    torch.manual_seed(1)
    splits = synthetic("copy").splits
    task = make_task(splits.spec, cell=cell, beam_size=1, max_length=15).eval()
    batch = batch_of(splits.val, list(range(20)))
    assert torch.equal(decode(task, batch, "greedy").tokens, decode(task, batch, "beam").tokens)


@pytest.mark.parametrize("kind", sorted(ATTENTIONS))
def test_padded_encoder_steps_get_zero_attention(kind: str) -> None:
    attention = make_attention(kind, query_size=6, key_size=6, attention_size=5)
    keys = torch.randn(3, 7, 6) * 10
    lengths = torch.tensor([7, 3, 1])
    mask = torch.arange(7)[None, :] < lengths[:, None]
    context, weights = attention(torch.randn(3, 6), attention.prepare(keys, mask))
    assert torch.all(weights[~mask] == 0.0)
    assert torch.allclose(weights.sum(-1), torch.ones(3))
    assert torch.allclose(context[2], keys[2, 0])  # one real step: all weight on it


@pytest.mark.parametrize("strategy", ["greedy", "beam"])
@pytest.mark.parametrize("attention", sorted(ATTENTIONS))
def test_sequence_decodes_the_same_alone_and_batched(attention: str, strategy: str) -> None:
    torch.manual_seed(2)
    splits = synthetic("reverse", min_length=1, max_length=9).splits
    task = make_task(splits.spec, attention=attention, max_length=10).eval()
    order = sorted(range(len(splits.val)), key=lambda i: splits.val.lengths[i])
    short, longer = order[0], order[-5:]
    batched = batch_of(splits.val, [short, *longer])
    alone = batch_of(splits.val, [short])
    out_batched, out_alone = decode(task, batched, strategy), decode(task, alone, strategy)
    assert hypotheses(out_batched.tokens)[0] == hypotheses(out_alone.tokens)[0]
    if strategy == "greedy":
        steps, length = out_alone.weights.shape[1], int(alone.lengths[0])
        assert torch.all(out_batched.weights[0, :, length:] == 0.0)
        assert torch.allclose(
            out_batched.weights[0, :steps, :length], out_alone.weights[0], atol=1e-6
        )


def evaluated(task, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
    """Validation loss and PER/WER of one batch (metrics reset first)."""
    metrics = task.metrics["val_metrics"]["model"]["main"]
    for metric in metrics.values():
        metric.reset()
    with torch.no_grad():
        loss = task.evaluate(batch, "val")
    return loss, {name: float(metric.compute()) for name, metric in metrics.items()}


def test_padded_targets_change_neither_loss_nor_metrics() -> None:
    torch.manual_seed(3)
    splits = synthetic("copy").splits
    task = make_task(splits.spec).eval()
    batch = batch_of(splits.val, list(range(8)))
    extra = torch.zeros(len(batch), 4, dtype=torch.long)
    padded = Batch(
        batch.inputs,
        batch.lengths,
        torch.cat([batch.targets, extra], dim=1),
        batch.indices,
        batch.target_lengths,
    )
    loss, metrics = evaluated(task, batch)
    padded_loss, padded_metrics = evaluated(task, padded)
    assert torch.allclose(loss, padded_loss, atol=1e-6)
    assert metrics == pytest.approx(padded_metrics) and set(metrics) == {"per", "wer"}
    assert metrics["per"] > 0  # untrained: the check compares real error rates
    assert own_targets(batch) == own_targets(padded)


def test_per_item_loss_is_the_same_alone_and_batched() -> None:
    torch.manual_seed(4)
    splits = synthetic("copy", max_length=9).splits
    task = make_task(splits.spec).eval()
    head = head_of(task)
    order = sorted(range(len(splits.val)), key=lambda i: splits.val.lengths[i])
    with torch.no_grad():
        batched = batch_of(splits.val, [order[0], order[-1]])
        alone = batch_of(splits.val, [order[0]])
        logits_batched = head(task.model.encode(batched), batched, "val")
        logits_alone = head(task.model.encode(alone), alone, "val")
        assert torch.allclose(head.loss(logits_alone, alone), task.evaluate(alone, "val"))
    steps = int(alone.target_lengths[0])
    assert torch.allclose(logits_batched[0, :steps], logits_alone[0], atol=1e-5)


def test_label_smoothing_enters_the_training_loss_only() -> None:
    torch.manual_seed(5)
    splits = synthetic("copy").splits
    smoothed = make_task(splits.spec, regularizer={"label_smoothing": {"epsilon": 0.2}}).eval()
    head = head_of(smoothed)
    batch = batch_of(splits.val, list(range(8)))
    with torch.no_grad():
        logits = head(smoothed.model.encode(batch), batch, "val")
        mask = batch.target_mask
        expected = F.cross_entropy(logits[mask], batch.targets[mask], label_smoothing=0.2)
        plain = F.cross_entropy(logits[mask], batch.targets[mask])
        assert torch.allclose(head.loss(logits, batch, smoothing=0.2), expected)
        assert torch.allclose(smoothed.training_step(batch, 0), expected)
        assert torch.allclose(smoothed.evaluate(batch, "val"), plain)
    assert not torch.allclose(expected, plain)


def test_scheduled_sampling_feeds_own_predictions() -> None:
    torch.manual_seed(6)
    splits = synthetic("copy").splits
    task = make_task(splits.spec, teacher_forcing=0.0).train()
    head = head_of(task)
    batch = batch_of(splits.train, list(range(8)))
    encoded = task.model.encode(batch)
    forced = head(encoded, batch, "val")  # evaluation is always teacher-forced
    free = head(encoded, batch, "train")  # teacher_forcing=0: own argmax fed back
    assert forced.shape == free.shape
    assert torch.allclose(forced[:, 0], free[:, 0])  # the first step sees <bos> either way
    assert not torch.allclose(forced[:, 1:], free[:, 1:])


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"teacher_forcing": 1.5}, "task.heads.main: teacher_forcing"),
        ({"attention": "luong"}, "task.heads.main: attention.kind"),
        ({"cell": "rnn"}, "task.heads.main: decoder.cell"),
        ({"val": "beams"}, "task.heads.main: decoding.val"),
        ({"beam_size": 0}, "task.heads.main: decoding.beam_size"),
        ({"max_length": 0}, "task.heads.main: decoding.max_length"),
    ],
)
def test_bad_task_settings_name_the_key(change: dict, key: str) -> None:
    spec = synthetic("copy").splits.spec
    with pytest.raises(ValueError, match=key):
        make_task(spec, **change)


def test_dot_attention_needs_equal_widths() -> None:
    with pytest.raises(ValueError, match=r"attention\.kind=dot"):
        make_attention("dot", query_size=8, key_size=6, attention_size=4)


def test_data_without_target_vocabulary_is_rejected() -> None:
    with pytest.raises(ValueError, match="task.heads.main: .*target_vocab"):
        make_task(DataSpec(input_size=4, num_classes=3))
