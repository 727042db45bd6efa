"""Data sources: real datasets shipped inside installed packages, and synthetic tasks."""

import importlib
from types import ModuleType


def require(package: str, install: str) -> ModuleType:
    """Import an optional dataset package or say exactly how to install it."""
    try:
        return importlib.import_module(package)
    except ImportError as error:
        raise ImportError(
            f"this dataset needs the package '{package}', which is not installed: {install}"
        ) from error
