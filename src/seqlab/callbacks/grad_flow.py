"""Gradient flow through time: |d loss / d h_t| at every step t of the encoder, plotted.

For a recurrent net the curve shows at a glance whether the loss still reaches early steps
(vanishing gradients: the curve falls towards t = 0) or blows up (exploding gradients).
"""

import copy
import math
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import matplotlib
import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import TensorBoardLogger, WandbLogger
from pytorch_lightning.utilities import rank_zero_warn
from torch import Tensor

from seqlab.callbacks.unroll import unrolled_forward
from seqlab.data.batch import Batch
from seqlab.models.base import EncoderOutput
from seqlab.models.rnn import RecurrentEncoder

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # noqa: E402  (backend first: no display on servers)


@dataclass
class GradientFlow:
    """Per-step gradient norms of one batch.

    `per_sequence[b, t]` is |d loss / d h_t| of sequence b (0 past its end); `norms[t]` is its
    mean over the sequences that have step t; `ratio` is the geometric mean over sequences of
    |dL/dh_first| / |dL/dh_last| (their own last real step).
    """

    per_sequence: Tensor
    lengths: Tensor
    quantity: str

    @property
    def counts(self) -> Tensor:
        return (torch.arange(self.per_sequence.shape[1])[None, :] < self.lengths[:, None]).sum(0)

    @property
    def norms(self) -> Tensor:
        return self.per_sequence.sum(0) / self.counts.clamp(min=1)

    @property
    def ratio(self) -> float:
        first = self.per_sequence[:, 0]
        last = self.per_sequence[torch.arange(len(self.lengths)), self.lengths - 1]
        return math.exp(torch.log(first / last).mean().item())


def first_sequences(batch: Batch, count: int) -> Batch:
    """The first `count` sequences of a batch, padding trimmed to the longest of them."""
    return batch.first(count)


def detached_copy(task: pl.LightningModule) -> pl.LightningModule:
    """A copy of the task without its trainer: its metrics and logging stay untouched.

    Sub-tasks holding the trainer too (multitask heads) are detached alike."""
    tasks = [m for m in task.modules() if isinstance(m, pl.LightningModule)]
    trainers = [m._trainer for m in tasks]
    for m in tasks:
        m._trainer = None
    try:
        return copy.deepcopy(task)
    finally:
        for m, trainer in zip(tasks, trainers, strict=True):
            m._trainer = trainer


def probed_task(module: pl.LightningModule):
    """The model whose encoder is probed (an ensemble's first member)."""
    return module.gradient_probe() if hasattr(module, "gradient_probe") else None


def gradient_flow(task, batch: Batch) -> GradientFlow:
    """|d loss / d h_t| for every step of `batch`, on a copy of `task` in eval mode.

    h_t is the top layer's hidden state (both directions joined) of a `RecurrentEncoder`,
    run step by step (`unroll.py`). Other encoders have no exposed states: the gradient is then
    taken with respect to the encoder's inputs x_t, which shows the same flow through time.
    The copy runs in float64: vanishing gradients underflow float32 within ~100 steps.
    """
    probe = copy.deepcopy(task).double().eval()
    if batch.inputs.is_floating_point():
        batch = replace(batch, inputs=batch.inputs.double())
    encoder, recorded = probe.encoder, {}

    def forward(inputs: Tensor, lengths: Tensor) -> EncoderOutput:
        if isinstance(encoder, RecurrentEncoder):
            outputs, final, states = unrolled_forward(encoder.rnn, inputs, lengths)
            recorded["states"] = [s for direction in states for s in direction]
            recorded["directions"] = len(states)
            return EncoderOutput(outputs, lengths, final)
        inputs = inputs.detach().requires_grad_()
        recorded["inputs"] = inputs
        return type(encoder).forward(encoder, inputs, lengths)

    encoder.forward = forward
    with torch.enable_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the probe has no trainer to log to
        loss, _ = probe.data_loss(batch)
    if "states" in recorded:
        grads = torch.autograd.grad(loss, recorded["states"], allow_unused=True)
        pairs = zip(grads, recorded["states"], strict=True)
        grads = [torch.zeros_like(s) if g is None else g for g, s in pairs]
        steps = len(grads) // recorded["directions"]
        squares = torch.stack([g.pow(2).sum(-1) for g in grads], dim=1)  # [B, dirs * T]
        squares = squares.reshape(len(batch), recorded["directions"], steps).sum(1)
        quantity = "h_t"
    else:
        (grad,) = torch.autograd.grad(loss, recorded["inputs"])
        squares, quantity = grad.pow(2).flatten(2).sum(-1), "x_t"
    per_sequence = squares.sqrt().detach().cpu() * batch.mask.cpu()
    return GradientFlow(per_sequence, batch.lengths.cpu(), quantity)


def plot(flow: GradientFlow, step: int) -> plt.Figure:
    """Mean |dL/d h_t| against t on a log scale, with how many sequences reach each t."""
    figure, axis = plt.subplots(figsize=(6, 3.5))
    steps = range(len(flow.norms))
    axis.semilogy(steps, flow.norms.numpy(), marker=".")
    axis.set_xlabel("time step t")
    axis.set_ylabel(f"mean |d loss / d {flow.quantity}|")
    sequences = axis.twinx()
    sequences.step(steps, flow.counts.numpy(), where="mid", color="grey", alpha=0.5)
    sequences.set_ylabel("sequences having step t", color="grey")
    sequences.set_ylim(bottom=0)
    axis.set_title(f"gradient flow through time, optimizer step {step}")
    axis.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    return figure


class GradFlow(pl.Callback):
    """Every `every_n_steps` optimizer steps, measure and plot the gradient flow of one batch.

    On rank zero only. The plot goes to `plot_dir/step_<n>.png` and to W&B / TensorBoard;
    `grad_flow/ratio` is logged, and a warning printed when it leaves [min_ratio, max_ratio].
    """

    def __init__(
        self,
        every_n_steps: int = 200,
        max_sequences: int = 32,
        min_ratio: float = 1e-3,
        max_ratio: float = 1e3,
        plot_dir: str = "grad_flow",
    ) -> None:
        if every_n_steps <= 0 or max_sequences <= 0:
            raise ValueError(
                "callbacks.grad_flow.every_n_steps and max_sequences must be > 0, "
                f"got {every_n_steps} and {max_sequences}"
            )
        if not 0 < min_ratio < max_ratio:
            raise ValueError(
                "callbacks.grad_flow needs 0 < min_ratio < max_ratio, "
                f"got {min_ratio} and {max_ratio}"
            )
        self.every_n_steps, self.max_sequences = every_n_steps, max_sequences
        self.min_ratio, self.max_ratio = min_ratio, max_ratio
        self.plot_dir = Path(plot_dir)
        self._due_step: int | None = None

    def on_before_optimizer_step(self, trainer: pl.Trainer, *args) -> None:
        if trainer.is_global_zero and trainer.global_step % self.every_n_steps == 0:
            self._due_step = trainer.global_step

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs, batch: Batch, *args
    ) -> None:
        """Measure after the step (the batch is at hand), labelled with the step it took."""
        step, self._due_step = self._due_step, None
        task = probed_task(pl_module)
        if step is None or task is None:
            if step is not None:
                rank_zero_warn(f"gradient flow: {type(pl_module).__name__} holds no SequenceTask")
            return
        flow = gradient_flow(task, first_sequences(batch, self.max_sequences))
        ratio = flow.ratio
        if not self.min_ratio <= ratio <= self.max_ratio:
            rank_zero_warn(
                f"gradient flow at step {step}: |dL/d{flow.quantity}| at the first step is "
                f"{ratio:.3g} x that at the last step, outside [{self.min_ratio}, "
                f"{self.max_ratio}]: gradients {'vanish' if ratio < self.min_ratio else 'explode'}"
                " over time"
            )
        figure = plot(flow, step)
        self.plot_dir.mkdir(parents=True, exist_ok=True)
        figure.savefig(self.plot_dir / f"step_{step:06d}.png", dpi=80)
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                import wandb

                logger.experiment.log(
                    {
                        "grad_flow/plot": wandb.Image(figure),
                        "grad_flow/ratio": ratio,
                        "trainer/global_step": step,
                    }
                )
                continue
            logger.log_metrics({"grad_flow/ratio": ratio}, step=step)
            if isinstance(logger, TensorBoardLogger):
                logger.experiment.add_figure("grad_flow/plot", figure, global_step=step)
        plt.close(figure)
