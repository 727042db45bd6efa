"""`python train.py|eval.py|predict.py|export.py ...`: compose and check the config first,
import torch and Lightning after.

Hydra composes the config (refusing a typo or a wrong type, with the key named) inside
`hydra.main` before it calls the task function. With the schemas read from their cache and
the heavy modules imported only by the task function, a bad override or `--help` answers
without the seconds that importing Lightning takes. Each root script is `run("<name>")`:
conf/<name>.yaml is its config and `seqlab.<name>.main(cfg)` its work.
"""

import sys
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any

import hydra
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

from seqlab.config import CONFIG_DIR, register_schemas

register_schemas()


def run(name: str) -> None:
    """The whole body of `python <name>.py`: `--help`/`-h`, else Hydra's main."""
    if {"--help", "-h"} & set(sys.argv[1:]):
        print_help(name, [a for a in sys.argv[1:] if not a.startswith("-")])
    else:
        hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name=name)(work(name))()


def work(name: str) -> Callable[[DictConfig], Any]:
    """The task function: imports `seqlab.<name>` (torch, Lightning) only once the config is
    composed; its return value is what a sweep optimises (train)."""

    def task(cfg: DictConfig) -> Any:
        return import_module(f"seqlab.{name}").main(cfg)

    return task


def print_help(name: str, overrides: list[str]) -> None:
    """`python <name>.py --help`: the config groups this entry point uses and the composed
    config, as Hydra's help shows them. Hydra's own help lists the groups by copying its whole
    config store once per group (~170 deep copies of every schema: 8-20 s here); the choices
    of one composition are instant."""
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(name, overrides, return_hydra_config=True)
    used = {choice.split("@")[0].split("/")[0] for choice in cfg.hydra.runtime.choices}
    groups = [
        f"{group}: {', '.join(sorted(f.stem for f in (Path(CONFIG_DIR) / group).glob('*.yaml')))}"
        for group in sorted(used - {"hydra"})
        if (Path(CONFIG_DIR) / group).is_dir()  # not the schemas the options build on
    ]
    cfg = OmegaConf.masked_copy(cfg, [key for key in cfg if key != "hydra"])
    print(f"python {name}.py [group=option ...] [key=value ...]  (--hydra-help: Hydra's flags)")
    print("\n== Config groups (group=option) ==\n" + "\n".join(groups))
    print("\n== Config ==\n" + OmegaConf.to_yaml(cfg))
