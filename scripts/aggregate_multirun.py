"""Mean +/- std of test metrics over the seeds of Hydra multiruns, one row per variant.

Reads every `<dir>/**/.hydra/overrides.yaml` and the run's CSV metrics; runs whose overrides
differ only in `seed` form one variant. Usage: python scripts/aggregate_multirun.py DIR...
"""

import argparse
import csv
import statistics
from collections import defaultdict
from pathlib import Path

from omegaconf import OmegaConf

METRICS = ("test/acc", "test/members_mean/acc")


def run_metrics(run_dir: Path) -> dict[str, float]:
    """The last logged value of each metric in the run's CSV logs."""
    found: dict[str, float] = {}
    for path in sorted(run_dir.rglob("metrics.csv")):
        with path.open() as handle:
            for row in csv.DictReader(handle):
                found.update({k: float(v) for k, v in row.items() if k in METRICS and v})
    return found


def variant(overrides: list[str]) -> str:
    kept = [o for o in overrides if not o.startswith("seed=")]
    return " ".join(o for o in kept if not o.startswith(("logger=", "trainer.enable_progress")))


def summarize(values: list[float]) -> str:
    if not values:
        return "-"
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.4f} +/- {spread:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dirs", nargs="+", type=Path, help="multirun directories")
    args = parser.parse_args()
    table: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    seeds: dict[str, list[str]] = defaultdict(list)
    for root in args.dirs:
        for overrides_file in sorted(root.rglob(".hydra/overrides.yaml")):
            run_dir = overrides_file.parent.parent
            overrides = [str(o) for o in OmegaConf.load(overrides_file)]
            metrics = run_metrics(run_dir)
            if "test/acc" not in metrics:
                raise SystemExit(f"{run_dir}: no test/acc in its CSV logs (unfinished run?)")
            name = variant(overrides)
            seeds[name] += [o for o in overrides if o.startswith("seed=")]
            for key, value in metrics.items():
                table[name][key].append(value)
    print("| variant | seeds | test accuracy | mean member test accuracy |")
    print("|---|---|---|---|")
    for name, metrics in table.items():
        accuracy = summarize(metrics["test/acc"])
        members = summarize(metrics["test/members_mean/acc"])
        print(f"| `{name}` | {len(seeds[name])} | {accuracy} | {members} |")


if __name__ == "__main__":
    main()
