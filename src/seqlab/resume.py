"""Which checkpoint a run continues from: `ckpt_path`, else the newest one in its directory
that loads and was trained with the same model, task and data source."""

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.utilities import rank_zero_info, rank_zero_warn

from seqlab.callbacks.config_snapshot import CHECKPOINT_KEY
from seqlab.checkpoints import TEMP_SUFFIX, CheckpointError, read_checkpoint

# What a checkpoint's weights were built for; all else (optimizer, epochs, ...) may change.
SAME_KEYS = ("model", "ensemble", "task.heads", "data._target_")


def resume_checkpoint(cfg: DictConfig) -> str | None:
    """`ckpt_path` (checked), else with `auto_resume` the newest usable checkpoint of the run
    directory: SLURM's `hpc_ckpt_<n>.ckpt` or `checkpoints/*.ckpt`, newest first.

    Unreadable files are skipped with a warning naming each; a readable one trained with
    another config is an error, so a changed command never silently starts over.
    """
    if cfg.ckpt_path:
        check_same_config(read_checkpoint(cfg.ckpt_path), cfg, cfg.ckpt_path)
        return cfg.ckpt_path
    if not cfg.auto_resume:
        return None
    run_dir = Path(cfg.paths.output_dir)
    found = [*run_dir.glob("hpc_ckpt_*.ckpt"), *(run_dir / "checkpoints").glob("*.ckpt")]
    for partial in (run_dir / "checkpoints").glob(f".*{TEMP_SUFFIX}"):
        rank_zero_warn(f"Removing {partial}: a checkpoint write that a crash interrupted")
        partial.unlink(missing_ok=True)
    for path in sorted(found, key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            checkpoint = read_checkpoint(path)
        except (CheckpointError, OSError) as error:
            rank_zero_warn(f"auto_resume: skipping {error}")
            continue
        check_same_config(checkpoint, cfg, path)
        epoch, step = checkpoint.get("epoch"), checkpoint.get("global_step")
        rank_zero_info(f"auto_resume: resuming from {path} (epoch {epoch}, step {step})")
        return str(path)
    if found:
        rank_zero_warn(f"auto_resume: no usable checkpoint in {run_dir}; training from scratch")
    return None


def check_same_config(checkpoint: dict[str, Any], cfg: DictConfig, path: str | Path) -> None:
    """Raise when the checkpoint was trained with another model, ensemble, task or data source."""
    stored = OmegaConf.create(checkpoint[CHECKPOINT_KEY])
    differences = []
    for key in SAME_KEYS:
        theirs, ours = flatten(OmegaConf.select(stored, key)), flatten(OmegaConf.select(cfg, key))
        for name in sorted(theirs.keys() | ours.keys()):
            had, asked = theirs.get(name), ours.get(name)
            if had != asked:
                full = f"{key}.{name}" if name else key
                differences.append(f"checkpoint has {full}={had}, you asked for {full}={asked}")
    if differences:
        more = f" (and {len(differences) - 3} more)" if len(differences) > 3 else ""
        raise CheckpointError(
            f"{path}: config mismatch: {'; '.join(differences[:3])}{more}. Resume with the "
            "checkpoint's settings, or start a new run directory (or auto_resume=false)."
        )


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted leaf names -> values of a (resolved) config node; {"": value} for a leaf."""
    if OmegaConf.is_config(node):
        node = OmegaConf.to_container(node, resolve=True)
    if isinstance(node, dict):
        leaves: dict[str, Any] = {}
        for key, value in node.items():
            leaves.update(flatten(value, f"{prefix}{key}."))
        return leaves
    return {prefix.rstrip("."): node}
