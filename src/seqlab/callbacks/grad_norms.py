"""Gradient 2-norms per layer and in total: the first sign of vanishing or exploding gradients.

Computed only on logged optimizer steps, in `on_before_optimizer_step`, which Lightning calls
after mixed-precision unscaling and before gradient clipping; when clipping is on, the norm
after clipping is measured on the same step once the optimizer has stepped.
"""

import re
from collections import defaultdict

import pytorch_lightning as pl
import torch
from torch import nn

RECURRENT_PARAMETER = re.compile(
    r"^(?P<module>.+)\.[a-z_]+?_l(?P<layer>\d+)(?P<reverse>_reverse)?$"
)


def layer_name(parameter_name: str) -> str:
    """The layer a parameter belongs to: its module, split by recurrent layer and direction.

    `encoder.rnn.weight_hh_l1_reverse` -> `encoder.rnn.l1_reverse`;
    `heads.main.out.bias` -> `heads.main.out`.
    """
    match = RECURRENT_PARAMETER.match(parameter_name)
    if match:
        return f"{match['module']}.l{match['layer']}{match['reverse'] or ''}"
    return parameter_name.rpartition(".")[0] or parameter_name


def measured(pl_module: pl.LightningModule) -> nn.Module:
    """The one model of a task (names without the `models.0.` prefix), or the whole
    ensemble (`models.<k>.` tells the members apart)."""
    models = getattr(pl_module, "models", None)
    return models[0] if models is not None and len(models) == 1 else pl_module


def gradient_norms(module: nn.Module) -> dict[str, float]:
    """2-norm of the gradients of each layer and of all of them (`total`)."""
    squares: dict[str, list[torch.Tensor]] = defaultdict(list)
    for name, parameter in module.named_parameters():
        if parameter.grad is not None:
            squares[layer_name(name)].append(parameter.grad.detach().float().pow(2).sum())
    if not squares:
        return {}
    names = list(squares)
    per_layer = torch.stack([torch.stack(squares[n]).sum() for n in names])
    values = torch.cat([per_layer, per_layer.sum().reshape(1)]).sqrt().tolist()
    return dict(zip([*names, "total"], values, strict=True))


class GradNorms(pl.Callback):
    """Logs `grad_norm/<layer>`, `grad_norm/total` (and `grad_norm/total_clipped`).

    Every `log_every_n_steps` optimizer steps (step 0 included), on rank zero only: under DDP
    the gradients are already all-reduced, so rank zero's norms are the global ones.
    """

    def __init__(self, log_every_n_steps: int = 50) -> None:
        if log_every_n_steps <= 0:
            raise ValueError(
                f"callbacks.grad_norms.log_every_n_steps must be > 0, got {log_every_n_steps}"
            )
        self.log_every_n_steps = log_every_n_steps
        self._clipped_step: int | None = None

    def _due(self, trainer: pl.Trainer) -> bool:
        return trainer.is_global_zero and trainer.global_step % self.log_every_n_steps == 0

    def on_before_optimizer_step(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, optimizer: torch.optim.Optimizer
    ) -> None:
        if not self._due(trainer):
            return
        norms = gradient_norms(measured(pl_module))
        log(trainer, {f"grad_norm/{name}": value for name, value in norms.items()})
        if trainer.gradient_clip_val:
            self._clipped_step = trainer.global_step

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args) -> None:
        if self._clipped_step is None:
            return
        total = gradient_norms(measured(pl_module)).get("total")
        if total is not None:
            log(trainer, {"grad_norm/total_clipped": total}, step=self._clipped_step)
        self._clipped_step = None


def log(trainer: pl.Trainer, metrics: dict[str, float], step: int | None = None) -> None:
    """Send metrics straight to every logger at the optimizer step they describe."""
    for logger in trainer.loggers:
        logger.log_metrics(metrics, step=trainer.global_step if step is None else step)
