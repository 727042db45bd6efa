"""What every task shares: building the encoder, regularisation, optimisation, logging."""

from dataclasses import asdict
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from torch import Tensor, nn

from seqlab.data.batch import Batch
from seqlab.data.spec import DataSpec
from seqlab.init import initialize
from seqlab.models.base import EncoderOutput
from seqlab.regularization.dropout import SequenceDropout

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}


class SequenceTask(pl.LightningModule):
    """Base LightningModule: subclasses build their heads and implement `step`.

    Every part comes as a plain dict (the Hydra group it was chosen from), so a checkpoint's
    hyperparameters are plain data and enough to rebuild the module.
    """

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
        self.save_hyperparameters(ignore=["spec"])
        self.hparams["spec"] = asdict(spec)
        self.spec = spec
        self.regularizer = regularizer
        dropout = self.regularizer.get("dropout") or {}
        p = dropout.get("p", 0.0)
        variational = dropout.get("variational", False)
        self.input_dropout = SequenceDropout(p if dropout.get("inputs") else 0.0, variational)
        self.head_dropout = SequenceDropout(p if dropout.get("head") else 0.0, variational)
        layer_dropout = p if dropout.get("layers") else 0.0
        self.embedding = (
            nn.Embedding(spec.input_size, embedding_dim, padding_idx=0)
            if spec.input_is_tokens
            else None
        )
        encoder_input = embedding_dim if spec.input_is_tokens else spec.input_size
        self.encoder = instantiate(model, input_size=encoder_input, dropout=layer_dropout)
        self.build_heads(self.encoder.output_size)
        self.optim = optim
        self.monitor, self.monitor_mode = monitor, monitor_mode
        initialize(self, **init)

    def build_heads(self, encoder_size: int) -> None:
        """Create the task's output layers on top of an encoder of width `encoder_size`."""
        raise NotImplementedError

    def step(self, batch: Batch, stage: str) -> Tensor:
        """Return the data loss of `batch` and update the stage's metrics."""
        raise NotImplementedError

    @property
    def label_smoothing(self) -> float:
        """Epsilon for every classification loss (0 unless `regularizer=label_smoothing`)."""
        return (self.regularizer.get("label_smoothing") or {}).get("epsilon", 0.0)

    def encode(self, batch: Batch) -> EncoderOutput:
        """Embedding (token inputs) -> input dropout -> encoder -> dropout before the heads."""
        self.check_inputs(batch)
        inputs = batch.inputs if self.embedding is None else self.embedding(batch.inputs)
        encoded = self.encoder(self.input_dropout(inputs), batch.lengths)
        return encoded._replace(
            outputs=self.head_dropout(encoded.outputs), final=self.head_dropout(encoded.final)
        )

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
        loss = self.step(batch, "train")
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"training loss is {loss.item()} at epoch {self.current_epoch}, "
                f"step {self.global_step}, batch {batch_idx}"
            )
        self.log("train/loss", loss, prog_bar=True, batch_size=len(batch))
        return loss

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self.log("val/loss", self.step(batch, "val"), batch_size=len(batch), sync_dist=True)

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        self.log("test/loss", self.step(batch, "test"), batch_size=len(batch), sync_dist=True)

    def configure_optimizers(self) -> Any:
        name = self.optim["name"]
        if name not in OPTIMIZERS:
            raise ValueError(f"task.optim.name must be one of {sorted(OPTIMIZERS)}, got {name!r}")
        optimizer = OPTIMIZERS[name](
            self.parameters(), lr=self.optim["lr"], weight_decay=self.optim["weight_decay"]
        )
        if self.optim["scheduler"] == "none":
            return optimizer
        if self.optim["scheduler"] != "plateau":
            raise ValueError(
                f"task.optim.scheduler must be none or plateau, got {self.optim['scheduler']!r}"
            )
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode=self.monitor_mode, factor=0.5, patience=self.optim["patience"]
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "monitor": self.monitor},
        }
