"""Seq2seq end to end: train.py with the attention picture, eval.py, multi-reference metrics."""

from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader

from seqlab.data.collate import pad_collate
from seqlab.data.references import MultiReferenceDataset
from seqlab.eval import evaluate
from seqlab.models.search import hypotheses
from seqlab.train import train
from tests.conftest import compose_config
from tests.seq2seq_helpers import batch_of, decode, make_task, synthetic

SEQ2SEQ = [
    "data=synthetic_seq2seq",
    "data.num_items=64",
    "task=seq2seq",
    "model.bidirectional=true",
    "task.heads.main.decoder.hidden_size=16",
    "task.heads.main.attention.size=8",
    "task.heads.main.decoding.max_length=10",
    "task.heads.main.decoding.beam_size=2",
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


def test_metrics_accept_any_reference_of_an_item() -> None:
    """An output equal to a word's second pronunciation counts as right (looked up by index)."""
    torch.manual_seed(7)
    val = synthetic("copy").splits.val
    task = make_task(synthetic("copy").splits.spec, max_length=6).eval()
    items = list(range(24))
    del task.log  # log through the Trainer again
    outputs = hypotheses(decode(task, batch_of(val, items)).tokens)
    targets = [tuple(val[i][1][:-1].tolist()) for i in items]
    references = [[t, o] if o and o != t else [t] for t, o in zip(targets, outputs, strict=True)]
    dataset = MultiReferenceDataset(
        "two_refs",
        [val[i][0] for i in items],
        [val[i][1] for i in items],
        references,
        [str(i) for i in items],
    )
    wrong = sum(o not in r for o, r in zip(outputs, references, strict=True)) / len(items)
    assert wrong < sum(o != t for o, t in zip(outputs, targets, strict=True)) / len(items)
    trainer = pl.Trainer(
        accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False
    )
    loader = DataLoader(dataset, batch_size=8, collate_fn=pad_collate)
    (metrics,) = trainer.validate(task, dataloaders=loader, verbose=False)
    assert metrics["val/wer"] == pytest.approx(wrong)
