"""OmegaConf resolvers that name runs after the Hydra choices (W&B run name, group, tags),
and one that ties a setting to another (`data.cross_fit` to `ensemble.kind`).

They also work where no Hydra run is active (the compose API in tests, eval.py): a group's
choice then reads "unknown" instead of failing the whole config.
"""

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

DIRECTIONS = {"max": "maximize", "min": "minimize"}


def hydra_choice(group: str) -> str:
    """The option chosen for `group` (`model=gru` -> "gru"), or "unknown" outside a Hydra run."""
    if not HydraConfig.initialized():
        return "unknown"
    choice = HydraConfig.get().runtime.choices.get(group)
    return "none" if choice is None else str(choice)


def active_options(node: DictConfig | None) -> str:
    """The options switched on in a group typed once for all options (`regularizer`).

    Hydra records no choice for a list of options (`regularizer=[dropout,l2]`), so the names
    are read from the fields that are set: "dropout+l2", or "none".
    """
    names = [key for key, value in (node or {}).items() if value is not None]
    return "+".join(names) or "none"


def optimization_direction(mode: str) -> str:
    """`task.monitor_mode` (max | min) as Optuna's direction (maximize | minimize)."""
    if mode not in DIRECTIONS:
        raise ValueError(f"task.monitor_mode must be max or min, got {mode!r}")
    return DIRECTIONS[mode]


def equals(left: str, right: str) -> bool:
    """Whether two config values agree (`${seqlab.eq:${ensemble.kind},kfold}`)."""
    return str(left) == str(right)


def register_resolvers() -> None:
    OmegaConf.register_new_resolver("seqlab.choice", hydra_choice, replace=True)
    OmegaConf.register_new_resolver("seqlab.active", active_options, replace=True)
    OmegaConf.register_new_resolver("seqlab.direction", optimization_direction, replace=True)
    OmegaConf.register_new_resolver("seqlab.eq", equals, replace=True)
