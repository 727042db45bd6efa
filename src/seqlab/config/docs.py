"""docs/configuration.md, generated from the schemas: `python -m seqlab.config.docs`.

A test fails when the file is stale, so the reference always matches the code.
"""

import dataclasses
import inspect
from pathlib import Path

from omegaconf import MISSING

from seqlab.config.ensemble import EnsembleConfig
from seqlab.config.groups import (
    CALLBACKS,
    LOGGERS,
    init_schema,
    option_schemas,
    task_schema,
    trainer_schema,
)
from seqlab.config.regularizer import RegularizerConfig

PATH = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"
HEADER = """# Configuration reference

Generated from the typed schemas by `python -m seqlab.config.docs` (a test fails when it is
stale). Every key of a group is listed with its type and default; the default is the one in
the code's signature, and a YAML option states only what it changes. Override any key with
`group.key=value`; a typo or a wrong type is refused before anything is loaded.
"""


def type_name(kind: object) -> str:
    name = getattr(kind, "__name__", None) if isinstance(kind, type) else None
    return (name or str(kind)).replace("typing.", "").replace(" | ", " or ")


def default_text(field: dataclasses.Field) -> str:
    if field.default is not dataclasses.MISSING:
        value = field.default
    elif field.default_factory is not dataclasses.MISSING:
        value = field.default_factory()
    else:
        value = MISSING
    if dataclasses.is_dataclass(value):
        return "see below"
    return "required" if value == MISSING else f"`{value!r}`"


def table(schema: type, title: str, doc: str = "") -> list[str]:
    lines = [f"### {title}", ""]
    if doc:
        lines += [doc, ""]
    lines += ["| key | type | default |", "|---|---|---|"]
    nested = []
    for field in dataclasses.fields(schema):
        if field.name.startswith("_") and field.name != "_target_":
            continue
        lines.append(f"| `{field.name}` | {type_name(field.type)} | {default_text(field)} |")
        if dataclasses.is_dataclass(field.type):
            nested.append((field.name, field.type))
    lines.append("")
    for name, kind in nested:
        lines += table(kind, f"{title} / {name}")
    return lines


def summary(target: object) -> str:
    doc = inspect.getdoc(target) or ""
    return doc.split("\n\n")[0].replace("\n", " ")


def render() -> str:
    lines = [HEADER]
    for group, options in option_schemas().items():
        lines += [f"## {group.removeprefix('schema/')}", ""]
        for name, schema in options.items():
            target = dataclasses.fields(schema)[0].default
            lines += table(schema, f"{group.removeprefix('schema/')}: {name}", f"`{target}`")
    for title, schema in [
        ("task", task_schema()),
        ("init", init_schema()),
        ("ensemble", EnsembleConfig),
        ("trainer (pytorch_lightning.Trainer)", trainer_schema()),
    ]:
        lines += [f"## {title}", ""] + table(schema, title)
    lines += ["## regularizer", ""]
    for field in dataclasses.fields(RegularizerConfig):
        kind = [a for a in field.type.__args__ if a is not type(None)][0]
        lines += table(kind, f"regularizer.{field.name}", summary(kind))
    for group, classes in (("callbacks", CALLBACKS), ("logger", LOGGERS)):
        lines += [f"## {group}", ""]
        for name, cls in classes.items():
            lines += [f"- `{group}.{name}`: `{cls.__module__}.{cls.__qualname__}`. {summary(cls)}"]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    PATH.write_text(render())
    print(f"wrote {PATH}")
