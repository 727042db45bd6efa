"""The schema cache: what start-up reads equals what the signatures generate, a stale cache
is regenerated, and a warm cache composes and refuses a typo without importing torch."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from seqlab.config import cache
from seqlab.config.schema_json import describe, rebuild

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SEQLAB_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("SEQLAB_SCHEMA_CACHE", raising=False)
    return tmp_path


def test_cached_schemas_equal_the_generated_ones(cache_dir: Path) -> None:
    generated = cache.generated_schemas()
    cache.cached_schemas()  # a miss: generates and writes
    assert (cache_dir / "schemas.json").is_file()
    cached = cache.cached_schemas()  # a hit: rebuilt from JSON
    assert cached.keys() == generated.keys()
    for node, schema in generated.items():
        assert cached[node] is not schema, "read from the file, not the generated class"
        assert describe(cached[node]) == describe(schema), node
        ours, theirs = OmegaConf.structured(cached[node]), OmegaConf.structured(schema)
        assert OmegaConf.to_yaml(ours) == OmegaConf.to_yaml(theirs), node


def test_a_rebuilt_schema_still_refuses_wrong_keys_and_types() -> None:
    rnn = rebuild(describe(cache.generated_schemas()[("schema/model", "rnn")]))
    node = OmegaConf.structured(rnn)
    with pytest.raises(Exception, match="hiden_size"):
        OmegaConf.merge(node, {"hiden_size": 3})
    with pytest.raises(Exception, match="hidden_size"):
        OmegaConf.merge(node, {"hidden_size": "big"})


def test_an_edited_source_makes_the_cache_stale_and_it_is_regenerated(
    cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = tmp_path / "src"
    sources.mkdir()
    (sources / "encoder.py").write_text("def f(hidden_size: int = 8): ...\n")
    monkeypatch.setattr(cache, "SOURCES", sources)
    calls = []
    generate = cache.generated_schemas
    monkeypatch.setattr(cache, "generated_schemas", lambda: calls.append(1) or generate())
    cache.cached_schemas()
    cache.cached_schemas()
    assert len(calls) == 1, "the second start-up reads the cache"
    first_key = json.loads((cache_dir / "schemas.json").read_text())["key"]
    (sources / "encoder.py").write_text("def f(hidden_size: int = 16): ...\n")
    cache.cached_schemas()
    assert len(calls) == 2, "an edited source regenerates"
    assert json.loads((cache_dir / "schemas.json").read_text())["key"] != first_key


def test_a_corrupt_cache_file_is_regenerated(cache_dir: Path) -> None:
    (cache_dir / "schemas.json").write_text('{"key": ')
    assert cache.cached_schemas().keys() == cache.generated_schemas().keys()
    assert json.loads((cache_dir / "schemas.json").read_text())["key"] == cache.cache_key()


def test_a_typo_is_refused_from_a_warm_cache_before_torch_loads(cache_dir: Path) -> None:
    cache.cached_schemas()  # warm
    probe = (
        "import sys\n"
        "from seqlab import cli\n"
        "from hydra import compose, initialize_config_dir\n"
        "with initialize_config_dir(config_dir=cli.CONFIG_DIR, version_base='1.3'):\n"
        "    try:\n"
        "        compose('train', ['model.hiden_size=3'])\n"
        "    except Exception as error:\n"
        "        print('refused:', error)\n"
        "print('heavy:', sorted({'torch', 'pytorch_lightning'} & set(sys.modules)))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "refused:" in result.stdout and "model.hiden_size" in result.stdout
    assert "heavy: []" in result.stdout
