"""Training-loop overhead: seqlab's Lightning loop against a plain PyTorch loop.

    python bench/step_overhead.py                      # default run and experiment=g2p
    python bench/step_overhead.py --runs 5 --g2p-steps 100 --json overhead.json

Both loops train the same modules (the task's model, built from the same config and seed),
on batches of the same data loader, for the same number of optimizer steps, with Adam and
validation off; the plain loop is forward, loss, backward, optimizer step and nothing else.
Each seqlab variant (`callbacks=none`, `callbacks=default`) is timed from the first to the
last training batch, runs are interleaved with the plain loop's, and the median of each is
divided by the plain loop's median from the same rounds.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_dir

from seqlab.build import build_callbacks, build_datamodule, build_task, build_trainer
from seqlab.config import register_schemas
from seqlab.train import CONFIG_DIR

COMMON = [
    "logger=none",
    "trainer.accelerator=cpu",
    "trainer.limit_val_batches=0",
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
    "trainer.max_epochs=1000",
    "scheduler=none",
    "test=false",
    "paths.output_dir=/tmp/seqlab_step_overhead",
]


class LoopTimer(pl.Callback):
    """Seconds from the first training batch's start to the last one's end."""

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == 0 and not hasattr(self, "start"):
            self.start = time.perf_counter()

    def on_train_end(self, trainer, pl_module) -> None:
        self.seconds = time.perf_counter() - self.start


def config(overrides: list[str], steps: int, callbacks: str):
    register_schemas()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose(
            "train", [*COMMON, *overrides, f"trainer.max_steps={steps}", f"callbacks={callbacks}"]
        )


def seqlab_loop(overrides: list[str], steps: int, callbacks: str) -> float:
    if callbacks == "none":  # an experiment's callback settings would bring callbacks back
        overrides = [*overrides, "callbacks.early_stopping=null", "callbacks.attention_plot=null"]
    cfg = config(overrides, steps, callbacks)
    pl.seed_everything(cfg.seed, workers=True)
    datamodule = build_datamodule(cfg)
    task = build_task(cfg, datamodule)
    timer = LoopTimer()
    trainer = build_trainer(cfg, [*build_callbacks(cfg, []), timer], [])
    trainer.fit(task, datamodule=datamodule)
    return timer.seconds


def plain_loop(overrides: list[str], steps: int) -> float:
    cfg = config(overrides, steps, "none")
    pl.seed_everything(cfg.seed, workers=True)
    datamodule = build_datamodule(cfg)
    model = build_task(cfg, datamodule).model.train()
    datamodule.setup("fit")
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.optimizer.lr)
    clip = cfg.trainer.gradient_clip_val
    done, start = 0, None
    while done < steps:
        for batch in datamodule.train_dataloader():
            start = start or time.perf_counter()
            loss, _ = model.data_loss(batch)
            optimizer.zero_grad()
            loss.backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            done += 1
            if done == steps:
                break
    return time.perf_counter() - start


def measure(name: str, overrides: list[str], steps: int, runs: int) -> dict:
    times: dict[str, list[float]] = {"plain": [], "callbacks=none": [], "callbacks=default": []}
    for _ in range(runs):
        times["plain"].append(plain_loop(overrides, steps))
        times["callbacks=none"].append(seqlab_loop(overrides, steps, "none"))
        times["callbacks=default"].append(seqlab_loop(overrides, steps, "default"))
    medians = {k: statistics.median(v) for k, v in times.items()}
    ratios = {k: medians[k] / medians["plain"] for k in medians}
    print(f"\n{name}: {steps} optimizer steps, median of {runs} runs")
    for key in times:
        print(f"  {key:18s} {medians[key]:8.3f} s   {ratios[key]:.2f}x the plain loop")
    return {"steps": steps, "seconds": times, "ratios": ratios}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--default-steps", type=int, default=160)
    parser.add_argument("--g2p-steps", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("WANDB_MODE", "offline")
    results = {
        "default": measure("default run (JapaneseVowels)", [], args.default_steps, args.runs),
        "g2p": measure("experiment=g2p", ["experiment=g2p"], args.g2p_steps, args.runs),
    }
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
