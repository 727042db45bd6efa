"""Keep the run's resolved config inside every checkpoint, so eval needs nothing else."""

from typing import Any

import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf

CHECKPOINT_KEY = "seqlab_config"


class ConfigSnapshot(pl.Callback):
    """Writes the resolved training config into each checkpoint under `seqlab_config`."""

    def __init__(self, config: DictConfig) -> None:
        self.config = OmegaConf.to_container(config, resolve=True)

    def on_save_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        checkpoint[CHECKPOINT_KEY] = self.config
