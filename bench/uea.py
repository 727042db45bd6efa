"""The default recipe per encoder against aeon's 1-NN DTW and MiniRocket, same run, same splits.

Every seqlab fit is `python train.py data.name=<dataset> model=<model> seed=<seed>` with
nothing else (the recipe), composed and run in this process; the baselines fit on the same
official train split and score on the official test split. Accuracy is the mean and
(population) std over seeds; wall time is per fit, on whatever load the machine has.

    python bench/uea.py [--datasets GunPoint ...] [--models lstm gru ...] [--seeds 1 2 3]
                        [--no-baselines] [--override key=value ...] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from hydra import compose, initialize_config_dir
from sklearn.metrics import accuracy_score

from seqlab.config import register_schemas
from seqlab.data.sources.uea import load_uea_split
from seqlab.train import CONFIG_DIR, train

DEV_DATASETS = ("JapaneseVowels", "GunPoint", "ItalyPowerDemand", "OSULeaf", "ACSF1")
MODELS = ("lstm", "gru", "ligru", "crdnn")
QUIET = [
    "logger=none",
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
]


def seqlab_fit(dataset: str, model: str, seed: int, overrides: list[str]) -> tuple[float, float]:
    """Test accuracy and wall seconds of one recipe run."""
    with tempfile.TemporaryDirectory() as out:
        chosen = [
            f"data.name={dataset}",
            f"model={model}",
            f"seed={seed}",
            f"paths.output_dir={out}",
        ]
        with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
            cfg = compose(config_name="train", overrides=[*chosen, *QUIET, *overrides])
        start = time.perf_counter()
        metrics = train(cfg)
        return metrics["test/acc"], time.perf_counter() - start


def aeon_arrays(dataset: str, split: str) -> tuple[list[np.ndarray] | np.ndarray, np.ndarray]:
    """Series as aeon wants them: [N, C, T] when lengths agree, else a list of [C, T_i]."""
    series, labels = load_uea_split(dataset, split)
    channels_first = [s.T.astype(np.float64) for s in series]
    if len({s.shape[1] for s in channels_first}) == 1:
        return np.stack(channels_first), np.asarray(labels)
    return channels_first, np.asarray(labels)


def baseline_fits(dataset: str) -> dict[str, tuple[float, float]]:
    """1-NN DTW everywhere; MiniRocket where all series have one length."""
    from aeon.classification.convolution_based import MiniRocketClassifier
    from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

    train_x, train_y = aeon_arrays(dataset, "train")
    test_x, test_y = aeon_arrays(dataset, "test")
    makers = {"1-NN DTW": lambda: KNeighborsTimeSeriesClassifier(distance="dtw")}
    if isinstance(train_x, np.ndarray) and isinstance(test_x, np.ndarray):
        makers["MiniRocket"] = lambda: MiniRocketClassifier(random_state=0)
    results = {}
    threads = torch.get_num_threads()
    for name, make in makers.items():
        start = time.perf_counter()
        predicted = make().fit(train_x, train_y).predict(test_x)
        results[name] = (float(accuracy_score(test_y, predicted)), time.perf_counter() - start)
    torch.set_num_threads(threads)  # aeon raises torch's threads; the fits run as train.py would
    return results


def summary(runs: list[tuple[float, float]]) -> dict[str, float]:
    accs, walls = [a for a, _ in runs], [w for _, w in runs]
    return {
        "acc_mean": statistics.fmean(accs),
        "acc_std": statistics.pstdev(accs),
        "wall_s_per_fit": statistics.fmean(walls),
        "runs": len(runs),
        "accs": accs,
    }


def print_table(results: dict[str, dict[str, dict]]) -> None:
    methods = sorted({m for per in results.values() for m in per}, key=_method_order)
    print(f"{'dataset':18s}" + "".join(f"{m:>22s}" for m in methods))
    for dataset, per in results.items():
        cells = []
        for method in methods:
            r = per.get(method)
            cell = (
                f"{r['acc_mean']:.4f}±{r['acc_std']:.4f} {r['wall_s_per_fit']:.0f}s" if r else "-"
            )
            cells.append(f"{cell:>22s}")
        print(f"{dataset:18s}" + "".join(cells))


def _method_order(method: str) -> tuple[int, str]:
    return (1 if method in ("1-NN DTW", "MiniRocket") else 0, method)


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DEV_DATASETS))
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--no-baselines", action="store_true", help="seqlab runs only")
    parser.add_argument("--override", nargs="*", default=[], help="extra train.py overrides")
    parser.add_argument("--json", type=Path, default=Path("bench_uea.json"))
    args = parser.parse_args()
    register_schemas()
    run_meta = meta(args)  # the commit the runs start from, not the one when JSON is written

    results: dict[str, dict[str, dict]] = {}
    for dataset in args.datasets:
        per = results.setdefault(dataset, {})
        if not args.no_baselines:
            for name, run in baseline_fits(dataset).items():
                per[name] = summary([run])
                print(f"{dataset} {name}: {run[0]:.4f} ({run[1]:.1f}s)", flush=True)
        for model in args.models:
            runs = []
            for seed in args.seeds:
                runs.append(seqlab_fit(dataset, model, seed, args.override))
                print(
                    f"{dataset} {model} seed {seed}: {runs[-1][0]:.4f} ({runs[-1][1]:.0f}s)",
                    flush=True,
                )
            per[model] = summary(runs) | {"seeds": args.seeds}
        args.json.write_text(json.dumps(run_meta | {"results": results}, indent=2))
    print_table(results)


def meta(args: argparse.Namespace) -> dict:
    return {
        "commit": commit(),
        "seeds": args.seeds,
        "overrides": args.override,
        "machine": f"{platform.processor() or platform.machine()}, {platform.system()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


if __name__ == "__main__":
    main()
