"""Checkpoint files that survive crashes: atomic writes, a content digest, checked loading.

A checkpoint is written to a temporary file beside its real name, fsynced and renamed over
it, so a crash during a save leaves the previous file intact. Each file carries a digest of
its contents; loading names the file and what is wrong with it (missing, empty, truncated,
not a checkpoint, not from seqlab, digest mismatch, non-finite weights) instead of letting
a pickle error or NaN metrics surface later.
"""

import hashlib
import os
import pickle
import uuid
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from lightning_fabric.plugins import TorchCheckpointIO

from seqlab.callbacks.config_snapshot import CHECKPOINT_KEY

DIGEST_KEY = "seqlab_digest"
TEMP_SUFFIX = ".partial"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used; the message names the file and the problem."""


def digest(checkpoint: dict[str, Any]) -> str:
    """SHA-256 over every tensor's bytes and every plain value, keyed by its path."""
    sha = hashlib.sha256()
    stack: list[tuple[str, Any]] = [("", {k: v for k, v in checkpoint.items() if k != DIGEST_KEY})]
    while stack:
        path, value = stack.pop()
        sha.update(path.encode())
        if isinstance(value, dict):
            stack.extend((f"{path}/{k}", v) for k, v in reversed(value.items()))
        elif isinstance(value, list | tuple):
            stack.extend((f"{path}/{i}", v) for i, v in reversed(list(enumerate(value))))
        elif isinstance(value, torch.Tensor) and value.layout == torch.strided:
            flat = value.detach().cpu().contiguous().reshape(-1)
            sha.update(f"{flat.dtype}{tuple(value.shape)}".encode())
            sha.update(flat.view(torch.uint8).numpy().tobytes())
        elif value is None or isinstance(value, bool | int | float | str | bytes):
            sha.update(repr(value).encode())
        else:
            sha.update(type(value).__qualname__.encode())
    return sha.hexdigest()


def atomic_torch_save(checkpoint: dict[str, Any], path: Path) -> None:
    """`torch.save` to a temporary file in the same directory, fsync, then `os.replace`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}")
    try:
        with open(temp, "xb") as file:
            torch.save(checkpoint, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)


def read_checkpoint(path: str | Path, map_location: Any = "cpu") -> dict[str, Any]:
    """Load a seqlab checkpoint, or raise an error naming the file and what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: empty file (0 bytes), not a checkpoint")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=False)
    except pickle.UnpicklingError as error:
        raise CheckpointError(f"{path}: not a PyTorch checkpoint ({error})") from error
    except (EOFError, OSError, RuntimeError, ValueError) as error:
        problem = f"{type(error).__name__}: {error}"
        raise CheckpointError(f"{path}: truncated or corrupt checkpoint ({problem})") from error
    if not isinstance(checkpoint, dict) or CHECKPOINT_KEY not in checkpoint:
        raise CheckpointError(f"{path}: not a seqlab checkpoint (no '{CHECKPOINT_KEY}' in it)")
    if DIGEST_KEY in checkpoint and checkpoint[DIGEST_KEY] != digest(checkpoint):
        raise CheckpointError(f"{path}: corrupt checkpoint (contents differ from their digest)")
    check_finite(checkpoint.get("state_dict", {}), path)
    return checkpoint


def check_finite(state_dict: dict[str, Any], path: Path) -> None:
    """Refuse weights with NaN or inf: testing or resuming them only spreads the NaN."""
    bad = [
        name
        for name, value in state_dict.items()
        if isinstance(value, torch.Tensor)
        and value.is_floating_point()
        and not torch.isfinite(value).all()
    ]
    if bad:
        shown = ", ".join(bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
        raise CheckpointError(f"{path}: non-finite weights (NaN or inf) in {shown}")


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint IO with atomic, digested writes and checked reads."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any = None
    ) -> None:
        if storage_options is not None:
            raise TypeError("AtomicCheckpointIO takes no storage_options")
        checkpoint[DIGEST_KEY] = digest(checkpoint)
        atomic_torch_save(checkpoint, Path(path))

    def load_checkpoint(
        self, path: str | Path, map_location: Any = None, weights_only: bool | None = None
    ) -> dict[str, Any]:
        return read_checkpoint(path, map_location=map_location)


def use_atomic_checkpoints(trainer: pl.Trainer) -> None:
    """Route every checkpoint the trainer writes or reads (last, best, SLURM) through
    `AtomicCheckpointIO`."""
    trainer.strategy.checkpoint_io = AtomicCheckpointIO()
