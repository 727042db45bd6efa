"""Online bagging: K members of a task trained side by side, each on its own bootstrap.

Each member sees every batch, but example i counts w(seed, i, k) ~ Poisson(1) times in
member k's loss (Oza & Russell's online bagging). The weight is a hash of (seed, dataset
index, member), not a random draw: the bootstrap is the same in every epoch, on every DDP
rank, and after resuming. At evaluation the members' class probabilities are averaged.
"""

import hashlib
import math
from dataclasses import asdict
from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from hydra.utils import get_class, instantiate
from torch import Tensor, nn
from torchmetrics.classification import MulticlassAccuracy

from seqlab.data.batch import Batch
from seqlab.data.spec import DataSpec
from seqlab.tasks.base import SequenceTask, build_optimizer, log_training_loss


def bootstrap_weight(seed: int, index: int, member: int) -> int:
    """Poisson(1) draw by inverting its CDF at a uniform hashed from (seed, index, member)."""
    digest = hashlib.blake2b(f"{seed}:{index}:{member}".encode(), digest_size=8).digest()
    uniform = (int.from_bytes(digest, "big") + 0.5) / 2.0**64
    count, probability = 0, math.exp(-1.0)
    cumulative = probability
    while uniform > cumulative:
        count += 1
        probability /= count
        cumulative += probability
    return count


def bootstrap_weights(seed: int, indices: Tensor, member: int) -> Tensor:
    """[B] float weights of member `member` for the dataset items `indices`."""
    counts = [bootstrap_weight(seed, i, member) for i in indices.tolist()]
    return torch.tensor(counts, dtype=torch.float32, device=indices.device)


def member_models(model: dict, members: int, models: list[dict]) -> list[dict]:
    """One model config per member: `model` K times, or `model` with each entry's overrides.

    An entry holding `_target_` is a complete model config of its own (another encoder).
    """
    if members < 1:
        raise ValueError(f"ensemble.members must be >= 1, got {members}")
    if not models:
        return [dict(model) for _ in range(members)]
    if members != len(models):
        raise ValueError(
            f"ensemble.members={members} but ensemble.models lists {len(models)} models; "
            f"set ensemble.members={len(models)}"
        )
    configs = []
    for number, entry in enumerate(models):
        if "_target_" in entry:
            configs.append(dict(entry))
            continue
        unknown = sorted(set(entry) - set(model))
        if unknown:
            raise ValueError(
                f"ensemble.models[{number}] sets {unknown}, which model "
                f"{model.get('_target_')} does not have (keys: {sorted(model)})"
            )
        configs.append({**model, **entry})
    return configs


class BaggingTask(pl.LightningModule):
    """K members of one task type; the ensemble predicts their mean class probabilities.

    Members must implement `example_losses` and `predict` (many_to_one does) and classify.
    Logged per stage: `<stage>/acc` and `<stage>/loss` of the ensemble (NLL of the mean
    probabilities), `<stage>/member<k>/acc` of each member and `<stage>/members_mean/acc`,
    the average member accuracy. Gradients are clipped member by member.
    """

    def __init__(
        self,
        spec: DataSpec | dict,
        task: dict,
        model: dict,
        regularizer: dict,
        init: dict,
        members: int = 5,
        models: list[dict] | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        spec = spec if isinstance(spec, DataSpec) else DataSpec(**spec)
        self.save_hyperparameters(ignore=["spec"])
        self.hparams["spec"] = asdict(spec)
        task_class = get_class(task["_target_"])
        for method in ("example_losses", "predict"):
            if getattr(task_class, method) is getattr(SequenceTask, method):
                raise ValueError(
                    f"ensemble=bagging needs task {task['_target_']} to implement {method}() "
                    "(task=many_to_one does)"
                )
        if spec.num_classes < 2:
            raise ValueError(
                "ensemble=bagging averages class probabilities; this data has "
                f"num_classes={spec.num_classes} (regression is not supported yet)"
            )
        parts = {"spec": spec, "regularizer": regularizer, "init": init}
        self.members = nn.ModuleList(
            instantiate(task, model=config, **parts, _recursive_=False, _convert_="all")
            for config in member_models(model, members, models or [])
        )
        self.seed = seed
        self.optim, self.monitor = task["optim"], task.get("monitor", "val/loss")
        self.monitor_mode = task.get("monitor_mode", "min")
        self.accuracy = nn.ModuleDict(
            {
                f"{stage}_{who}": MulticlassAccuracy(spec.num_classes, average="micro")
                for stage in ("val", "test")
                for who in ["ensemble", "members_mean", *map(str, range(len(self.members)))]
            }
        )

    @property
    def augment(self) -> nn.Module | None:
        """The batch augmentation every member would apply (one shared draw per batch)."""
        return self.members[0].augment

    def predict(self, batch: Batch) -> Tensor:
        """Mean of the members' class probabilities [B, C]."""
        return self.member_predictions(batch).mean(dim=0)

    def member_predictions(self, batch: Batch) -> Tensor:
        """[K, B, C] class probabilities of every member."""
        return torch.stack([member.predict(batch) for member in self.members])

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        if self.augment is not None:
            batch = self.augment(batch)
        data_loss, penalty = 0.0, 0.0
        for number, member in enumerate(self.members):
            weights = bootstrap_weights(self.seed, batch.indices, number)
            member_loss = (weights * member.example_losses(batch)).sum() / len(batch)
            self.log(f"train/member{number}/loss", member_loss, batch_size=len(batch))
            data_loss = data_loss + member_loss
            penalty = penalty + member.penalty()
        penalized = any(len(member.penalties) for member in self.members)
        return log_training_loss(self, data_loss, penalty, batch, batch_idx, penalized)

    def evaluate(self, batch: Batch, stage: str) -> None:
        predictions = self.member_predictions(batch)
        ensemble = predictions.mean(dim=0)
        size = len(batch)
        for number, prediction in enumerate(predictions):
            self.accuracy[f"{stage}_{number}"](prediction, batch.targets)
            self.accuracy[f"{stage}_members_mean"](prediction, batch.targets)
            self.log(
                f"{stage}/member{number}/acc", self.accuracy[f"{stage}_{number}"], batch_size=size
            )
        self.log(
            f"{stage}/members_mean/acc", self.accuracy[f"{stage}_members_mean"], batch_size=size
        )
        self.accuracy[f"{stage}_ensemble"](ensemble, batch.targets)
        self.log(f"{stage}/acc", self.accuracy[f"{stage}_ensemble"], prog_bar=True, batch_size=size)
        loss = F.nll_loss(ensemble.clamp_min(1e-12).log(), batch.targets)
        self.log(f"{stage}/loss", loss, batch_size=size, sync_dist=True)

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self.evaluate(batch, "val")

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        self.evaluate(batch, "test")

    def configure_gradient_clipping(
        self,
        optimizer: torch.optim.Optimizer,
        gradient_clip_val: float | None = None,
        gradient_clip_algorithm: str | None = None,
    ) -> None:
        """Clip each member's gradients on its own, as if it were trained alone."""
        if not gradient_clip_val:
            return
        for member in self.members:
            if gradient_clip_algorithm == "value":
                nn.utils.clip_grad_value_(member.parameters(), gradient_clip_val)
            else:
                nn.utils.clip_grad_norm_(member.parameters(), gradient_clip_val)

    def gradient_probe(self) -> nn.Module:
        """The first member's probe: the gradient-flow callback measures one member."""
        return self.members[0].gradient_probe()

    def configure_optimizers(self) -> Any:
        """One optimizer over all members: Adam/SGD act per parameter, so this equals K
        independent optimizers (a plateau scheduler follows the ensemble's metric)."""
        return build_optimizer(self.parameters(), self.optim, self.monitor, self.monitor_mode)
