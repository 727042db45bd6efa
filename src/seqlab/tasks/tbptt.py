"""Truncated backpropagation through time for per-step heads (`task.tbptt_steps=K`).

Each training batch is cut into K-step chunks. Every chunk is encoded from the state the
previous chunk ended in (all layers, h and c), detached, so gradients stop at the chunk
boundary, and takes its own optimizer step. A sequence that ends inside a chunk leaves the
batch from the next chunk on (its rows are dropped, never padded into the state). With data
that streams (`DataSpec.streams`, e.g. `data.stream=true`) the state also carries from one
batch to the next, since row r of every batch continues stream r; it resets each epoch.
Validation and test run whole sequences as without truncation.
"""

from collections.abc import Iterator
from dataclasses import replace

import pytorch_lightning as pl
import torch
from torch import Tensor
from torch.optim.lr_scheduler import ReduceLROnPlateau

from seqlab.data.batch import Batch
from seqlab.models.base import EncoderOutput
from seqlab.tasks.model import SequenceModel

State = tuple[Tensor, ...]


def check_tbptt(steps: int, clip: float, model: SequenceModel, members: int) -> None:
    """Refuse, at construction, what truncation cannot train, naming the key at fault."""
    if clip < 0:
        raise ValueError(f"task.tbptt_clip_val must be >= 0 (0 = off), got {clip}")
    if steps < 0:
        raise ValueError(f"task.tbptt_steps must be >= 0 (0 = off), got {steps}")
    if steps == 0:
        return
    key = f"task.tbptt_steps={steps}"
    for name, head in model.heads.items():
        if not getattr(head, "aligned_steps", False):
            raise ValueError(
                f"{key} needs per-step heads (one target per input step), but head {name!r} "
                f"is {type(head).__name__}: truncation would cut its target apart"
            )
    refusal = getattr(model.encoder, "state_refusal", None)
    if refusal is None:
        raise ValueError(
            f"{key}: the encoder {type(model.encoder).__name__} cannot start from a carried "
            "state (no forward_with_state): use model=rnn|lstm|gru"
        )
    if refusal() is not None:
        raise ValueError(f"{key} carries the state forward in time, which {refusal()} cannot")
    if members > 1:
        raise ValueError(f"{key} trains one model: use ensemble=none")


def chunks(batch: Batch, steps: int) -> Iterator[tuple[Tensor, Batch]]:
    """(rows still running, their K-step chunk) from the start of `batch` to its end."""
    for start in range(0, int(batch.lengths.max()), steps):
        rows = (batch.lengths > start).nonzero()[:, 0]
        lengths = (batch.lengths[rows] - start).clamp(max=steps)
        end = start + int(lengths.max())
        on_device = rows.to(batch.inputs.device)
        targets = batch.targets
        if isinstance(targets, dict):
            targets = {n: t[on_device, start:end] for n, t in targets.items()}
            target_lengths = {n: lengths.clone() for n in targets}
        else:
            targets, target_lengths = targets[on_device, start:end], lengths.clone()
        yield (
            rows,
            replace(
                batch,
                inputs=batch.inputs[on_device, start:end],
                lengths=lengths,
                targets=targets,
                indices=batch.indices[on_device],
                target_lengths=target_lengths,
            ),
        )


def encode_chunk(
    task: pl.LightningModule, chunk: Batch, state: State | None
) -> tuple[EncoderOutput, State]:
    """`SequenceModel.encode` of one chunk from `state`, with the training perturbations."""
    model = task.model
    encoded, new_state = model.encoder.forward_with_state(model.inputs(chunk), chunk.lengths, state)
    return model.perturbed(encoded), new_state


def carried(state: State | None, rows: Tensor, new: State, size: int) -> State:
    """The batch-wide state [layers, size, H] with `rows` set to their new, detached values."""
    if state is None:
        state = tuple(n.new_zeros(n.shape[0], size, n.shape[2]) for n in new)
    index = rows.to(new[0].device)
    return tuple(s.index_copy(1, index, n.detach()) for s, n in zip(state, new, strict=True))


def starting(state: State | None, rows: Tensor) -> State | None:
    """The carried state of `rows` (None: zeros, nothing carried yet)."""
    if state is None:
        return None
    index = rows.to(state[0].device)
    return tuple(s.index_select(1, index) for s in state)


def truncated_training_step(task: pl.LightningModule, batch: Batch, batch_idx: int) -> Tensor:
    """One optimizer step per chunk; logs the loss averaged over the chunks' real steps."""
    optimizer = task.optimizers()
    model = task.model
    state = task.stream_state if task.spec.streams and batch_idx > 0 else None  # epoch: reset
    if state is not None and state[0].shape[1] != len(batch):
        state = None  # a stream's batch of another size cannot continue it
    total, weight = torch.zeros((), device=task.device), 0
    for number, (rows, chunk) in enumerate(chunks(batch, task.tbptt_steps)):
        encoded, new_state = encode_chunk(task, chunk, starting(state, rows))
        outputs = task.head_outputs(model, encoded, chunk, "train")
        losses = task.head_losses(model, outputs, chunk, task.regularization.smoothing)
        loss = task.total(model, losses) + task.regularization.penalty(model)
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"training loss is {loss.item()} at epoch {task.current_epoch}, batch "
                f"{batch_idx}, chunk from step {number * task.tbptt_steps}"
            )
        optimizer.zero_grad()
        task.manual_backward(loss)
        if task.tbptt_clip_val > 0:
            task.clip_gradients(optimizer, gradient_clip_val=task.tbptt_clip_val)
        optimizer.step()
        state = carried(state, rows, new_state, len(batch))
        task.update_metrics("train", "model", model, outputs, encoded, chunk)
        real = int(chunk.lengths.sum())
        total, weight = total + loss.detach() * real, weight + real
    step_schedulers(task, "step")
    if task.spec.streams:
        task.stream_state = state
    loss = total / weight
    task.log("train/loss", loss, prog_bar=True, batch_size=len(batch))
    return loss


def step_schedulers(task: pl.LightningModule, interval: str) -> None:
    """Under manual optimization the task steps its schedules itself: `step` ones once per
    batch (their horizon, e.g. one_cycle's total steps, counts batches, not chunks), `epoch`
    ones (plateau, on the monitored metric) after each epoch."""
    for config in task.trainer.lr_scheduler_configs:
        if config.interval != interval:
            continue
        if not isinstance(config.scheduler, ReduceLROnPlateau):
            config.scheduler.step()
            continue
        value = task.trainer.callback_metrics.get(task.monitor)
        if value is not None:  # no validation yet: nothing to compare
            config.scheduler.step(value)
