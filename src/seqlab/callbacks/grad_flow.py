"""Gradient flow through time: |d loss / d h_t| at every step t of the encoder, plotted.

For a recurrent net the curve shows at a glance whether the loss still reaches early steps
(vanishing gradients: the curve falls towards t = 0) or blows up (exploding gradients).
"""

import copy
import math
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import pytorch_lightning as pl
import torch
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from pytorch_lightning.loggers import TensorBoardLogger, WandbLogger
from pytorch_lightning.utilities import rank_zero_warn
from torch import Tensor, nn
from torch.nn.modules.module import register_module_forward_hook

from seqlab.data.batch import Batch
from seqlab.models.base import EncoderOutput, states_through_time


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
        tiny = torch.finfo(torch.float64).tiny  # an exact zero (a dead unit) stays finite
        logs = torch.log(first.double().clamp_min(tiny) / last.double().clamp_min(tiny))
        return math.exp(logs.mean().item())


def gradient_flow(probe: nn.Module, batch: Batch) -> GradientFlow:
    """|d loss / d h_t| for every step of `batch`, on a float64 copy of `probe` in eval mode.

    `probe` is a LightningModule's `gradient_probe()`: an nn.Module holding no trainer, with
    `data_loss(batch) -> (loss, EncoderOutput)`. Inside `states_through_time()` encoders make
    `EncoderOutput.states` (the top layer's h_t, both directions) a tensor their recurrence
    reads, so its gradient is the whole flow through time. An encoder without states (None)
    is measured at its inputs x_t instead (the quantity says which), which shows the same flow
    one layer lower. Float64: vanishing gradients underflow float32 within ~100 steps.
    """
    probe = copy.deepcopy(probe).double().eval()
    if batch.inputs.is_floating_point():
        batch = replace(batch, inputs=batch.inputs.double().requires_grad_())
    inputs: list[Tensor] = []

    def record_encoder_inputs(module: nn.Module, args: tuple, output: object) -> None:
        if isinstance(output, EncoderOutput):  # the outermost encoder finishes last
            inputs.append(args[0])

    hook = register_module_forward_hook(record_encoder_inputs)
    try:
        with torch.enable_grad(), states_through_time():
            loss, encoded = probe.data_loss(batch)
    finally:
        hook.remove()
    if encoded.states is not None and encoded.states.requires_grad:
        (grad,) = torch.autograd.grad(loss, encoded.states)
        lengths, quantity = encoded.lengths, "h_t"
    else:
        if not inputs:
            raise TypeError(
                "gradient flow: no module returned an EncoderOutput during data_loss(batch), "
                "so neither states nor encoder inputs can be measured"
            )
        (grad,) = torch.autograd.grad(loss, inputs[-1])
        lengths, quantity = batch.lengths, "x_t"
    lengths = lengths.cpu()
    real = torch.arange(grad.shape[1])[None, :] < lengths[:, None]
    per_sequence = grad.flatten(2).pow(2).sum(-1).sqrt().detach().cpu() * real
    return GradientFlow(per_sequence, lengths, quantity)


def plot(flow: GradientFlow, step: int) -> Figure:
    """Mean |dL/d h_t| against t on a log scale, with how many sequences reach each t."""
    figure = Figure(figsize=(6, 3.5))  # no pyplot: no GUI backend, no global state
    axis = figure.subplots()
    steps = range(len(flow.norms))
    axis.semilogy(steps, flow.norms.numpy(), marker=".")
    axis.set_xlabel("time step t")
    where = "top-layer states" if flow.quantity == "h_t" else "encoder inputs: no states exposed"
    axis.set_ylabel(f"mean |d loss / d {flow.quantity}| ({where})")
    sequences = axis.twinx()
    sequences.step(steps, flow.counts.numpy(), where="mid", color="grey", alpha=0.5)
    sequences.set_ylabel("sequences having step t", color="grey")
    sequences.set_ylim(bottom=0)
    axis.set_title(f"gradient flow through time, optimizer step {step}")
    axis.grid(True, which="both", alpha=0.3)
    plain_log_labels(axis, flow.norms)
    figure.subplots_adjust(left=0.13, right=0.88, bottom=0.14, top=0.91)  # tight_layout: 0.3 s
    return figure


def plain_log_labels(axis: Axes, values: Tensor) -> None:
    """Plain-text tick labels ("2.0e-03"): matplotlib's default log labels are mathtext, whose
    parsing and layout took most of a plot's time; minor ticks are labelled only when the
    curve spans less than a decade (else they would crowd)."""
    label = ticker.FuncFormatter(lambda value, _: f"{value:.1e}")
    axis.yaxis.set_major_formatter(label)
    positive = values[values > 0]
    narrow = len(positive) > 0 and positive.max() < 10 * positive.min()
    axis.yaxis.set_minor_formatter(label if narrow else ticker.NullFormatter())


class GradFlow(pl.Callback):
    """Every `every_n_steps` optimizer steps, measure and plot the gradient flow of one batch.

    On rank zero only. The plot goes to `plot_dir/step_<n>.png` and to W&B / TensorBoard;
    `grad_flow/ratio` is logged, and a warning printed when it leaves [min_ratio, max_ratio].
    The measurement needs the step's weights and runs in the step; drawing a figure takes
    several times longer, so one worker thread draws while training goes on, and the end of
    fit (or its failure) waits for every plot.
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
        self._drawer: ThreadPoolExecutor | None = None
        self._drawing: list[Future] = []

    def on_before_optimizer_step(self, trainer: pl.Trainer, *args) -> None:
        if trainer.is_global_zero and trainer.global_step % self.every_n_steps == 0:
            self._due_step = trainer.global_step

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs, batch: Batch, *args
    ) -> None:
        """Measure after the step (the batch is at hand), labelled with the step it took."""
        step, self._due_step = self._due_step, None
        if step is None:
            return
        if not hasattr(pl_module, "gradient_probe"):
            rank_zero_warn(f"gradient flow: {type(pl_module).__name__} has no gradient_probe()")
            return
        flow = gradient_flow(pl_module.gradient_probe(), batch.first(self.max_sequences))
        ratio = flow.ratio
        if not self.min_ratio <= ratio <= self.max_ratio:
            rank_zero_warn(
                f"gradient flow at step {step}: |dL/d{flow.quantity}| at the first step is "
                f"{ratio:.3g} x that at the last step, outside [{self.min_ratio}, "
                f"{self.max_ratio}]: gradients {'vanish' if ratio < self.min_ratio else 'explode'}"
                " over time"
            )
        for logger in trainer.loggers:
            logger.log_metrics({"grad_flow/ratio": ratio}, step=step)
        if self._drawer is None:
            self._drawer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="grad_flow")
        self._drawing.append(self._drawer.submit(self.draw, flow, step, trainer.loggers))

    def draw(self, flow: GradientFlow, step: int, loggers: list) -> None:
        """The PNG, and the figure for W&B / TensorBoard (on the drawing thread)."""
        figure = plot(flow, step)
        self.plot_dir.mkdir(parents=True, exist_ok=True)
        figure.savefig(self.plot_dir / f"step_{step:06d}.png", dpi=80)
        for logger in loggers:
            if isinstance(logger, WandbLogger):
                import wandb

                image = wandb.Image(figure)
                logger.experiment.log({"grad_flow/plot": image, "trainer/global_step": step})
            elif isinstance(logger, TensorBoardLogger):
                logger.experiment.add_figure("grad_flow/plot", figure, global_step=step)

    def finish_drawing(self) -> None:
        """Wait for the plots; a failed drawing raises here."""
        drawing, self._drawing = self._drawing, []
        for future in drawing:
            future.result()

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.finish_drawing()

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        """Also after a failed fit: no thread outlives the trainer."""
        if self._drawer is not None:
            self._drawer.shutdown(wait=True)
            self._drawer = None
        self._drawing = []
