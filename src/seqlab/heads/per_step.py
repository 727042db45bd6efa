"""Many-to-many: one prediction per time step, loss and metrics at the real steps only."""

import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics import MeanMetric, Metric
from torchmetrics.classification import MulticlassAccuracy

from seqlab.data.batch import Batch
from seqlab.data.spec import DataSpec
from seqlab.heads.base import ClassesOrValuesHead
from seqlab.heads.step_metrics import Perplexity, RatioOfSums
from seqlab.models.base import Encoder, EncoderOutput

REDUCTIONS = ("mean", "sum")


class PerStepHead(ClassesOrValuesHead):
    """Per-step classification (cross-entropy) or regression (MSE).

    `reduction` combines the per-step losses of a batch:
    - `mean`: their sum over all real steps of the batch / the number of real steps, so
      every real step weighs the same whatever the length of its sequence;
    - `sum`: each sequence's sum over its real steps, averaged over the sequences of the
      batch, so longer sequences weigh more (the classic "sum over time" RNN loss).
    With `spec.persistence_baseline` the naive forecast's MSE/MAE and the ratio are logged.
    """

    aligned_steps = True  # needs one encoder output per input step (see `check_encoder`)

    def __init__(
        self, spec: DataSpec, input_size: int, weight: float = 1.0, reduction: str = "mean"
    ) -> None:
        super().__init__(spec, input_size, weight)
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction

    def forward(self, encoded: EncoderOutput, batch: Batch, stage: str = "test") -> Tensor:
        """Per-step logits [B, T, C] or values [B, T, target_size]."""
        if batch.target_lengths is None:
            raise ValueError(
                "a many_to_many head needs one target per step, but the data gives one target "
                "per sequence (use task=many_to_one)"
            )
        if not torch.equal(encoded.lengths.cpu(), batch.target_lengths):
            raise ValueError(
                "a many_to_many head needs one encoder output per target step, but the encoder "
                f"returned lengths {encoded.lengths.tolist()} for target lengths "
                f"{batch.target_lengths.tolist()}"
            )
        return self.out(encoded.outputs[:, : batch.targets.shape[1]])

    def step_losses(self, outputs: Tensor, batch: Batch, smoothing: float = 0.0) -> Tensor:
        """[N] loss of every real step of the batch (row-major over sequences)."""
        mask = batch.target_mask
        if self.classifies:
            return F.cross_entropy(
                outputs[mask], batch.targets[mask], label_smoothing=smoothing, reduction="none"
            )
        real = outputs[mask]
        return (real - batch.targets[mask].reshape(real.shape)).pow(2).mean(-1)

    def loss(
        self, outputs: Tensor, batch: Batch, smoothing: float = 0.0, weights: Tensor | None = None
    ) -> Tensor:
        per_step = self.step_losses(outputs, batch, smoothing)
        if weights is not None:
            per_step = per_step * weights.repeat_interleave(batch.target_lengths.to(weights.device))
        total = per_step.sum()
        return total / per_step.numel() if self.reduction == "mean" else total / len(batch)

    def metrics(self) -> dict[str, Metric]:
        if self.classifies:
            return {
                "acc": MulticlassAccuracy(self.spec.num_classes, average="micro"),
                "ce": MeanMetric(),
                "ppl": Perplexity(),
            }
        metrics = {"mse": MeanMetric(), "mae": MeanMetric()}
        if self.spec.persistence_baseline:
            metrics |= {"mse_naive": MeanMetric(), "mae_naive": MeanMetric()}
            metrics["mse_ratio"] = RatioOfSums()
        return metrics

    def update(self, metrics, outputs, encoded, batch, stage, references=None) -> None:
        mask = batch.target_mask
        outputs = outputs.detach()[mask]
        targets = batch.targets[mask]
        if self.classifies:
            ce = F.cross_entropy(outputs, targets, reduction="none")
            metrics["acc"].update(outputs, targets)
            metrics["ce"].update(ce)
            metrics["ppl"].update(ce)
            return
        targets = targets.reshape(outputs.shape)
        squared = (outputs - targets).pow(2).mean(-1)
        metrics["mse"].update(squared)
        metrics["mae"].update((outputs - targets).abs().mean(-1))
        if self.spec.persistence_baseline:
            naive = batch.inputs[:, : mask.shape[1], : outputs.shape[-1]][mask]
            naive_squared = (naive - targets).pow(2).mean(-1)
            metrics["mse_naive"].update(naive_squared)
            metrics["mae_naive"].update((naive - targets).abs().mean(-1))
            metrics["mse_ratio"].update(squared, naive_squared)


def check_encoder(encoder: Encoder, causal: bool) -> None:
    """Refuse, before training, an encoder that changes the number of steps, or (`causal`)
    whose output at step t depends on later inputs, which here are the targets."""
    generator = torch.Generator().manual_seed(0)
    early = torch.randn(1, 6, encoder.input_size, generator=generator)
    late = early.clone()
    late[:, -1] += 1.0
    lengths = torch.tensor([6])
    was_training = encoder.training
    encoder.eval()
    with torch.no_grad():
        a, b = encoder(early, lengths), encoder(late, lengths)
    encoder.train(was_training)
    if a.lengths.tolist() != [6] or a.outputs.shape[1] != 6:
        raise ValueError(
            "a many_to_many head needs one encoder output per input step, but the encoder turns "
            f"6 steps into {a.lengths.tolist()[0]} (downsampling, e.g. model.pool_sizes or "
            "model.conv_strides > 1)"
        )
    if causal and not torch.allclose(a.outputs[:, :-1], b.outputs[:, :-1], atol=1e-6):
        raise ValueError(
            "this data predicts the next step, but the encoder's outputs depend on later "
            "inputs (e.g. model.bidirectional=true or a convolution over time), which would "
            "read the targets: use a causal encoder"
        )
