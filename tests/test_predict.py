"""predict.py: one record per item, equal to the model's own forward on that item alone."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate

from seqlab.data.collate import pad_collate
from seqlab.data.spec import DataSpec
from seqlab.data.vocab import decode
from seqlab.eval import training_config
from seqlab.heads.per_step import PerStepHead
from seqlab.heads.sequence import SequenceHead
from seqlab.predict import predict
from seqlab.prediction.rows import records
from seqlab.prediction.task import PredictingTask
from seqlab.train import train
from tests.conftest import compose_config
from tests.files_helpers import toy_sequences, write_long_csv
from tests.test_files_train import RUN

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
SEQ2SEQ = [
    "data=synthetic_seq2seq",
    "data.num_items=32",
    "task=seq2seq",
    "task.heads.main.decoder.hidden_size=16",
    "task.heads.main.attention.size=8",
    "task.heads.main.decoding.max_length=10",
    "task.heads.main.decoding.beam_size=2",
]
CASES = {
    "many_to_one": [],
    "many_to_many": ["data.per_step=true", "task=many_to_many", "task.monitor=val/loss"],
    "seq2seq": SEQ2SEQ,
    "bagging": ["ensemble=bagging", "ensemble.members=2"],
}
NEW_ITEMS = "id,step,f0,f1\nq,1,0.5,0.5\nq,0,1.0,2.0\nr,0,3,4\n"


def read(path: Path) -> list[dict]:
    with path.open() as handle:
        if path.suffix == ".jsonl":
            return [json.loads(line) for line in handle]
        return list(csv.DictReader(handle))


def predicted(ckpt: Path, out: Path, *overrides: str) -> list[dict]:
    """Run predict on `ckpt` as predict.py does, writing `out` (its suffix is the format)."""
    run = [f"ckpt_path={ckpt}", f"output={out}", f"format={out.suffix[1:]}"]
    run += ["trainer.accelerator=cpu", "trainer.enable_progress_bar=false"]
    cfg = compose_config([*run, f"paths.output_dir={out.parent}", *overrides], "predict")
    return read(predict(cfg, overrides))


def alone(dataset, index: int):
    """Item `index` as a batch of its own (no padding from other items)."""
    return pad_collate([dataset[index]])


@pytest.mark.parametrize("case", CASES)
def test_predictions_match_the_models_forward(case: str, tiny_config, tmp_path: Path) -> None:
    train(tiny_config(*CASES[case], "test=false"))
    ckpt = tmp_path / "checkpoints" / "last.ckpt"
    rows = predicted(ckpt, tmp_path / ("out.jsonl" if case == "many_to_many" else "out.csv"))
    task = PredictingTask.load_from_checkpoint(ckpt, map_location="cpu").eval()
    test = instantiate(training_config(str(ckpt)).data).splits.test
    assert sorted(int(r["index"]) for r in rows) == list(range(len(test)))  # each item once
    for row in rows:
        batch = alone(test, int(row["index"]))
        with torch.no_grad():
            if case == "seq2seq":
                (ids,) = task.model.heads["main"].predict(task.model.encode(batch), batch)
                assert row["output"] == " ".join(decode(ids, task.spec.target_vocab))
                continue
            outputs = task(batch)["main"][0]
        if case == "many_to_many":
            assert row["labels"] == [str(c) for c in outputs.argmax(-1).tolist()]
            assert len(row["labels"]) == batch.lengths[0]  # real steps only
            continue
        probabilities = outputs.exp() if case == "bagging" else outputs.softmax(-1)
        for c, p in enumerate(probabilities.tolist()):
            assert float(row[f"p_{c}"]) == pytest.approx(p, abs=1e-5)
        assert row["label"] == str(int(probabilities.argmax()))


def test_new_file_predictions_are_in_the_datas_units(tmp_path: Path) -> None:
    xs, _ = toy_sequences(40)
    values = [100.0 + 10 * float(x[:, 0].mean()) for x in xs]
    write_long_csv(tmp_path / "a.csv", xs, values)
    (tmp_path / "new.csv").write_text(NEW_ITEMS)
    data = ["data=files", f"data.train={tmp_path / 'a.csv'}", f"data.test={tmp_path / 'a.csv'}"]
    data += ["data.task=regress", "task.monitor=val/loss", "task.monitor_mode=min"]
    train(
        compose_config(
            [*RUN, *data, "model=lstm", "model.hidden_size=8", f"paths.output_dir={tmp_path}"]
        )
    )
    ckpt = tmp_path / "checkpoints" / "last.ckpt"
    new = ["data=files", f"data.predict={tmp_path / 'new.csv'}"]
    rows = predicted(ckpt, tmp_path / "p.csv", *new)
    task = PredictingTask.load_from_checkpoint(ckpt, map_location="cpu").eval()
    (mean,), (std,) = task.spec.target_mean, task.spec.target_std
    assert mean == pytest.approx(sum(values) / len(values), rel=0.05)
    data_cfg = training_config(str(ckpt)).data
    data_cfg.predict = str(tmp_path / "new.csv")
    items = instantiate(data_cfg).splits.predict
    assert sorted(int(r["index"]) for r in rows) == [0, 1]
    for row in rows:
        with torch.no_grad():
            expected = float(task(alone(items, int(row["index"])))["main"][0, 0]) * std + mean
        assert float(row["value"]) == pytest.approx(expected, abs=1e-4)
    script = [sys.executable, "predict.py", f"ckpt_path={ckpt}", *new, "format=jsonl"]
    script += [f"output={tmp_path / 's.jsonl'}", "trainer.enable_progress_bar=false"]
    script += [f"paths.log_dir={tmp_path}"]
    done = subprocess.run(script, cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    by_index = {int(r["index"]): r for r in rows}
    for record in read(tmp_path / "s.jsonl"):
        assert record["value"] == pytest.approx(float(by_index[record["index"]]["value"]), abs=1e-6)


def test_predict_refuses_another_data_source(tiny_config, tmp_path: Path) -> None:
    train(tiny_config("test=false"))
    ckpt = tmp_path / "checkpoints" / "last.ckpt"
    with pytest.raises(ValueError, match="trained on seqlab.data.sources.synthetic"):
        predicted(ckpt, tmp_path / "p.csv", "data=files", "data.predict=x.csv")


def test_two_processes_write_every_item_once(tiny_config, tmp_path: Path) -> None:
    train(tiny_config("test=false"))
    ckpt = tmp_path / "checkpoints" / "last.ckpt"
    single = {int(r["index"]): r for r in predicted(ckpt, tmp_path / "one.csv")}
    script = [sys.executable, "predict.py", f"ckpt_path={ckpt}", "trainer=ddp_cpu"]
    script += [f"output={tmp_path / 'two.csv'}", "trainer.enable_progress_bar=false"]
    script += [f"paths.log_dir={tmp_path}"]
    done = subprocess.run(script, cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = read(tmp_path / "two.csv")
    assert sorted(int(r["index"]) for r in rows) == sorted(single)  # once each, none lost
    for row in rows:
        assert row == single[int(row["index"])]
    assert not list(tmp_path.glob("two.csv.part*"))


def test_several_heads_get_one_column_group_each() -> None:
    spec = DataSpec(
        input_size=2,
        targets={
            "kind": {"num_classes": 2, "class_names": ("cat", "dog")},
            "level": {
                "num_classes": 0,
                "target_size": 1,
                "target_mean": (10.0,),
                "target_std": (2.0,),
            },
        },
    )
    heads = {
        "kind": SequenceHead(spec.target_spec("kind"), 4),
        "level": PerStepHead(spec.target_spec("level"), 4),
    }
    batch = pad_collate([(torch.ones(3, 2), {}, 5), (torch.ones(1, 2), {}, 7)])
    predictions = {
        "kind": torch.tensor([[0.25, 0.75], [0.9, 0.1]]),
        "level": torch.tensor([[[1.0], [0.0], [-1.0]], [[0.5], [0.0], [0.0]]]),
    }
    rows = records(heads, predictions, batch)
    assert rows[0] == {
        "index": 5,
        "kind/label": "dog",
        "kind/p_cat": 0.25,
        "kind/p_dog": 0.75,
        "level/values": [12.0, 10.0, 8.0],
    }
    assert rows[1]["kind/label"] == "cat" and rows[1]["level/values"] == [11.0]  # real steps only
