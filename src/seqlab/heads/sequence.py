"""Many-to-one: one prediction per sequence, from its final or pooled vector."""

import torch.nn.functional as F
from torch import Tensor
from torchmetrics import MeanMetric, Metric
from torchmetrics.classification import MulticlassAccuracy

from seqlab.data.batch import Batch
from seqlab.data.spec import DataSpec
from seqlab.heads.base import ClassesOrValuesHead
from seqlab.heads.pooling import Pooling
from seqlab.models.base import EncoderOutput


class SequenceHead(ClassesOrValuesHead):
    """Classification (cross-entropy, accuracy) when the data has classes, else regression
    (MSE; MSE and MAE logged) of `target_size` values per sequence.

    `pooling` summarises the steps: `mean` (default: a long series is poorly summarised by its
    last state, docs/recipes.md), `last` (the final vector), `max` or `attention`.
    """

    augmentable = True  # one target per sequence: cropping or stretching keeps it

    def __init__(
        self, spec: DataSpec, input_size: int, weight: float = 1.0, pooling: str = "mean"
    ) -> None:
        super().__init__(spec, input_size, weight)
        if spec.target_vocab or spec.num_classes == 1:
            raise ValueError(
                "a many_to_one head predicts one class or value per sequence, but the data "
                f"gives {'token sequences' if spec.target_vocab else 'a single class'} "
                "as targets"
            )
        self.pool = Pooling(pooling, input_size)

    def forward(self, encoded: EncoderOutput, batch: Batch, stage: str = "test") -> Tensor:
        """Class logits [B, C] or values [B, target_size]."""
        if batch.target_lengths is not None:
            raise ValueError(
                "a many_to_one head predicts one target per sequence, but the data gives one "
                "per step (use task=many_to_many)"
            )
        return self.out(self.pool(encoded))

    def losses(self, outputs: Tensor, batch: Batch, smoothing: float = 0.0) -> Tensor:
        """[B] loss of each sequence."""
        if self.classifies:
            return F.cross_entropy(
                outputs, batch.targets, label_smoothing=smoothing, reduction="none"
            )
        return (outputs - batch.targets.reshape(outputs.shape)).pow(2).mean(-1)

    def loss(
        self, outputs: Tensor, batch: Batch, smoothing: float = 0.0, weights: Tensor | None = None
    ) -> Tensor:
        losses = self.losses(outputs, batch, smoothing)
        return losses.mean() if weights is None else (weights * losses).sum() / len(batch)

    def metrics(self) -> dict[str, Metric]:
        if self.classifies:
            return {"acc": MulticlassAccuracy(self.spec.num_classes, average="micro")}
        return {"mse": MeanMetric(), "mae": MeanMetric()}

    def update(self, metrics, outputs, encoded, batch, stage, references=None) -> None:
        outputs = outputs.detach()
        if self.classifies:
            metrics["acc"].update(outputs, batch.targets)
            return
        error = outputs - batch.targets.reshape(outputs.shape)
        metrics["mse"].update(error.pow(2).mean(-1))
        metrics["mae"].update(error.abs().mean(-1))
