"""Schemas (dataclasses) to JSON and back: field names, checkable types, defaults.

Only what OmegaConf checks survives the trip, and that is all a schema holds: the types
`signature.checked_type` produces (int, float, bool, str, Any, optional, list[...],
dict[str, ...], nested schemas) and defaults that are plain values, MISSING or instances of
nested schemas. Anything else raises `TypeError` (the caller then skips the cache).
"""

import copy
import dataclasses
import types
import typing
from typing import Any

PRIMITIVES: dict[str, type] = {"int": int, "float": float, "bool": bool, "str": str}
PLAIN = (type(None), bool, int, float, str)


def describe(schema: type) -> dict[str, Any]:
    """JSON-ready description of a schema dataclass."""
    fields = []
    for f in dataclasses.fields(schema):
        kind = describe_type(f.type)
        if f.default is not dataclasses.MISSING:
            default = {"value": value(f.default, kind)}
        elif f.default_factory is not dataclasses.MISSING:
            default = {"factory": value(f.default_factory(), kind)}
        else:
            raise TypeError(f"{schema.__name__}.{f.name} has no default")
        fields.append([f.name, kind, default])
    return {"name": schema.__name__, "fields": fields}


def describe_type(kind: Any) -> Any:
    if kind is Any:
        return "any"
    for name, primitive in PRIMITIVES.items():
        if kind is primitive:
            return name
    if dataclasses.is_dataclass(kind):
        return {"schema": describe(kind)}
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        return {"optional": describe_type(next(a for a in args if a is not type(None)))}
    if origin is list and len(args) == 1:
        return {"list": describe_type(args[0])}
    if origin is dict and len(args) == 2 and args[0] is str:
        return {"dict": describe_type(args[1])}
    raise TypeError(f"no JSON form for the schema type {kind!r}")


def value(default: Any, kind: Any) -> Any:
    """A default as JSON; a nested schema's instance as {"instance": {field: value}}."""
    if dataclasses.is_dataclass(default) and not isinstance(default, type):
        spec = nested_schema(kind)
        kinds = {name: field_kind for name, field_kind, _ in spec["fields"]}
        return {"instance": {f: value(getattr(default, f), kinds[f]) for f in kinds}}
    if isinstance(default, PLAIN):
        return default
    if isinstance(default, (list, tuple)):
        return [value(item, "any") for item in default]
    if isinstance(default, dict) and all(isinstance(k, str) for k in default):
        return {"dict": {k: value(v, "any") for k, v in default.items()}}
    raise TypeError(f"no JSON form for the default {default!r}")


def nested_schema(kind: Any) -> dict[str, Any]:
    while isinstance(kind, dict) and "optional" in kind:
        kind = kind["optional"]
    if not (isinstance(kind, dict) and "schema" in kind):
        raise TypeError(f"a dataclass default for a field of type {kind!r}")
    return kind["schema"]


def rebuild(spec: dict[str, Any]) -> type:
    """The dataclass `describe` described (same name, fields, types and defaults)."""
    fields = []
    for name, kind, default in spec["fields"]:
        annotation = rebuild_type(kind)
        if "value" in default:
            made = dataclasses.field(default=restore(default["value"], annotation))
        else:
            restored = restore(default["factory"], annotation)
            made = dataclasses.field(default_factory=lambda v=restored: copy.deepcopy(v))
        fields.append((name, annotation, made))
    return dataclasses.make_dataclass(spec["name"], fields)


def rebuild_type(kind: Any) -> Any:
    if kind == "any":
        return Any
    if isinstance(kind, str):
        return PRIMITIVES[kind]
    if "schema" in kind:
        return rebuild(kind["schema"])
    if "optional" in kind:
        return rebuild_type(kind["optional"]) | None
    if "list" in kind:
        return list[rebuild_type(kind["list"])]
    return dict[str, rebuild_type(kind["dict"])]


def restore(encoded: Any, annotation: Any) -> Any:
    """A default from its JSON form; instances of nested schemas as their rebuilt class."""
    if isinstance(encoded, list):
        return [restore(item, Any) for item in encoded]
    if not isinstance(encoded, dict):
        return encoded
    if "dict" in encoded:
        return {k: restore(v, Any) for k, v in encoded["dict"].items()}
    cls = next(a for a in (annotation, *typing.get_args(annotation)) if dataclasses.is_dataclass(a))
    kinds = {f.name: f.type for f in dataclasses.fields(cls)}
    return cls(**{k: restore(v, kinds[k]) for k, v in encoded["instance"].items()})
