"""A training budget that fits the data: at least `min_steps` optimizer steps."""

import math

import pytorch_lightning as pl
from pytorch_lightning.utilities import rank_zero_info


class StepBudget(pl.Callback):
    """Raise the epoch cap so a tiny training set still gets `min_steps` optimizer steps.

    An epoch budget (`trainer.max_epochs`) gives 50 training series 200 steps and 5,000
    series 20,000: the small set stops before it has learnt anything. This callback runs in
    `setup`, before `configure_optimizers`, so per-step schedules (warmup_cosine, one_cycle)
    see the raised budget. Early stopping cannot end the run before `min_steps`
    (Lightning's own `min_steps`). An explicit `trainer.max_steps` is left as it is.
    """

    def __init__(self, min_steps: int = 2000) -> None:
        if min_steps < 0:
            raise ValueError(f"callbacks.step_budget.min_steps must be >= 0, got {min_steps}")
        self.min_steps = min_steps

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if stage != "fit" or trainer.max_steps != -1 or trainer.max_epochs in (None, -1):
            return
        per_epoch = steps_per_epoch(trainer)
        if per_epoch is None:
            return
        epochs = math.ceil(self.min_steps / per_epoch)
        trainer.fit_loop.epoch_loop.min_steps = self.min_steps
        if epochs > trainer.max_epochs:
            rank_zero_info(
                f"StepBudget: {per_epoch} optimizer steps per epoch; max_epochs "
                f"{trainer.max_epochs} -> {epochs} to reach min_steps={self.min_steps}"
            )
            trainer.fit_loop.max_epochs = epochs


def steps_per_epoch(trainer: pl.Trainer) -> int | None:
    """Optimizer steps of one training epoch, counted from a fresh sampler so the real
    training loader (and a resumed sampler position) is left untouched; None when the data
    is not a seqlab DataModule."""
    datamodule = trainer.datamodule
    if datamodule is None or not hasattr(datamodule, "sampler"):
        return None
    batches = len(datamodule.sampler(datamodule.splits.train, datamodule.batching, "budget"))
    limit = trainer.limit_train_batches
    batches = min(batches, limit) if isinstance(limit, int) else int(batches * limit)
    return max(1, math.ceil(batches / trainer.accumulate_grad_batches))
