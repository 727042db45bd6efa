"""One prediction per time step: a head on every encoder output, loss at each real step."""

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy

from seqlab.data.batch import Batch
from seqlab.models.base import Encoder, EncoderOutput
from seqlab.tasks.base import SequenceTask
from seqlab.tasks.step_metrics import Perplexity, RatioOfSums

REDUCTIONS = ("mean", "sum")
STAGES = ("train", "val", "test")


class ManyToManyTask(SequenceTask):
    """Per-step classification (cross-entropy) or regression (MSE) on the real steps only.

    `reduction` combines the per-step losses of a batch:
    - `mean`: their sum over all real steps of the batch / the number of real steps, so
      every real step weighs the same whatever the length of its sequence;
    - `sum`: each sequence's sum over its real steps, averaged over the sequences of the
      batch, so longer sequences weigh more (the classic "sum over time" RNN loss).
    Padded steps are dropped before any loss or metric is computed.
    """

    def __init__(self, *args, reduction: str = "mean", **kwargs) -> None:
        if reduction not in REDUCTIONS:
            raise ValueError(f"task.reduction must be one of {REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction
        super().__init__(*args, **kwargs)

    @property
    def classifies(self) -> bool:
        return self.spec.num_classes >= 2

    def build_heads(self, encoder_size: int) -> None:
        _check_encoder(self.encoder, causal=self.spec.next_step)
        width = self.spec.num_classes if self.classifies else self.spec.target_size
        self.head = nn.Linear(encoder_size, width)
        metrics = {}
        for stage in STAGES:
            if self.classifies:
                metrics[f"{stage}_acc"] = MulticlassAccuracy(self.spec.num_classes, average="micro")
                metrics[f"{stage}_ce"] = MeanMetric()
                metrics[f"{stage}_ppl"] = Perplexity()
                continue
            metrics[f"{stage}_mse"] = MeanMetric()
            metrics[f"{stage}_mae"] = MeanMetric()
            if self.spec.persistence_baseline:
                metrics[f"{stage}_mse_naive"] = MeanMetric()
                metrics[f"{stage}_mae_naive"] = MeanMetric()
                metrics[f"{stage}_mse_ratio"] = RatioOfSums()
        self.metrics = nn.ModuleDict(metrics)

    def forward(self, batch: Batch) -> Tensor:
        """Per-step outputs [B, T, C] (class logits) or [B, T, target_size] (regression)."""
        return self.outputs(self.encode(batch), batch)

    def outputs(self, encoded: EncoderOutput, batch: Batch) -> Tensor:
        """`forward` on an encoding computed already."""
        if batch.target_lengths is None:
            raise ValueError(
                "task=many_to_many needs one target per step, but the data gives one target "
                "per sequence (use task=many_to_one)"
            )
        if not torch.equal(encoded.lengths.cpu(), batch.target_lengths):
            raise ValueError(
                "task=many_to_many needs one encoder output per target step, but the encoder "
                f"returned lengths {encoded.lengths.tolist()} for target lengths "
                f"{batch.target_lengths.tolist()}"
            )
        return self.head(encoded.outputs[:, : batch.targets.shape[1]])

    def head_step(self, encoded: EncoderOutput, batch: Batch, stage: str) -> Tensor:
        mask = batch.target_mask
        outputs = self.outputs(encoded, batch)[mask]  # [N real steps, C or S]
        targets = batch.targets[mask]
        if self.classifies:
            per_step = F.cross_entropy(
                outputs, targets, label_smoothing=self.label_smoothing, reduction="none"
            )
            self._log_classification(stage, outputs, targets, per_step, len(batch))
        else:
            targets = targets.reshape(outputs.shape)
            per_step = (outputs - targets).pow(2).mean(-1)
            naive = None
            if self.spec.persistence_baseline:
                naive = batch.inputs[:, : mask.shape[1], : outputs.shape[-1]][mask]
            self._log_regression(stage, outputs, targets, naive, len(batch))
        return self.combine(per_step, len(batch))

    def combine(self, per_step: Tensor, num_sequences: int) -> Tensor:
        """Batch loss from the losses of its real steps (see the class docstring)."""
        total = per_step.sum()
        return total / per_step.numel() if self.reduction == "mean" else total / num_sequences

    def _log_classification(
        self, stage: str, logits: Tensor, targets: Tensor, per_step: Tensor, size: int
    ) -> None:
        ce = per_step
        if self.label_smoothing:
            ce = F.cross_entropy(logits, targets, reduction="none")
        values = {"acc": (logits, targets), "ce": (ce.detach(),), "ppl": (ce.detach(),)}
        for name, args in values.items():
            self._update_and_log(stage, name, size, *args)

    def _log_regression(
        self, stage: str, outputs: Tensor, targets: Tensor, naive: Tensor | None, size: int
    ) -> None:
        squared = (outputs.detach() - targets).pow(2).mean(-1)
        self._update_and_log(stage, "mse", size, squared)
        self._update_and_log(stage, "mae", size, (outputs.detach() - targets).abs().mean(-1))
        if naive is None:
            return
        naive_squared = (naive - targets).pow(2).mean(-1)
        self._update_and_log(stage, "mse_naive", size, naive_squared)
        self._update_and_log(stage, "mae_naive", size, (naive - targets).abs().mean(-1))
        self._update_and_log(stage, "mse_ratio", size, squared, naive_squared)

    def _update_and_log(self, stage: str, name: str, size: int, *args: Tensor) -> None:
        metric = self.metrics[f"{stage}_{name}"]
        metric.update(*args)
        self.log(f"{stage}/{name}", metric, on_step=False, on_epoch=True, batch_size=size)


def _check_encoder(encoder: Encoder, causal: bool) -> None:
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
            "task=many_to_many needs one encoder output per input step, but the encoder turns "
            f"6 steps into {a.lengths.tolist()[0]} (downsampling, e.g. model.pool_sizes or "
            "model.conv_strides > 1)"
        )
    if causal and not torch.allclose(a.outputs[:, :-1], b.outputs[:, :-1], atol=1e-6):
        raise ValueError(
            "this data predicts the next step, but the encoder's outputs depend on later "
            "inputs (e.g. model.bidirectional=true or a convolution over time), which would "
            "read the targets: use a causal encoder"
        )
