"""Every encoder option x task x regularizer x init trains with the default callbacks.

The run is the one users get: `callbacks=default` (checkpointing, early stopping, gradient
norms and flow, padding fraction) and a real csv logger; every logged value must be finite
and in its range. Regularizers and inits rotate over the grid so that each one meets every
task and every encoder option at least once, in about a minute.
"""

import csv
import math
from pathlib import Path

import pytest

from seqlab.train import train
from tests.conftest import compose_config

ENCODERS = {
    "lstm": ["model=lstm", "model.hidden_size=8"],
    "gru": ["model=gru", "model.hidden_size=8"],
    "rnn": ["model=rnn", "model.hidden_size=8"],
    "ligru": ["model=ligru", "model.hidden_size=8"],
    "conv": ["model=conv", "model.hidden_size=8"],
    "crdnn": [
        "model=crdnn",
        "model.conv_channels=[4,4,4]",
        "model.rnn.hidden_size=8",
        "model.dnn_sizes=[8]",
        "model.pool_sizes=[1,1,1]",
    ],
    "lstm_bi_sum": [
        "model=lstm",
        "model.hidden_size=8",
        "model.bidirectional=true",
        "model.merge=sum",
    ],
    "gru_bi_sum": [
        "model=gru",
        "model.hidden_size=8",
        "model.bidirectional=true",
        "model.merge=sum",
    ],
    "lstm_shared": [
        "model=lstm",
        "model.hidden_size=8",
        "model.bidirectional=true",
        "model.shared_directions=true",
    ],
    "ligru_bi_stacked": [
        "model=ligru",
        "model.hidden_size=8",
        "model.bidirectional=true",
        "model.num_layers=2",
    ],
}
SEQ2SEQ_TINY = [
    "task.heads.main.decoder.hidden_size=8",
    "task.heads.main.decoder.embedding_dim=4",
    "task.heads.main.attention.size=8",
    "task.heads.main.decoding.beam_size=2",
    "task.heads.main.decoding.max_length=6",
]
TASKS = {  # float and token data, every head type
    "many_to_one": ["task=many_to_one", "data=synthetic"],
    "many_to_many": ["task=many_to_many", "data=synthetic", "data.per_step=true"],
    "seq2seq": ["task=seq2seq", "data=synthetic_seq2seq", "data.num_items=32", *SEQ2SEQ_TINY],
    "multitask": [
        "task=multitask",
        "data=synthetic_multitask",
        "+head@task.heads.label=sequence",
        "+head@task.heads.steps=per_step",
        "task.heads.steps.weight=0.5",
    ],
}
REGULARIZERS = ["none", "dropout", "l2", "l1", "label_smoothing", "noise", "[dropout,l2]"]
INITS = ["default", "uniform", "glorot", "he", "orthogonal"]
FRACTIONS = ("acc", "padding_fraction", "wer")  # PER counts insertions: it can exceed 1


def grid() -> list[tuple[str, str, str, str]]:
    cells = []
    for number, (encoder, task) in enumerate((e, t) for e in ENCODERS for t in TASKS):
        regularizer = REGULARIZERS[number % len(REGULARIZERS)]
        if regularizer == "noise" and number % 2 and task == "many_to_one":
            regularizer = "augment"  # one target per sequence: the only kind it keeps aligned
        cells.append((encoder, task, regularizer, INITS[number % len(INITS)]))
    return cells


def logged_values(run_dir: Path) -> dict[str, list[float]]:
    """Every value the csv logger wrote, by metric name."""
    values: dict[str, list[float]] = {}
    for path in run_dir.glob("csv/version_*/metrics.csv"):
        with path.open() as handle:
            for row in csv.DictReader(handle):
                for key, value in row.items():
                    if value not in ("", None) and key not in ("epoch", "step"):
                        values.setdefault(key, []).append(float(value))
    return values


@pytest.mark.parametrize(("encoder", "task", "regularizer", "init"), grid(), ids=str)
def test_option_trains_and_logs_sane_values(
    tmp_path: Path, encoder: str, task: str, regularizer: str, init: str
) -> None:
    cfg = compose_config(
        [
            *TASKS[task],
            *ENCODERS[encoder],
            f"regularizer={regularizer}",
            f"init={init}",
            "callbacks=default",
            "logger=csv",
            "data.num_items=32",
            "data.batch_size=8",
            "trainer.accelerator=cpu",
            "trainer.max_epochs=1",
            "callbacks.step_budget.min_steps=0",
            "trainer.enable_progress_bar=false",
            "trainer.enable_model_summary=false",
            "trainer.log_every_n_steps=1",
            "callbacks.grad_flow.every_n_steps=1",
            f"paths.output_dir={tmp_path}",
        ]
    )
    metrics = train(cfg)
    assert math.isfinite(metrics["test/loss"])
    values = logged_values(tmp_path)
    assert any(key.startswith("grad_norm") for key in values), sorted(values)
    for key, series in values.items():
        assert all(math.isfinite(v) for v in series), key
        if key.rsplit("/", 1)[-1] in FRACTIONS:
            assert all(0.0 <= v <= 1.0 for v in series), (key, series)
        if key.startswith(("grad_norm", "grad_flow")) or key.endswith(("loss", "per")):
            assert all(v >= 0.0 for v in series), (key, series)
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()
