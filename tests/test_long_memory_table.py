"""scripts/long_memory_table.py runs a (tiny) grid, resumes it, and tabulates over seeds."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "long_memory_table.py"


def load_script():
    spec = importlib.util.spec_from_file_location("long_memory_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tiny_copy_grid_runs_resumes_and_tabulates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    script = load_script()
    args = ["--tasks", "copy_memory", "--models", "lstm", "--inits", "default", "--lengths", "10"]
    args += ["--seeds", "1", "2", "--steps", "2", "--batch-size", "4", "--hidden", "4"]
    monkeypatch.setattr(sys, "argv", ["long_memory_table.py", *args, "--out", str(tmp_path)])
    script.main()
    rows = [json.loads(line) for line in (tmp_path / "runs.jsonl").read_text().splitlines()]
    assert [row["seed"] for row in rows] == [1, 2]
    assert all(0 <= row["test/recall_acc"] <= 1 and row["commit"] for row in rows)
    assert rows[0]["test/recall_acc_baseline"] == pytest.approx(1 / 8)
    capsys.readouterr()
    script.main()  # every run is in runs.jsonl already: nothing is trained again
    assert len((tmp_path / "runs.jsonl").read_text().splitlines()) == 2
    printed = capsys.readouterr().out
    mean = (rows[0]["test/recall_acc"] + rows[1]["test/recall_acc"]) / 2
    assert "| `model=lstm init=default` |" in printed and f"{mean:.3f} +/-" in printed
    assert "(n=2)" in printed and "| baseline | 0.125 +/- 0.000 (n=2) |" in printed
