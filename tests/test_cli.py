"""The root scripts compose and check their config before importing torch or Lightning:
`--help` answers from conf/ and the schema cache, a typo is refused with the key named."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from seqlab.config.cache import cached_schemas

ROOT = Path(__file__).resolve().parents[1]
# Runs a root script as `python <script>` does, then says which heavy modules it imported.
PROBE = (
    "import atexit, runpy, sys\n"
    "atexit.register(lambda: print('heavy:', sorted({'torch', 'lightning', 'pytorch_lightning'}"
    " & set(sys.modules))))\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)
TYPOS = {
    "train.py": ["trainer.max_epocs=1"],
    "eval.py": ["ckpt_path=last.ckpt", "trainer.max_epocs=1"],
    "predict.py": ["ckpt_path=last.ckpt", "trainer.max_epocs=1"],
    "export.py": ["ckpt_path=last.ckpt", "formt=onnx"],
}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A warm schema cache for every run of this file (a cold one imports torch to fill it)."""
    cache_dir = str(tmp_path_factory.mktemp("schema_cache"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEQLAB_CACHE_DIR", cache_dir)
        patch.delenv("SEQLAB_SCHEMA_CACHE", raising=False)
        cached_schemas()
    return {**os.environ, "PYTHONPATH": str(ROOT / "src"), "SEQLAB_CACHE_DIR": cache_dir}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", PROBE, *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)


def test_help_lists_the_groups_and_the_composed_config(env: dict[str, str]) -> None:
    result = run(env, "train.py", "--help", "model=gru")
    assert result.returncode == 0, result.stderr[-2000:]
    groups = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    assert {"gru", "lstm", "ligru"} <= set(groups["model"].split(", "))
    assert "cell: gru" in result.stdout, "the overrides after --help are composed"
    assert "heavy: []" in result.stdout


@pytest.mark.parametrize(
    ("script", "groups"),
    [("eval.py", {"logger", "trainer"}), ("predict.py", {"data", "trainer"}), ("export.py", set())],
)
def test_help_of_a_checkpoint_script_shows_its_own_config(
    env: dict[str, str], script: str, groups: set[str]
) -> None:
    result = run(env, script, "--help", "ckpt_path=last.ckpt")
    assert result.returncode == 0, result.stderr[-2000:]
    listed = result.stdout.split("(group=option) ==")[1].split("== Config ==")[0]
    assert {line.split(":")[0] for line in listed.split("\n") if line} == groups | {"paths"}
    assert "ckpt_path: last.ckpt" in result.stdout
    assert "heavy: []" in result.stdout


@pytest.mark.parametrize("script", TYPOS)
def test_a_typo_is_refused_with_the_key_named_before_torch_loads(
    env: dict[str, str], script: str
) -> None:
    result = run(env, script, *TYPOS[script])
    assert result.returncode == 1, result.stdout[-2000:]
    assert TYPOS[script][-1].split("=")[0] in result.stderr
    assert "heavy: []" in result.stdout
