"""`python train.py --help` answers from conf/ and the schema cache, without Hydra's help."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_help_lists_the_groups_and_the_composed_config(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "SEQLAB_CACHE_DIR": str(tmp_path)}
    command = [sys.executable, "train.py", "--help", "model=gru"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    groups = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    assert {"gru", "lstm", "ligru"} <= set(groups["model"].split(", "))
    assert "cell: gru" in result.stdout, "the overrides after --help are composed"
