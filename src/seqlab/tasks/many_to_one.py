"""One prediction per sequence, read from the encoder's final vector."""

import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics.classification import MulticlassAccuracy

from seqlab.data.batch import Batch
from seqlab.models.base import EncoderOutput
from seqlab.tasks.base import SequenceTask


class ManyToOneTask(SequenceTask):
    """Sequence classification: cross-entropy on the final vector, accuracy per stage."""

    def build_heads(self, encoder_size: int) -> None:
        if self.spec.num_classes < 2:
            raise ValueError(
                f"task=many_to_one classifies, but the data has num_classes={self.spec.num_classes}"
            )
        self.head = nn.Linear(encoder_size, self.spec.num_classes)
        self.accuracy = nn.ModuleDict(
            {
                f"{stage}_acc": MulticlassAccuracy(self.spec.num_classes, average="micro")
                for stage in ("train", "val", "test")
            }
        )

    def forward(self, batch: Batch) -> Tensor:
        """Class logits [B, C]."""
        return self.head(self.encode(batch).final)

    def losses(self, logits: Tensor, targets: Tensor) -> Tensor:
        """[B] cross-entropy, label-smoothed by `regularizer.label_smoothing`."""
        return F.cross_entropy(
            logits, targets, label_smoothing=self.label_smoothing, reduction="none"
        )

    def example_losses(self, batch: Batch) -> Tensor:
        return self.losses(self(batch), batch.targets)

    def predict(self, batch: Batch) -> Tensor:
        return self(batch).softmax(dim=-1)

    def head_step(self, encoded: EncoderOutput, batch: Batch, stage: str) -> Tensor:
        logits = self.head(encoded.final)
        loss = self.losses(logits, batch.targets).mean()
        accuracy = self.accuracy[f"{stage}_acc"]
        accuracy(logits, batch.targets)
        self.log(f"{stage}/acc", accuracy, prog_bar=stage != "train", batch_size=len(batch))
        return loss
