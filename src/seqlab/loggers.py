"""Experiment loggers that work with no network and no account."""

import csv
import netrc
import os
import signal
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from urllib.parse import urlparse

from lightning_fabric.loggers.logger import rank_zero_experiment
from pytorch_lightning.loggers import CSVLogger, WandbLogger
from pytorch_lightning.loggers.csv_logs import ExperimentWriter
from pytorch_lightning.utilities import rank_zero_info, rank_zero_only

RUN_ID_FILE = "wandb_run_id"


def wandb_api_key_configured() -> bool:
    """True when W&B could authenticate: an API key in the environment or in ~/.netrc."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    host = urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname
    try:
        return netrc.netrc().authenticators(host) is not None
    except (FileNotFoundError, netrc.NetrcParseError):
        return False


class ResumableCSVLogger(CSVLogger):
    """Lightning's CSV logger, except that a resumed run appends to its version's
    `metrics.csv`: Lightning's writer deletes the rows an earlier process wrote."""

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = AppendingWriter(log_dir=self.log_dir)
        return self._experiment


class AppendingWriter(ExperimentWriter):
    """Starts from the existing file's columns instead of deleting the file."""

    def _check_log_dir_exists(self) -> None:
        if os.path.isfile(self.metrics_file_path):
            with open(self.metrics_file_path, newline="") as file:
                self.metrics_keys = sorted(next(csv.reader(file), []))


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
    online, the run starts here, within `init_timeout` seconds in all (wandb's own setting
    bounds only one of its waits), so a dead network fails, not hangs. The run id is kept in
    `save_dir`, so a resumed training continues the same W&B run.
    """
    import wandb

    if offline is None:
        offline = os.environ.get("WANDB_MODE") == "offline" or not wandb_api_key_configured()
    if offline:
        rank_zero_info(
            f"W&B: offline run under {save_dir}/wandb (no API key configured or "
            f"logger.wandb.offline=true); upload it later with `wandb sync {save_dir}/wandb`."
        )
    settings = wandb.Settings(init_timeout=init_timeout, login_timeout=init_timeout, silent=offline)
    logger = WandbLogger(
        project=project,
        save_dir=save_dir,
        offline=offline,
        name=name,
        group=group,
        tags=list(tags or []),
        settings=settings,
        id=run_id(Path(save_dir)),
    )
    logger._wandb_init.pop("anonymous", None)  # Lightning passes it; wandb warns it is obsolete
    if not offline:
        with deadline(init_timeout, "logger.wandb.init_timeout"):
            _ = logger.experiment
    return logger


def run_id(save_dir: Path) -> str:
    """The W&B run id stored in `save_dir` (a new one written by rank zero on first use)."""
    path = save_dir / RUN_ID_FILE
    if path.is_file():
        return path.read_text().strip()
    value = uuid.uuid4().hex[:12]
    if rank_zero_only.rank == 0:
        save_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")
    return value


@contextmanager
def deadline(seconds: float, setting: str) -> Iterator[None]:
    """Raise TimeoutError naming `setting` once the block has run `seconds`.

    The error repeats every 0.2 s until it leaves the block: wandb catches exceptions in some
    of its waits and carries on, so a single one may be swallowed. Signals reach only the
    main thread; elsewhere the block runs unbounded.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    error = TimeoutError(
        f"W&B did not start within {setting}={seconds:g} s (no network or server?); "
        "raise the timeout, or run offline with logger.wandb.offline=true"
    )
    expired = False

    def expire(signum: int, frame: FrameType | None) -> None:
        nonlocal expired
        expired = True
        raise error

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.2)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if expired:
        raise error


def finish_wandb(failed: bool) -> None:
    """Close the active W&B run, so the next job of a multirun starts its own."""
    wandb = sys.modules.get("wandb")
    if wandb is not None and wandb.run is not None:
        wandb.finish(exit_code=1 if failed else 0)
