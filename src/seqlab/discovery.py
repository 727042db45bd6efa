"""Registries by discovery: a new encoder, head or data source is one new file.

Every module of a package is imported and the concrete subclasses of a base class that it
defines are collected under the module's name, so the typed config schemas and the contract
test suite pick up a new file without a registration line anywhere else.
"""

import importlib
import inspect
import pkgutil
from functools import cache


@cache
def discover(package: str, base: type) -> dict[str, type]:
    """Module name -> the one subclass of `base` defined in that module of `package`."""
    found: dict[str, type] = {}
    root = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package}.{info.name}")
        defined = [
            value
            for value in vars(module).values()
            if inspect.isclass(value)
            and issubclass(value, base)
            and value is not base
            and value.__module__ == module.__name__
            and not inspect.isabstract(value)
            and not value.__dict__.get("abstract", False)
        ]
        if len(defined) > 1:
            names = sorted(cls.__name__ for cls in defined)
            raise TypeError(
                f"{module.__name__} defines several {base.__name__}s {names}: one per file"
            )
        if defined:
            found[info.name] = defined[0]
    return found
