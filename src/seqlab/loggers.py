"""Experiment loggers that work with no network and no account."""

import netrc
import os
from urllib.parse import urlparse

from pytorch_lightning.loggers import WandbLogger
from pytorch_lightning.utilities import rank_zero_info


def wandb_api_key_configured() -> bool:
    """True when W&B could authenticate: an API key in the environment or in ~/.netrc."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    host = urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname
    try:
        return netrc.netrc().authenticators(host) is not None
    except (FileNotFoundError, netrc.NetrcParseError):
        return False


def wandb_logger(
    project: str,
    save_dir: str,
    offline: bool | None = None,
    name: str | None = None,
    group: str | None = None,
    tags: list[str] | None = None,
) -> WandbLogger:
    """A W&B logger that runs offline unless an API key is configured (or `offline` says)."""
    if offline is None:
        offline = os.environ.get("WANDB_MODE") == "offline" or not wandb_api_key_configured()
    if offline:
        rank_zero_info(
            f"W&B: logging offline under {save_dir}/wandb (no API key configured or "
            "logger.wandb.offline=true); upload later with `wandb sync`."
        )
    return WandbLogger(
        project=project,
        save_dir=save_dir,
        offline=offline,
        name=name,
        group=group,
        tags=list(tags or []),
    )
