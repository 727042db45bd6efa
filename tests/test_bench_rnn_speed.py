"""bench/rnn_speed.py runs end to end at tiny shapes and writes the documented JSON."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_rnn_speed_writes_its_json(tmp_path: Path) -> None:
    out = tmp_path / "speed.json"
    tiny = ["--batch", "2", "--steps", "5", "--input-size", "3", "--hidden-size", "4"]
    command = [sys.executable, "bench/rnn_speed.py", *tiny, "--warmup", "0", "--runs", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(
        [*command, "--json", str(out)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    payload = json.loads(out.read_text())
    encoders = payload["encoders"]
    assert {"torch.nn.GRU", "seqlab gru", "seqlab lstm", "seqlab rnn", "seqlab ligru"} <= set(
        encoders
    )
    assert encoders["torch.nn.GRU"]["ratio_to_gru"] == 1.0
    assert all(e["ms"] > 0 for e in encoders.values())
    has_speechbrain = "speechbrain ligru" in encoders
    assert (payload["ligru_speedup_vs_speechbrain"] is not None) == has_speechbrain
    assert "speechbrain ligru" in result.stdout
