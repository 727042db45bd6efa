"""The one LightningModule: regularization, ensembles, logging and optimization.

It holds one `SequenceModel` (or K of them for `ensemble=bagging|kfold`); everything about
a target's outputs, loss and metrics lives in the heads. Logged names: `<stage>/loss` and
`<stage>/<metric>` for one head, `<stage>/<head>/<metric>` for several; ensembles add
`<stage>/member<k>/...` and `<stage>/members_mean/...` (every member's outputs pooled;
for kfold on the test set only, as each member trained on most validation items).
"""

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
from seqlab.tasks.bagging import bootstrap_weights, member_models
from seqlab.tasks.cross_fit import in_fold_weights, item_folds
from seqlab.tasks.hot_path import FiniteWatch, logs_this_step, unchecked
from seqlab.tasks.model import SequenceModel, build_model, check_augmentable, check_averageable
from seqlab.tasks.regularization import Regularization
from seqlab.tasks.step_seed import seed_batch
from seqlab.tasks.tbptt import check_tbptt, step_schedulers, truncated_training_step

STAGES = ("train", "val", "test")
ENSEMBLES = ("none", "bagging", "kfold")


class SequenceTask(pl.LightningModule):
    """Trains the model(s) built from plain config dicts (so a checkpoint's hyperparameters
    rebuild it): `model` (the encoder), `heads` (name -> head config), `regularizer`, `init`,
    `optimizer` and `scheduler` (partial factories), `ensemble` (none | bagging | kfold).
    `tbptt_steps` > 0: truncated BPTT in chunks of that many steps (`seqlab.tasks.tbptt`),
    clipping each chunk's gradient norm to `tbptt_clip_val` (manual optimization)."""

    def __init__(
        self,
        spec: DataSpec | dict,
        model: dict,
        heads: dict[str, dict],
        regularizer: dict,
        init: dict,
        optimizer: dict,
        scheduler: dict | None = None,
        ensemble: dict | None = None,
        monitor: str = "val/loss",
        monitor_mode: str = "min",
        embedding_dim: int = 64,
        tbptt_steps: int = 0,
        tbptt_clip_val: float = 0.0,
    ) -> None:
        super().__init__()
        spec = spec if isinstance(spec, DataSpec) else DataSpec(**spec)
        self.save_hyperparameters(ignore=["spec"])
        self.hparams["spec"] = asdict(spec)
        self.spec, self.monitor, self.monitor_mode = spec, monitor, monitor_mode
        self.regularization = Regularization(regularizer, tokens=spec.input_is_tokens)
        ensemble = ensemble or {"kind": "none"}
        if ensemble["kind"] not in ENSEMBLES:
            raise ValueError(f"ensemble.kind must be one of {ENSEMBLES}, got {ensemble['kind']!r}")
        self.bagging_seed = ensemble["seed"] if ensemble["kind"] == "bagging" else None
        self.folds = ensemble["members"] if ensemble["kind"] == "kfold" else 0
        self.fold_seed = ensemble["seed"] if self.folds else None
        if ensemble["kind"] == "kfold" and self.folds < 2:
            raise ValueError(f"ensemble=kfold needs ensemble.members >= 2 folds, got {self.folds}")
        members = ensemble["members"] if ensemble["kind"] != "none" else 1
        configs = member_models(model, members, ensemble.get("models") or [])
        self.models = nn.ModuleList()
        for config in configs:
            member = build_model(spec, config, heads, embedding_dim, self.regularization)
            initialize(member, **init)
            self.models.append(member)
        if len(self.models) > 1:
            check_averageable(self.models[0])
        if self.regularization.augment is not None:
            check_augmentable(self.models[0])
        for penalty in self.regularization.penalties:
            penalty.lambdas(self.models[0])  # a per-module prefix that matches nothing fails here
        self.metrics = nn.ModuleDict({f"{s}_metrics": self.stage_metrics(s) for s in STAGES})
        check_tbptt(tbptt_steps, tbptt_clip_val, self.models[0], len(self.models))
        self.tbptt_steps, self.tbptt_clip_val = tbptt_steps, tbptt_clip_val
        self.automatic_optimization = tbptt_steps == 0
        self.stream_state: tuple[Tensor, ...] | None = None  # carried across stream batches
        self.finite = FiniteWatch()
        self.run_seed = torch.initial_seed()  # pl.seed_everything's: the same when a run resumes

    @property
    def model(self) -> SequenceModel:
        """The model (an ensemble's first member)."""
        return self.models[0]

    @property
    def head_names(self) -> list[str]:
        return list(self.model.heads)

    def stage_metrics(self, stage: str) -> nn.ModuleDict:
        """who (model | ensemble, member<k>, members_mean) -> head -> metric name -> metric."""
        who = ["model"] if len(self.models) == 1 else ["ensemble", "members_mean"]
        if len(self.models) > 1 and stage != "train":
            who += [f"member{k}" for k in range(len(self.models))]
        if len(self.models) > 1 and stage == "train":
            who = []
        train = stage == "train"
        return nn.ModuleDict(
            {
                name: nn.ModuleDict(
                    {
                        h: nn.ModuleDict(unchecked(head.metrics()) if train else head.metrics())
                        for h, head in self.model.heads.items()
                    }
                )
                for name in who
            }
        )

    def gradient_probe(self) -> SequenceModel:
        """What the gradient-flow callback differentiates (holds no trainer)."""
        return self.model

    def forward(self, batch: Batch) -> dict[str, Tensor]:
        """Every head's outputs; an ensemble's are combined by each head."""
        outputs = [model(batch) for model in self.models]
        if len(outputs) == 1:
            return outputs[0]
        return {n: h.combine([o[n] for o in outputs]) for n, h in self.model.heads.items()}

    def on_train_batch_start(self, batch: Batch, batch_idx: int) -> None:
        seed_batch(self.run_seed, self.global_rank, self.trainer.fit_loop.total_batch_idx)

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        if self.tbptt_steps:
            return truncated_training_step(self, batch, batch_idx)
        batch = self.regularization.augmented(batch)
        reg = self.regularization
        logs = logs_this_step(self._trainer)
        data_loss = torch.zeros((), device=self.device)
        folds = item_folds(self.fold_seed, batch.indices, self.folds) if self.folds else None
        for number, model in enumerate(self.models):
            encoded = model.encode(batch)
            weights = None
            if self.bagging_seed is not None:
                weights = bootstrap_weights(self.bagging_seed, batch.indices, number)
            if folds is not None:
                weights = in_fold_weights(folds, number)
            outputs = self.head_outputs(model, encoded, batch, "train")
            losses = self.head_losses(model, outputs, batch, reg.smoothing, weights)
            member_loss = self.total(model, losses)
            if logs and len(self.models) > 1:
                self.log(f"train/member{number}/loss", member_loss, batch_size=len(batch))
            elif logs:
                self.log_head_losses("train", losses, len(batch))
            if logs and len(self.models) == 1:  # the logged batch's own metrics: exact on resume
                self.update_metrics("train", "model", model, outputs, encoded, batch)
                self.log_metrics("train")
            data_loss = data_loss + member_loss
        penalty = sum((reg.penalty(m) for m in self.models), data_loss.new_zeros(()))
        loss = data_loss + penalty
        self.finite.record(
            loss, data_loss, penalty, (self.current_epoch, self.global_step, batch_idx)
        )
        if logs:
            self.finite.check()
            self.log_training_loss(loss, data_loss, penalty, len(batch))
        return loss

    def evaluate(self, batch: Batch, stage: str) -> Tensor:
        """Loss (plain: no label smoothing) and metrics of the model or the ensemble."""
        if self.folds and stage == "val":
            outputs, encoded, who = self.out_of_fold(batch), None, "ensemble"
        else:
            outputs, encoded, who = self.all_members(batch, stage)
        losses = self.head_losses(self.model, outputs, batch)
        self.log_head_losses(stage, losses, len(batch))
        total = self.total(self.model, losses)
        self.log(f"{stage}/loss", total, batch_size=len(batch), sync_dist=True)
        self.update_metrics(stage, who, self.model, outputs, encoded, batch)
        return total

    def all_members(self, batch: Batch, stage: str) -> tuple[dict[str, Tensor], EncoderOutput, str]:
        """(outputs, first encoding, metric owner) of the model, or of the ensemble's average
        with each member's own metrics updated on the way."""
        encodings = [model.encode(batch) for model in self.models]
        members = [
            self.head_outputs(model, encoded, batch, stage)
            for model, encoded in zip(self.models, encodings, strict=True)
        ]
        if len(self.models) == 1:
            return members[0], encodings[0], "model"
        for number, member in enumerate(members):
            for name in (f"member{number}", "members_mean"):
                model, encoded = self.models[number], encodings[number]
                self.update_metrics(stage, name, model, member, encoded, batch)
        return self.combined(members), encodings[0], "ensemble"

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self.evaluate(batch, "val")

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        self.evaluate(batch, "test")

    def out_of_fold(self, batch: Batch) -> dict[str, Tensor]:
        """Each validation item's outputs from the kfold member that did not train on it: a
        member runs on its own fold's items only, one K-th of the batch."""
        folds = item_folds(self.fold_seed, batch.indices, self.folds)
        outputs: dict[str, Tensor] = {}
        for number, model in enumerate(self.models):
            rows = (folds == number).nonzero().squeeze(1)
            if len(rows) == 0:
                continue
            part = batch.rows(rows)
            for name, output in self.head_outputs(model, model.encode(part), part, "val").items():
                if name not in outputs:
                    outputs[name] = output.new_zeros((len(batch), *output.shape[1:]))
                outputs[name][rows] = output
        return outputs

    def combined(self, members: list[dict[str, Tensor]]) -> dict[str, Tensor]:
        return {n: h.combine([m[n] for m in members]) for n, h in self.model.heads.items()}

    def head_outputs(
        self, model: SequenceModel, encoded: EncoderOutput, batch: Batch, stage: str
    ) -> dict[str, Tensor]:
        return {n: h(encoded, model.view(batch, n), stage) for n, h in model.heads.items()}

    def head_losses(
        self,
        model: SequenceModel,
        outputs: dict[str, Tensor],
        batch: Batch,
        smoothing: float = 0.0,
        weights: Tensor | None = None,
    ) -> dict[str, Tensor]:
        return {
            n: h.loss(outputs[n], model.view(batch, n), smoothing, weights)
            for n, h in model.heads.items()
        }

    @staticmethod
    def total(model: SequenceModel, losses: dict[str, Tensor]) -> Tensor:
        """Weighted sum of the head losses; every head enters (weight 0 too), so every
        parameter gets a gradient and DDP needs no `find_unused_parameters`."""
        return sum(model.heads[name].weight * loss for name, loss in losses.items())

    def update_metrics(
        self,
        stage: str,
        who: str,
        model: SequenceModel,
        outputs: dict[str, Tensor],
        encoded: EncoderOutput | None,
        batch: Batch,
    ) -> None:
        """`encoded` is None for kfold's out-of-fold outputs, which no one encoding covers;
        the heads that read it (seq2seq, CTC) are never ensembled."""
        for name, head in model.heads.items():
            view = model.view(batch, name)
            references = self.references(stage, name, view) if head.needs_references else None
            metrics = self.metrics[f"{stage}_metrics"][who][name]
            head.update(metrics, outputs[name], encoded, view, stage, references)

    def references(self, stage: str, head: str, batch: Batch) -> list | None:
        """Every acceptable target of each item, when the stage's dataset lists them."""
        if self._trainer is None or stage == "train":
            return None
        loader = self.trainer.val_dataloaders if stage == "val" else self.trainer.test_dataloaders
        references = getattr(getattr(loader, "dataset", None), "references", None)
        if isinstance(references, dict):  # named targets: one list per target
            references = references.get(head)
        if references is None:
            return None
        return [references[i] for i in batch.indices.tolist()]

    def log_head_losses(self, stage: str, losses: dict[str, Tensor], size: int) -> None:
        if len(losses) > 1:
            for name, loss in losses.items():
                self.log(f"{stage}/{name}/loss", loss, batch_size=size, sync_dist=stage != "train")

    def log_training_loss(self, loss: Tensor, data_loss: Tensor, penalty: Tensor, size: int):
        """Log the minimised loss (in the progress bar); with a penalty also its two parts."""
        self.log("train/loss", loss, prog_bar=True, batch_size=size)
        if self.regularization.penalties:
            self.log("train/data_loss", data_loss, batch_size=size)
            self.log("train/penalty", penalty, batch_size=size)

    def log_metrics(self, stage: str) -> None:
        """Compute, log and reset the stage's metrics: validation and test once per epoch,
        training on each logging step (over that step's batch)."""
        several = len(self.head_names) > 1
        for who, heads in self.metrics[f"{stage}_metrics"].items():
            for head, metrics in heads.items():
                for metric_name, metric in metrics.items():
                    if not metric.update_called:
                        continue
                    parts = [stage] + ([] if who in ("model", "ensemble") else [who])
                    parts += [head] if several else []
                    name = "/".join([*parts, metric_name])
                    # compute() has already gathered every rank; sync_dist only tells
                    # Lightning so (a mean of equal values), which silences its DDP warning
                    value = metric.compute()
                    self.log(name, value, prog_bar=stage != "train", sync_dist=stage != "train")
                    metric.reset()

    def on_train_epoch_end(self) -> None:
        self.finite.check()
        if self.tbptt_steps:
            step_schedulers(self, "epoch")

    def on_fit_start(self) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        if self.folds and not getattr(datamodule, "cross_fit", False):
            raise ValueError(
                "ensemble=kfold scores each training item out of fold, so validation must run "
                "over the training items: set data.cross_fit=true (conf/train.yaml sets it "
                "from ensemble.kind)"
            )

    def on_validation_start(self) -> None:
        self.finite.check()  # validation ends in checkpoints: never of weights gone NaN

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.finite.check()  # whatever saves (every N steps, pre-emption): the last good state

    def on_validation_epoch_end(self) -> None:
        self.log_metrics("val")

    def on_test_epoch_end(self) -> None:
        self.log_metrics("test")

    def configure_optimizers(self) -> Any:
        """The optimizer (and schedule) from the partial factories of the config."""
        optimizer = instantiate(self.hparams.optimizer)(self.parameters())
        if not (self.hparams.scheduler or {}).get("_target_"):  # scheduler=none
            return optimizer
        schedule = instantiate(self.hparams.scheduler)(optimizer, self)
        return {"optimizer": optimizer, "lr_scheduler": schedule}
