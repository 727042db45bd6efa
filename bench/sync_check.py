"""Host-device syncs in seqlab's training step, on CUDA: a few steps of the default run under
`torch.cuda.set_sync_debug_mode("warn")`, each sync warning printed with where it came from.

    python bench/sync_check.py --steps 12 --log-every 5   # skips (rc 0) without CUDA

Steps between logging steps should print none; a logging step may sync (it reads the loss
and the NaN check back). Lightning's own syncs are printed too, marked by their file.
"""

import argparse
import os
import sys
import traceback
import warnings

import torch


class SyncTrap:
    """Prints every CUDA sync warning raised inside `training_step`, with the optimizer step."""

    def __init__(self) -> None:
        self.step, self.counts = -1, {}

    def __call__(self, message, category, filename, lineno, file=None, line=None) -> None:
        if "synchroniz" not in str(message):
            return
        self.counts[self.step] = self.counts.get(self.step, 0) + 1
        ours = [f for f in traceback.extract_stack() if "seqlab" in f.filename]
        where = f"{ours[-1].filename}:{ours[-1].lineno}" if ours else f"{filename}:{lineno}"
        print(f"step {self.step}: sync at {where}: {message}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--log-every", type=int, default=5)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("sync_check: no CUDA device, skipped")
        return 0
    os.environ.setdefault("WANDB_MODE", "offline")
    from hydra import compose, initialize_config_dir

    from seqlab.build import build_datamodule, build_task, build_trainer
    from seqlab.config import CONFIG_DIR, register_schemas

    register_schemas()
    overrides = [
        "logger=none",
        "callbacks=none",
        "trainer.accelerator=gpu",
        "trainer.devices=1",
        "trainer.limit_val_batches=0",
        "trainer.enable_progress_bar=false",
        f"trainer.max_steps={args.steps}",
        f"trainer.log_every_n_steps={args.log_every}",
        "test=false",
        "paths.output_dir=/tmp/seqlab_sync_check",
    ]
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("train", overrides)
    datamodule = build_datamodule(cfg)
    task = build_task(cfg, datamodule)
    trap, step = SyncTrap(), task.training_step

    def trapped(*a, **k):
        trap.step = task.trainer.global_step
        torch.cuda.set_sync_debug_mode("warn")
        try:
            return step(*a, **k)
        finally:
            torch.cuda.set_sync_debug_mode("default")

    task.training_step = trapped
    warnings.showwarning = trap
    warnings.simplefilter("always")
    build_trainer(cfg, [], []).fit(task, datamodule=datamodule)
    logging = {s for s in range(args.steps) if (s + 1) % args.log_every == 0 or s == args.steps - 1}
    quiet = [s for s in range(args.steps) if s not in logging and trap.counts.get(s)]
    print(f"sync_check: syncs per step {trap.counts}; logging steps {sorted(logging)}")
    print("sync_check: OK, no sync between logging steps" if not quiet else f"FAIL at {quiet}")
    return 1 if quiet else 0


if __name__ == "__main__":
    sys.exit(main())
