"""The contract every head keeps, so any head can sit on any encoder."""

import math
from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics import Metric

from seqlab.data.batch import Batch
from seqlab.data.spec import DataSpec
from seqlab.models.base import EncoderOutput


class Head(nn.Module):
    """Owns the output layers, the loss and the metrics of one target of the data.

    A head maps an `EncoderOutput` and its target's view of the batch to outputs (`forward`),
    turns outputs into the data loss (`loss`) and updates metrics the LightningModule created
    from `metrics()` (one set per stage). Padded steps never reach a loss or a metric.
    `weight` scales the head's loss in the sum over heads (several heads on one encoder).
    """

    abstract = True  # not registered itself (seqlab.discovery)
    needs_references = False  # True: `update` wants every acceptable target of each item
    augmentable = False  # True: its targets survive augmentations that change lengths

    def __init__(self, spec: DataSpec, input_size: int, weight: float = 1.0) -> None:
        super().__init__()
        if not weight >= 0.0:
            raise ValueError(f"a head's weight must be a number >= 0, got {weight}")
        self.spec, self.input_size, self.weight = spec, input_size, weight

    def forward(self, encoded: EncoderOutput, batch: Batch, stage: str = "test") -> Tensor:
        """Outputs the loss is computed from (logits, values; teacher-forced for decoders)."""
        raise NotImplementedError

    def loss(
        self, outputs: Tensor, batch: Batch, smoothing: float = 0.0, weights: Tensor | None = None
    ) -> Tensor:
        """Scalar data loss; `weights` [B] count each sequence that many times (bagging)."""
        raise NotImplementedError

    def metrics(self) -> dict[str, Metric]:
        """Fresh metrics for one stage, by name (`acc`, `mse`, ...)."""
        raise NotImplementedError

    def update(
        self,
        metrics: nn.ModuleDict,
        outputs: Tensor,
        encoded: EncoderOutput,
        batch: Batch,
        stage: str,
        references: list | None = None,
    ) -> None:
        """Update this stage's `metrics` with the outputs of one batch."""
        raise NotImplementedError

    def combine(self, outputs: list[Tensor]) -> Tensor:
        """The outputs of an ensemble from its members' outputs (e.g. mean probabilities)."""
        raise NotImplementedError(f"{type(self).__name__} outputs cannot be averaged")

    def predict(self, encoded: EncoderOutput, batch: Batch) -> Any:
        """What a user gets for new data: probabilities, values or decoded symbols."""
        raise NotImplementedError


class ClassesOrValuesHead(Head):
    """A head with one linear output layer: class logits when the data has classes, else
    `target_size` values; ensembles average probabilities or values."""

    abstract = True

    def __init__(self, spec: DataSpec, input_size: int, weight: float = 1.0) -> None:
        super().__init__(spec, input_size, weight)
        self.classifies = spec.num_classes >= 2
        self.out = nn.Linear(input_size, spec.num_classes if self.classifies else spec.target_size)

    def combine(self, outputs: list[Tensor]) -> Tensor:
        """Log mean probabilities (classes) or mean values (regression)."""
        if self.classifies:
            return log_mean_probabilities(outputs)
        return sum(outputs) / len(outputs)

    def predict(self, encoded: EncoderOutput, batch: Batch) -> Tensor:
        """Class probabilities or values."""
        outputs = self(encoded, batch)
        return outputs.softmax(-1) if self.classifies else outputs


class DecodingHead(Head):
    """A head that emits symbols of the data's target vocabulary (seq2seq, ctc), scored with
    PER / WER against every acceptable reference of an item."""

    abstract = True
    needs_references = True

    def __init__(self, spec: DataSpec, input_size: int, weight: float = 1.0) -> None:
        super().__init__(spec, input_size, weight)
        if not spec.target_vocab:
            kind = type(self).__module__.rsplit(".", 1)[-1]  # its head option (seqlab.discovery)
            raise ValueError(
                f"a {kind} head needs token target sequences: the data's DataSpec has no "
                "target_vocab (pick a seq2seq data source, e.g. data=cmudict_g2p)"
            )


def log_mean_probabilities(outputs: list[Tensor]) -> Tensor:
    """log of the mean class probabilities of several logits tensors: usable as logits."""
    stacked = torch.stack([o.float().log_softmax(-1) for o in outputs])
    return torch.logsumexp(stacked, dim=0) - math.log(len(outputs))
