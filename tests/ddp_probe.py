"""Train as `train.py` does, recording every rank's batches and metrics (DDP test helper).

Usage: `python tests/ddp_probe.py OUT_DIR override ...`; Lightning re-runs this same command
for the other ranks, and each writes `batches_rank<r>.json` and `metrics_rank<r>.json`.
"""

import json
import sys
from pathlib import Path

from pytorch_lightning.utilities.rank_zero import rank_zero_only

import seqlab.train as entry
from tests.batch_recorder import BatchRecorder
from tests.conftest import compose_config


def run(out: Path, overrides: list[str]) -> dict[str, float]:
    """Train and test with a `BatchRecorder` added to the configured callbacks."""
    configured = entry.build_callbacks
    entry.build_callbacks = lambda cfg, loggers: [*configured(cfg, loggers), BatchRecorder(out)]
    try:
        metrics = entry.train(compose_config([f"paths.output_dir={out}", *overrides]))
    finally:
        entry.build_callbacks = configured
    (out / f"metrics_rank{rank_zero_only.rank}.json").write_text(json.dumps(metrics))
    return metrics


if __name__ == "__main__":
    run(Path(sys.argv[1]), sys.argv[2:])
