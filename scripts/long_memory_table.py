"""Measure how far back each recurrent cell remembers: adding (test MSE) and copy memory
(accuracy on the recalled symbols) for every model x init x T x seed, at one step budget.

Runs in one process through seqlab's entry point (`seqlab.train.train`), appends one JSON line
per run to `<out>/runs.jsonl` (an interrupted grid resumes where it stopped) and prints one
markdown table per task: mean +/- std over seeds, the baseline beside.
Usage: python scripts/long_memory_table.py [--tasks copy_memory] [--lengths 50 100] ...
"""

import argparse
import json
import statistics
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir

from seqlab.build import build_datamodule, build_task
from seqlab.config import register_schemas
from seqlab.data.sources.copy_memory import recall_accuracy
from seqlab.train import CONFIG_DIR, train

# (metric, its baseline) per task, one table each
TABLES = {
    "adding": [("test/mse", "test/mse_baseline")],
    "copy_memory": [
        ("test/recall_acc", "test/recall_acc_baseline"),
        ("test/ce", "test/ce_baseline"),
    ],
}
QUIET = ["logger=csv", "trainer.enable_progress_bar=false", "trainer.enable_model_summary=false"]
QUIET += ["callbacks.grad_flow=null", "callbacks.grad_norms=null", "callbacks.early_stopping=null"]
# the same budget for every cell: exactly `--steps` steps at a constant learning rate
QUIET += ["callbacks.step_budget=null", "scheduler=none"]


def overrides(task: str, model: str, init: str, length: int, seed: int, args) -> list[str]:
    """One run: `args.steps` optimizer steps in one epoch, validated and tested once."""
    return [
        f"experiment={task}",
        f"model={model}",
        f"init={init}",
        f"data.length={length}",
        f"seed={seed}",
        f"model.hidden_size={args.hidden}",
        f"data.batch_size={args.batch_size}",
        f"data.num_items={args.steps * args.batch_size}",
        "trainer.max_epochs=1",
    ]


def copy_recall(cfg) -> float:
    """Accuracy on the recalled symbols of the test split, with the run's last weights."""
    datamodule = build_datamodule(cfg)
    task = build_task(cfg, datamodule)
    checkpoint = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    task.load_state_dict(torch.load(checkpoint, weights_only=False)["state_dict"])
    task.eval()
    hits = total = 0
    with torch.no_grad():
        for batch in datamodule.test_dataloader():
            n = len(batch) * cfg.data.num_recall
            hits += recall_accuracy(task(batch)["main"], batch.targets, cfg.data.num_recall) * n
            total += n
    return hits / total


def run(task: str, run_overrides: list[str], out: Path, name: str) -> dict:
    register_schemas()
    run_dir = out / "runs" / name
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("train", [*run_overrides, *QUIET, f"paths.output_dir={run_dir}"])
    start = time.perf_counter()
    metrics = train(cfg)
    result = {k: v for k, v in metrics.items() if k.startswith("test/")}
    if task == "copy_memory":
        result["test/recall_acc"] = copy_recall(cfg)
        result["test/recall_acc_baseline"] = 1 / cfg.data.num_symbols
    result["wall_s"] = time.perf_counter() - start
    return result


def table(rows: list[dict], task: str, metric: str, baseline: str) -> str:
    """Rows model + init (in run order), columns T: mean +/- std of `metric` over seeds."""
    cells: dict[tuple, list[float]] = defaultdict(list)
    baselines: dict[int, list[float]] = defaultdict(list)
    for row in rows:
        if row["task"] == task:
            cells[row["model"], row["init"], row["length"]].append(row[metric])
            baselines[row["length"]].append(row[baseline])
    lengths = sorted(baselines)
    lines = [f"| {task}: {metric} | " + " | ".join(f"T={t}" for t in lengths) + " |"]
    lines.append("|---" * (len(lengths) + 1) + "|")
    for model, init in dict.fromkeys(key[:2] for key in cells):
        values = [cells.get((model, init, t), []) for t in lengths]
        lines.append(f"| `model={model} init={init}` | " + " | ".join(map(summary, values)) + " |")
    lines.append("| baseline | " + " | ".join(summary(baselines[t]) for t in lengths) + " |")
    return "\n".join(lines)


def summary(values: list[float]) -> str:
    if not values:
        return "-"
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} +/- {spread:.3f} (n={len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", nargs="+", default=["adding", "copy_memory"])
    parser.add_argument("--models", nargs="+", default=["rnn", "lstm", "gru", "ligru"])
    parser.add_argument("--inits", nargs="+", default=["default", "orthogonal"])
    parser.add_argument("--lengths", nargs="+", type=int, default=[50, 100, 200, 400])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--steps", type=int, default=200, help="optimizer steps per run")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--out", type=Path, default=Path("logs/long_memory_table"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / "runs.jsonl"
    rows = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    done = {row["name"] for row in rows}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    for task in args.tasks:
        for model in args.models:
            for init in args.inits:
                for length in args.lengths:
                    for seed in args.seeds:
                        name = f"{task}-{model}-{init}-T{length}-s{seed}"
                        if name in done:
                            continue
                        chosen = overrides(task, model, init, length, seed, args)
                        row = dict(name=name, task=task, model=model, init=init, length=length)
                        row |= dict(seed=seed, overrides=chosen, commit=commit.stdout.strip())
                        row |= run(task, chosen, args.out, name)
                        rows.append(row)
                        with log.open("a") as handle:
                            handle.write(json.dumps(row) + "\n")
    for task in args.tasks:
        for metric, baseline in TABLES[task]:
            print(table(rows, task, metric, baseline), end="\n\n")


if __name__ == "__main__":
    main()
