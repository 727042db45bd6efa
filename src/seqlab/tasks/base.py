"""What every task shares: building the encoder, regularisation, optimisation, logging."""

import copy
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from torch import Tensor, nn

from seqlab.data.batch import Batch, length_mask
from seqlab.data.spec import DataSpec
from seqlab.init import initialize
from seqlab.models.base import EncoderOutput
from seqlab.regularization.augment import SequenceAugment
from seqlab.regularization.dropout import SequenceDropout
from seqlab.regularization.label_smoothing import check_epsilon
from seqlab.regularization.noise import GaussianNoise
from seqlab.regularization.penalty import WeightPenalty

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}


class SequenceTask(pl.LightningModule):
    """Base LightningModule: subclasses build their heads and implement `head_step`.

    Every part comes as a plain dict (the Hydra group it was chosen from), so a checkpoint's
    hyperparameters are plain data and enough to rebuild the module.

    A task can also serve as one head of a multitask model (`seqlab.tasks.multitask`): the
    parent encodes once and calls `head_step`, and the head logs through the parent.
    """

    multitarget = False  # True for tasks that read data with several named targets
    head_name = ""  # set on the heads of a multitask model
    _log_route: Callable[..., None] | None = None

    def __init__(
        self,
        spec: DataSpec | dict,
        model: dict,
        regularizer: dict,
        init: dict,
        optim: dict,
        monitor: str = "val/loss",
        monitor_mode: str = "min",
        embedding_dim: int = 64,
    ) -> None:
        super().__init__()
        spec = spec if isinstance(spec, DataSpec) else DataSpec(**spec)
        if spec.targets and not self.multitarget:
            raise ValueError(
                f"the data gives several targets per item ({sorted(spec.targets)}): "
                "use task=multitask with one head per target"
            )
        self.save_hyperparameters(ignore=["spec"])
        self.hparams["spec"] = asdict(spec)
        self.spec = spec
        self.regularizer = regularizer
        layer_dropout = self.build_regularizers(spec)
        self.embedding = (
            nn.Embedding(spec.input_size, embedding_dim, padding_idx=0)
            if spec.input_is_tokens
            else None
        )
        encoder_input = embedding_dim if spec.input_is_tokens else spec.input_size
        self.encoder = instantiate(model, input_size=encoder_input, dropout=layer_dropout)
        self.build_heads(self.encoder.output_size)
        for penalty in self.penalties:
            penalty.lambdas(self)  # a per-module prefix that matches nothing fails here
        self.optim = optim
        self.monitor, self.monitor_mode = monitor, monitor_mode
        initialize(self, **init)

    def build_regularizers(self, spec: DataSpec) -> SequenceDropout | None:
        """Dropout, noise, weight penalties and augmentation from `self.regularizer`.

        Returns the dropout the encoder applies between its layers, or None (the encoder's
        own layers honour `mode` and `variational`; fused kernels take only `p`).
        """
        dropout = self.regularizer.get("dropout") or {}
        p = dropout.get("p", 0.0)
        style = {"variational": dropout.get("variational", False)}
        style["mode"] = dropout.get("mode") or "inverted"
        self.input_dropout = SequenceDropout(p if dropout.get("inputs") else 0.0, **style)
        self.head_dropout = SequenceDropout(p if dropout.get("head") else 0.0, **style)
        noise = self.regularizer.get("noise") or {}
        self.input_noise = GaussianNoise(noise["std"] if noise.get("inputs") else 0.0)
        self.output_noise = GaussianNoise(noise["std"] if noise.get("outputs") else 0.0)
        self.penalties = nn.ModuleList(
            WeightPenalty(kind, **self.regularizer[kind])
            for kind in ("l1", "l2")
            if self.regularizer.get(kind)
        )
        augment = self.regularizer.get("augment")
        if augment and spec.input_is_tokens:
            raise ValueError("regularizer.augment transforms float features; this data has tokens")
        self.augment = SequenceAugment(augment) if augment else None
        check_epsilon(self.label_smoothing)
        return SequenceDropout(p, **style) if dropout.get("layers") and p > 0 else None

    def build_heads(self, encoder_size: int) -> None:
        """Create the task's output layers on top of an encoder of width `encoder_size`."""
        raise NotImplementedError

    def step(self, batch: Batch, stage: str) -> Tensor:
        """Return the data loss of `batch` and update the stage's metrics."""
        return self.head_step(self.encode(batch), batch, stage)

    def head_step(self, encoded: EncoderOutput, batch: Batch, stage: str) -> Tensor:
        """`step` on an encoding computed already (by this task, or a multitask parent)."""
        raise NotImplementedError

    def route_logs(self, log: Callable[..., None], head_name: str) -> None:
        """Log through `log` (a multitask parent's) as `<stage>/<head_name>/<metric>`: only
        the module Lightning runs can log, and a head is not that module."""
        self._log_route, self.head_name = log, head_name

    def log(self, name: str, value: Any, *args: Any, **kwargs: Any) -> None:
        if self._log_route is None:
            return super().log(name, value, *args, **kwargs)
        stage, _, metric = name.partition("/")
        return self._log_route(f"{stage}/{self.head_name}/{metric}", value, *args, **kwargs)

    @property
    def label_smoothing(self) -> float:
        """Epsilon for every classification loss (0 unless `regularizer=label_smoothing`)."""
        return (self.regularizer.get("label_smoothing") or {}).get("epsilon", 0.0)

    def example_losses(self, batch: Batch) -> Tensor:
        """[B] data loss of each sequence (what an ensemble reweights per example).

        Optional: tasks that implement it (and `predict`) can be bagged (`ensemble=bagging`).
        """
        raise NotImplementedError

    def predict(self, batch: Batch) -> Tensor:
        """What an ensemble averages: class probabilities, or outputs for regression."""
        raise NotImplementedError

    def penalty(self) -> Tensor:
        """Sum of the configured weight penalties (l1, l2) over this task's parameters."""
        total = next(self.parameters()).new_zeros(())
        for penalty in self.penalties:
            total = total + penalty(self)
        return total

    def encode(self, batch: Batch) -> EncoderOutput:
        """Embedding (token inputs) -> input noise and dropout -> encoder -> output noise and
        dropout before the heads. Noise and dropout act in training only."""
        self.check_inputs(batch)
        inputs = batch.inputs if self.embedding is None else self.embedding(batch.inputs)
        inputs = self.input_dropout(self.input_noise(inputs, batch.mask))
        encoded = self.encoder(inputs, batch.lengths)
        mask = length_mask(encoded.lengths, encoded.outputs.shape[1], encoded.outputs.device)
        outputs = self.head_dropout(self.output_noise(encoded.outputs, mask))
        final = self.head_dropout(self.output_noise(encoded.final))
        return encoded._replace(outputs=outputs, final=final)

    def check_inputs(self, batch: Batch) -> None:
        """Fail on the first batch whose feature count is not the one the model was built for."""
        features = batch.inputs.shape[-1]
        if not self.spec.input_is_tokens and features != self.spec.input_size:
            raise ValueError(
                f"data gives {features} input features per step, but the model was built for "
                f"the data's DataSpec.input_size={self.spec.input_size}: the data module's "
                f"spec disagrees with its items"
            )

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        if self.augment is not None:
            batch = self.augment(batch)
        data_loss = self.step(batch, "train")
        penalized = len(self.penalties) > 0
        return log_training_loss(self, data_loss, self.penalty(), batch, batch_idx, penalized)

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self.log("val/loss", self.step(batch, "val"), batch_size=len(batch), sync_dist=True)

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        self.log("test/loss", self.step(batch, "test"), batch_size=len(batch), sync_dist=True)

    def configure_optimizers(self) -> Any:
        return build_optimizer(self.parameters(), self.optim, self.monitor, self.monitor_mode)

    def gradient_probe(self) -> nn.Module:
        """A trainer-free copy of this task whose `data_loss(batch)` gives the training data
        loss and the encoding it came from (for the gradient-flow callback and notebooks)."""
        return TaskProbe(self)


class TaskProbe(nn.Module):
    """A copy of a task that holds no trainer: safe to deep-copy, convert and put in eval.

    `data_loss(batch) -> (loss, encoding)` runs the task's own training `step` (its metrics
    update on the copy only; its logging has no trainer to go to and is silenced).
    """

    def __init__(self, task: pl.LightningModule) -> None:
        super().__init__()
        tasks = [m for m in task.modules() if isinstance(m, pl.LightningModule)]
        trainers = [m._trainer for m in tasks]
        for m in tasks:  # multitask heads hold the trainer too
            m._trainer = None
        try:
            self.task = copy.deepcopy(task)
        finally:
            for m, trainer in zip(tasks, trainers, strict=True):
                m._trainer = trainer

    def data_loss(self, batch: Batch) -> tuple[Tensor, EncoderOutput]:
        encodings: list[EncoderOutput] = []
        hook = self.task.encoder.register_forward_hook(lambda *call: encodings.append(call[2]))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                loss = self.task.step(batch, "train")
        finally:
            hook.remove()
        return loss, encodings[-1]


def log_training_loss(
    task: pl.LightningModule,
    data_loss: Tensor,
    penalty: Tensor,
    batch: Batch,
    batch_idx: int,
    penalized: bool,
) -> Tensor:
    """Check and log the minimised loss (data loss + penalty); with a penalty configured,
    also `train/data_loss` and `train/penalty` apart."""
    loss = data_loss + penalty
    if not torch.isfinite(loss):
        raise FloatingPointError(
            f"training loss is {loss.item()} (data {float(data_loss)}, penalty "
            f"{float(penalty)}) at epoch {task.current_epoch}, step {task.global_step}, "
            f"batch {batch_idx}"
        )
    task.log("train/loss", loss, prog_bar=True, batch_size=len(batch))
    if penalized:
        task.log("train/data_loss", data_loss, batch_size=len(batch))
        task.log("train/penalty", penalty, batch_size=len(batch))
    return loss


def build_optimizer(
    parameters: Iterable[nn.Parameter], optim: dict, monitor: str, monitor_mode: str
) -> Any:
    """Optimizer (and plateau scheduler on `monitor`) from a task's `optim` dict."""
    name = optim["name"]
    if name not in OPTIMIZERS:
        raise ValueError(f"task.optim.name must be one of {sorted(OPTIMIZERS)}, got {name!r}")
    optimizer = OPTIMIZERS[name](parameters, lr=optim["lr"], weight_decay=optim["weight_decay"])
    if optim["scheduler"] == "none":
        return optimizer
    if optim["scheduler"] != "plateau":
        raise ValueError(
            f"task.optim.scheduler must be none or plateau, got {optim['scheduler']!r}"
        )
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode=monitor_mode, factor=0.5, patience=optim["patience"]
    )
    return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "monitor": monitor}}
