"""Truncated BPTT: carried state, chunk gradients, refusals, streams, an end-to-end run."""

import pytest
import torch

from seqlab.data.collate import pad_collate
from seqlab.data.sources.forecast import stream_windows
from seqlab.data.spec import DataSpec
from seqlab.models.rnn import RecurrentEncoder
from seqlab.tasks.module import SequenceTask
from seqlab.tasks.tbptt import chunks, encode_chunk
from seqlab.train import train
from tests.conftest import compose_config

SPEC = DataSpec(input_size=3, num_classes=4)
PER_STEP = {"_target_": "seqlab.heads.per_step.PerStepHead", "weight": 1.0}
LSTM = {"_target_": "seqlab.models.rnn.RecurrentEncoder", "hidden_size": 6, "num_layers": 2}


def make_task(model: dict = LSTM, head: dict = PER_STEP, steps: int = 4) -> SequenceTask:
    torch.manual_seed(0)
    return SequenceTask(
        SPEC,
        model=model,
        heads={"main": head},
        regularizer={},
        init={"scheme": "default"},
        optimizer={"_target_": "torch.optim.SGD", "_partial_": True, "lr": 0.1},
        tbptt_steps=steps,
    )


def make_batch(lengths=(11, 5, 8)):
    generator = torch.Generator().manual_seed(1)
    items = [
        (torch.randn(n, 3, generator=generator), torch.randint(0, 4, (n,), generator=generator), i)
        for i, n in enumerate(lengths)
    ]
    return pad_collate(items)


def gradients(task: SequenceTask, loss: torch.Tensor) -> list[torch.Tensor]:
    task.zero_grad()
    loss.backward()
    return [p.grad.clone() for p in task.model.parameters()]


def chunk_losses(task: SequenceTask, batch, steps: int) -> list[torch.Tensor]:
    """Each chunk's loss, its state carried (detached) as the training step does."""
    losses, state, full = [], None, None
    for rows, chunk in chunks(batch, steps):
        start = None if full is None else tuple(s[:, rows] for s in full)
        encoded, new = encode_chunk(task, chunk, start)
        head = task.model.heads["main"]
        losses.append(head.loss(head(encoded, chunk), chunk))
        state = new
        if full is None:
            full = tuple(torch.zeros(n.shape[0], len(batch), n.shape[2]) for n in state)
        full = tuple(f.index_copy(1, rows, n.detach()) for f, n in zip(full, state, strict=True))
    return losses


def test_one_chunk_as_long_as_the_batch_has_the_full_gradient() -> None:
    task, batch = make_task(), make_batch()
    full = gradients(task, task.model.data_loss(batch)[0])
    (only,) = chunk_losses(task, batch, steps=11)
    for a, b in zip(full, gradients(task, only), strict=True):
        torch.testing.assert_close(a, b)


def test_first_chunk_gradient_ignores_later_steps() -> None:
    task, batch = make_task(), make_batch()
    first = gradients(task, chunk_losses(task, batch, steps=4)[0])
    changed = make_batch()
    changed.inputs[:, 4:] = torch.randn_like(changed.inputs[:, 4:]) * changed.mask[:, 4:, None]
    changed.targets[:, 4:] = (changed.targets[:, 4:] + 1) % 4 * changed.target_mask[:, 4:]
    again = gradients(task, chunk_losses(task, changed, steps=4)[0])
    _, head = next(chunks(batch, 4))
    alone = gradients(task, task.model.data_loss(head)[0])  # the first 4 steps on their own
    for a, b, c in zip(first, again, alone, strict=True):
        torch.testing.assert_close(a, b)
        torch.testing.assert_close(a, c)
    later = gradients(task, sum(chunk_losses(task, batch, steps=4)))
    assert any(not torch.allclose(a, b) for a, b in zip(first, later, strict=True))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_state_carried_across_chunks_equals_one_run(cell: str) -> None:
    torch.manual_seed(0)
    encoder = RecurrentEncoder(3, cell=cell, hidden_size=5, num_layers=2).eval()
    batch = make_batch()
    whole = encoder(batch.inputs, batch.lengths)
    outputs = torch.zeros_like(whole.outputs)
    finals = [None] * len(batch)
    state = None
    for start in range(0, 11, 3):
        rows = (batch.lengths > start).nonzero()[:, 0]
        lengths = (batch.lengths[rows] - start).clamp(max=3)
        x = batch.inputs[rows, start : start + int(lengths.max())]
        begin = None if state is None else tuple(s[:, rows] for s in state)
        encoded, new = encoder.forward_with_state(x, lengths, begin)
        outputs[rows, start : start + x.shape[1]] = encoded.outputs
        for k, row in enumerate(rows.tolist()):
            finals[row] = new[0][-1, k]
        if state is None:
            state = tuple(torch.zeros(n.shape[0], len(batch), n.shape[2]) for n in new)
        state = tuple(s.index_copy(1, rows, n) for s, n in zip(state, new, strict=True))
    torch.testing.assert_close(outputs, whole.outputs)
    torch.testing.assert_close(torch.stack(finals), whole.final)  # state at each true end


def test_refuses_what_truncation_cannot_train() -> None:
    with pytest.raises(ValueError, match="task.tbptt_steps=4.*bidirectional"):
        make_task({**LSTM, "bidirectional": True})
    with pytest.raises(ValueError, match="task.tbptt_steps=4 needs per-step heads"):
        make_task(head={"_target_": "seqlab.heads.sequence.SequenceHead", "weight": 1.0})
    ligru = {"_target_": "seqlab.models.ligru.LiGRU", "hidden_size": 4}
    with pytest.raises(ValueError, match="task.tbptt_steps=4: the encoder LiGRU"):
        make_task(ligru)
    with pytest.raises(ValueError, match="task.tbptt_steps must be >= 0"):
        make_task(steps=-1)


def test_stream_windows_continue_row_by_row() -> None:
    inputs, targets = stream_windows(torch.arange(50.0), streams=3, length=4, name="x")
    assert len(inputs) == 12  # 49 steps -> 3 streams of 16 -> 4 windows each
    for w in range(3):
        for r in range(3):
            following = inputs[(w + 1) * 3 + r]
            assert following[0, 0] == targets[w * 3 + r][-1]  # the next window goes on


def test_trains_forecast_streams(tmp_path) -> None:
    overrides = [
        "experiment=forecast",
        "data.stream=true",
        "data.batching=sorted",
        "data.max_length=24",
        "data.batch_size=16",
        "task.tbptt_steps=8",
        "task.tbptt_clip_val=1.0",
        "scheduler=plateau",
        "model=lstm",
        "model.hidden_size=8",
        "callbacks.step_budget.min_steps=0",
        "logger=none",
        "trainer.accelerator=cpu",
        "trainer.max_epochs=2",
        "trainer.enable_progress_bar=false",
        "trainer.enable_model_summary=false",
        "test=false",
        f"paths.output_dir={tmp_path}",
    ]
    metrics = train(compose_config(overrides))
    assert torch.isfinite(torch.tensor(metrics["train/loss"]))
    assert metrics["val/mse"] < metrics["val/mse_naive"] * 3
    unsorted = [o for o in overrides if o != "data.batching=sorted" and "output_dir" not in o]
    with pytest.raises(Exception, match="data.batching=sorted"):  # through instantiate
        train(compose_config([*unsorted, f"paths.output_dir={tmp_path / 'unsorted'}"]))


def test_evaluation_runs_whole_sequences_as_without_truncation() -> None:
    batch = make_batch()
    plain, truncated = make_task(steps=0), make_task(steps=4)
    truncated.load_state_dict(plain.state_dict())
    for task in (plain, truncated):
        task.log = lambda *args, **kwargs: None
        task.evaluate(batch, "val")
    first, second = (t.metrics["val_metrics"]["model"]["main"] for t in (plain, truncated))
    for name in ("acc", "ce"):
        assert float(first[name].compute()) == float(second[name].compute())
