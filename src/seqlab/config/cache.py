"""The generated schemas, cached as JSON so start-up composes and checks a config without
importing torch or Lightning (seconds on a small machine); heavy imports come after.

The schemas are still generated from the signatures (`seqlab.config.signature`): the cache
only remembers the result, keyed by a hash of seqlab's sources and the versions of the
libraries whose signatures are read. A key that does not match (an edited file, an upgrade)
regenerates and rewrites it. `SEQLAB_CACHE_DIR` (else `$XDG_CACHE_HOME/seqlab`, else
`~/.cache/seqlab`) says where; `SEQLAB_SCHEMA_CACHE=0` switches the cache off.
"""

import hashlib
import json
import os
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from seqlab.config.schema_json import describe, rebuild

SOURCES = Path(__file__).resolve().parents[1]  # src/seqlab
LIBRARIES = ("torch", "pytorch-lightning", "torchmetrics", "hydra-core", "omegaconf", "wandb")
Node = tuple[str | None, str]  # (config group or None, name) in Hydra's ConfigStore


def generated_schemas() -> dict[Node, type]:
    """Every schema the YAML files name, generated from signatures (imports the code)."""
    from seqlab.config.entry import eval_config, export_config, predict_config, train_config
    from seqlab.config.groups import option_schemas, task_schema

    nodes: dict[Node, type] = {
        (None, "train_schema"): train_config(),
        (None, "eval_schema"): eval_config(),
        (None, "predict_schema"): predict_config(),
        (None, "export_schema"): export_config(),
        ("schema", "task"): task_schema(),
    }
    for group, schemas in option_schemas().items():
        nodes.update({(group, name): node for name, node in schemas.items()})
    return nodes


def cache_key() -> str:
    """Hash of every seqlab source file (discovery finds new ones) and the library versions."""
    digest = hashlib.sha256(f"{sys.version_info[:2]}".encode())
    for path in sorted(SOURCES.rglob("*.py")):
        digest.update(str(path.relative_to(SOURCES)).encode() + b"\0" + path.read_bytes())
    for name in LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{name}=={version}".encode())
    return digest.hexdigest()


def cache_path() -> Path:
    base = os.environ.get("SEQLAB_CACHE_DIR")
    if base is None:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        base = str(Path(xdg) / "seqlab")
    return Path(base) / "schemas.json"


def cached_schemas() -> dict[Node, type]:
    """The schemas from the cache when its key matches; else generated and written."""
    if os.environ.get("SEQLAB_SCHEMA_CACHE") == "0":
        return generated_schemas()
    path, key = cache_path(), cache_key()
    stored = read(path)
    if stored is not None and stored.get("key") == key:
        return {(group, name): rebuild(spec) for group, name, spec in stored["nodes"]}
    nodes = generated_schemas()
    try:
        specs = [[group, name, describe(node)] for (group, name), node in nodes.items()]
    except TypeError:  # a default JSON cannot hold: run uncached rather than guess
        return nodes
    write(path, {"key": key, "nodes": specs})
    return nodes


def read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def write(path: Path, content: dict[str, Any]) -> None:
    """Atomic (rename), so parallel jobs starting at once never read half a file; a cache
    that cannot be written (read-only home) only costs the next start-up its speed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as f:
            json.dump(content, f)
        os.replace(f.name, path)
    except OSError:
        return
