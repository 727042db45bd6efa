"""Typed schemas generated from constructor signatures: every default is written once.

`schema(Class)` turns the keyword arguments of `Class` (and of the base classes it forwards
`**kwargs` to) into a dataclass that Hydra merges YAML onto, so a typo or a wrong type is
refused at compose time with the key named, and the default a user gets is the one in the
signature. Arguments the code supplies itself (sizes from the `DataSpec`, parent modules) are
left out with `skip`. Annotations OmegaConf cannot check become `Any`.
"""

import collections.abc
import dataclasses
import inspect
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any

from omegaconf import MISSING

PRIMITIVES = (int, float, bool, str)


def schema(
    target: Callable,
    skip: Iterable[str] = (),
    extra: dict[str, Any] | None = None,
    target_key: bool = True,
) -> type:
    """A dataclass with one field per keyword argument of `target` (a class or function).

    `extra` adds fields the signature does not have (for example `_partial_: True`);
    `target_key=False` leaves out `_target_` (settings read by seqlab, not instantiated).
    """
    fields: list[tuple[str, Any, dataclasses.Field]] = []
    if target_key:
        path = f"{target.__module__}.{target.__qualname__}"
        fields.append(("_target_", str, dataclasses.field(default=path)))
    for key, value in (extra or {}).items():
        fields.append((key, type(value), dataclasses.field(default=value)))
    for parameter, annotation in keyword_parameters(target, set(skip)):
        if foreign_settings(parameter.default):
            continue  # a library's settings object (e.g. a theme): left at its own default
        fields.append((parameter.name, checked_type(annotation), default_of(parameter)))
    return dataclasses.make_dataclass(f"{target.__name__}Schema", fields)


def keyword_parameters(target: Callable, skip: set[str]) -> list[tuple[inspect.Parameter, Any]]:
    """(parameter, resolved annotation) of `target`, following `**kwargs` into base classes."""
    found: dict[str, tuple[inspect.Parameter, Any]] = {}
    for function in signature_chain(target):
        hints = typing.get_type_hints(function)
        for parameter in inspect.signature(function).parameters.values():
            if parameter.name in skip or parameter.name in found or parameter.name == "self":
                continue
            if parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
                continue
            found[parameter.name] = (parameter, hints.get(parameter.name, Any))
    return list(found.values())


def signature_chain(target: Callable) -> list[Callable]:
    """`target` itself, or for a seqlab class each `__init__` along the MRO up to the first
    one that takes no `**kwargs` (seqlab's subclasses forward extra keywords to their base;
    other libraries' `**kwargs` go elsewhere, e.g. to a writer, and are not followed)."""
    if not isinstance(target, type):
        return [target]
    if not target.__module__.startswith("seqlab."):
        return [target.__init__]
    chain = []
    for cls in target.__mro__:
        init = cls.__dict__.get("__init__")
        if init is None:
            continue
        chain.append(init)
        kinds = {p.kind for p in inspect.signature(init).parameters.values()}
        if inspect.Parameter.VAR_KEYWORD not in kinds:
            break
    return chain


def checked_type(annotation: Any) -> Any:
    """The annotation if OmegaConf can check it, else `Any` (also for unions of several
    types: Hydra 1.3 cannot merge onto such nodes)."""
    if annotation in PRIMITIVES or annotation is Any:
        return annotation
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        if len(members) == 1 and members[0] in PRIMITIVES:
            return members[0] | None if type(None) in args else members[0]
        if len(members) == 1 and type(None) in args:
            inner = checked_type(members[0])
            return Any if inner is Any else inner | None
        return Any
    if origin in (list, tuple, collections.abc.Sequence) and args and args[0] in PRIMITIVES:
        return list[args[0]] if origin is not tuple or args[1:] in ((...,), ()) else Any
    if dataclasses.is_dataclass(annotation) and annotation.__module__.startswith("seqlab."):
        return annotation  # seqlab's settings dataclasses are OmegaConf-checkable
    if origin in (dict, collections.abc.Mapping) and len(args) == 2 and args[0] is str:
        value = checked_type(args[1])
        return Any if value is Any else dict[str, value]  # Any: a nested config may be typed
    return Any


def default_of(parameter: inspect.Parameter) -> dataclasses.Field:
    """The parameter's default as a dataclass field (mutable ones through a factory)."""
    value = parameter.default
    if value is inspect.Parameter.empty:
        return dataclasses.field(default=MISSING)
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, (list, dict)):
        return dataclasses.field(default_factory=lambda value=value: type(value)(value))
    if dataclasses.is_dataclass(value):
        return dataclasses.field(default_factory=lambda value=value: value)
    return dataclasses.field(default=value)


def foreign_settings(value: object) -> bool:
    """A dataclass instance from another library: not a value a config can state."""
    return dataclasses.is_dataclass(value) and not type(value).__module__.startswith("seqlab.")
