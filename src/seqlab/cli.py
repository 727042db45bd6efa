"""`python train.py ...`: compose and check the config first, import torch and Lightning after.

Hydra composes the config (refusing a typo or a wrong type, with the key named) inside
`hydra.main` before it calls the task function. With the schemas read from their cache and
the heavy modules imported only by the task function, a bad override or `--help` answers
without the seconds that importing Lightning takes.
"""

from pathlib import Path

import hydra
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

from seqlab.config import CONFIG_DIR, register_schemas

register_schemas()


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="train")
def train(cfg: DictConfig) -> float | None:
    """Train the composed config; returns the monitored metric (for sweeps)."""
    from seqlab.train import main

    return main(cfg)


def print_help(overrides: list[str]) -> None:
    """`python train.py --help`: the config groups and the composed config, as Hydra's help
    shows them. Hydra's own help lists the groups by copying its whole config store once per
    group (~170 deep copies of every schema: 8-20 s here); listing conf/ is instant."""
    groups = []
    for folder in sorted(p for p in Path(CONFIG_DIR).rglob("*") if p.is_dir()):
        options = sorted(f.stem for f in folder.glob("*.yaml"))
        group = folder.relative_to(CONFIG_DIR).as_posix()
        if options and not group.startswith("hydra"):
            groups.append(f"{group}: {', '.join(options)}")
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("train", overrides)
    print("python train.py [group=option ...] [key=value ...]  (--hydra-help: Hydra's flags)")
    print("\n== Config groups (group=option) ==\n" + "\n".join(groups))
    print("\n== Config ==\n" + OmegaConf.to_yaml(cfg))
