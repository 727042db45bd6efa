"""Experiment loggers that work with no network and no account."""

import netrc
import os
import sys
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
    init_timeout: float = 60.0,
) -> WandbLogger:
    """A W&B logger that runs offline unless an API key is configured (or `offline` says).

    Offline, wandb's own console chatter is silenced and one line says where the run goes;
    online, `init_timeout` bounds the wait for the server so a dead network fails, not hangs.
    """
    import wandb

    if offline is None:
        offline = os.environ.get("WANDB_MODE") == "offline" or not wandb_api_key_configured()
    if offline:
        rank_zero_info(
            f"W&B: offline run under {save_dir}/wandb (no API key configured or "
            f"logger.wandb.offline=true); upload it later with `wandb sync {save_dir}/wandb`."
        )
    settings = wandb.Settings(init_timeout=init_timeout, silent=offline)
    logger = WandbLogger(
        project=project,
        save_dir=save_dir,
        offline=offline,
        name=name,
        group=group,
        tags=list(tags or []),
        settings=settings,
    )
    logger._wandb_init.pop("anonymous", None)  # Lightning passes it; wandb warns it is obsolete
    return logger


def finish_wandb(failed: bool) -> None:
    """Close the active W&B run, so the next job of a multirun starts its own."""
    wandb = sys.modules.get("wandb")
    if wandb is not None and wandb.run is not None:
        wandb.finish(exit_code=1 if failed else 0)
