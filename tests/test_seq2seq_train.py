"""Seq2seq end to end: train.py's path with the attention picture, then eval.py's."""

from pathlib import Path

import pytest

from seqlab.eval import evaluate
from seqlab.train import train
from tests.conftest import compose_config

SEQ2SEQ = [
    "data=synthetic_seq2seq",
    "data.num_items=64",
    "task=seq2seq",
    "model.bidirectional=true",
    "task.decoder.hidden_size=16",
    "task.attention.size=8",
    "task.decoding.max_length=10",
    "task.decoding.beam_size=2",
    "trainer.max_epochs=2",
    "callbacks=[default,attention_plot]",
    "callbacks.rich_progress_bar=null",
]


def test_trains_tests_plots_and_evaluates(tiny_config, tmp_path: Path) -> None:
    trained = train(tiny_config(*SEQ2SEQ))
    assert {"test/per", "test/wer", "test/loss"} <= set(trained)
    assert sorted(p.name for p in (tmp_path / "attention").glob("*.png")) == [
        "epoch_000.png",
        "epoch_001.png",
    ]
    ckpt = next((tmp_path / "checkpoints").glob("epoch_*.ckpt"))
    eval_cfg = compose_config(
        [f"ckpt_path={ckpt}", f"paths.output_dir={tmp_path}", "trainer.accelerator=cpu"],
        config_name="eval",
    )
    evaluated = evaluate(eval_cfg)
    for key in ("test/per", "test/wer", "test/loss"):
        assert evaluated[key] == pytest.approx(trained[key], abs=1e-6)


def test_attention_plot_needs_a_seq2seq_task(tiny_config) -> None:
    with pytest.raises(TypeError, match="callbacks.attention_plot"):
        train(tiny_config("callbacks=[default,attention_plot]", "test=false"))
