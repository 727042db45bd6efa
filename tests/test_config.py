"""Every config composes; typos and wrong types are rejected naming the key."""

from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf.errors import ConfigKeyError, ValidationError

from seqlab.train import CONFIG_DIR
from tests.conftest import compose_config
from tests.multitask_helpers import HEADS

# `head` options are placed under a task (head@task.heads.<target>), not selected alone
GROUPS = sorted(
    d.name for d in Path(CONFIG_DIR).iterdir() if d.is_dir() and d.name not in ("hydra", "head")
)
# options that need more than themselves: task=multitask takes its heads from the experiment
NEEDS = {"task=multitask": ["data=synthetic_multitask", *HEADS]}


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (Path(CONFIG_DIR) / group).glob("*.yaml"))


@pytest.mark.parametrize(
    "override", [f"{g}={o}" for g in GROUPS for o in options(g)], ids=lambda s: s
)
def test_every_option_composes(override: str) -> None:
    cfg = compose_config([override, *NEEDS.get(override, []), "paths.output_dir=/tmp/x"])
    assert cfg.data._target_ and cfg.model._target_ and cfg.task.heads is not None
    assert all(head._target_.startswith("seqlab.heads.") for head in cfg.task.heads.values())


@pytest.mark.parametrize("option", options("head"))
def test_every_head_option_composes_under_a_task(option: str) -> None:
    cfg = compose_config([f"head@task.heads.main={option}", "paths.output_dir=/tmp/x"])
    assert cfg.task.heads.main._target_.startswith(f"seqlab.heads.{option}.")
    assert cfg.task.heads.main.weight == 1.0
    extra = compose_config(["task=multitask", f"+head@task.heads.extra={option}"])
    assert list(extra.task.heads) == ["extra"]


def test_required_groups_exist() -> None:
    required = {"model", "task", "data", "regularizer", "init", "trainer", "logger"}
    required |= {"callbacks", "paths", "hydra", "debug", "experiment"}
    present = {d.name for d in Path(CONFIG_DIR).iterdir() if d.is_dir()}
    assert required <= present


def test_every_yaml_key_has_a_comment() -> None:
    for path in Path(CONFIG_DIR).rglob("*.yaml"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            stripped = line.strip()
            if not stripped or stripped.startswith(("#", "- ")) or stripped == "defaults:":
                continue
            assert " # " in line, f"{path.relative_to(CONFIG_DIR)}:{number} has no comment"


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("model.hiden_size=3", "hiden_size"),
        ("trainer.max_epochs=abc", "trainer.max_epochs"),
        ("data.batch_size=big", "data.batch_size"),
        ("regularizer=dropout regularizer.dropout.p=x", "regularizer.dropout.p"),
        ("seed=one", "seed"),
    ],
)
def test_bad_override_names_the_key(override: str, key: str) -> None:
    with pytest.raises((ConfigCompositionException, ValidationError, ConfigKeyError)) as error:
        compose_config(override.split())
    assert key in str(error.value) or key in str(error.value.__cause__)


def test_unknown_group_option_is_rejected() -> None:
    with pytest.raises(ConfigCompositionException, match="model"):
        compose_config(["model=lstn"])


def test_dropout_regularizer_is_typed() -> None:
    cfg = compose_config(["regularizer=dropout"])
    assert cfg.regularizer.dropout.p == pytest.approx(0.2)
    assert compose_config([]).regularizer.dropout is None
