"""`python train.py ...`: compose and check the config first, import torch and Lightning after.

Hydra composes the config (refusing a typo or a wrong type, with the key named) inside
`hydra.main` before it calls the task function. With the schemas read from their cache and
the heavy modules imported only by the task function, a bad override or `--help` answers
without the seconds that importing Lightning takes.
"""

import hydra
from omegaconf import DictConfig

from seqlab.config import CONFIG_DIR, register_schemas

register_schemas()


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="train")
def train(cfg: DictConfig) -> float | None:
    """Train the composed config; returns the monitored metric (for sweeps)."""
    from seqlab.train import main

    return main(cfg)
