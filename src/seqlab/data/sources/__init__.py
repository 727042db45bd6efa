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


def check_length_range(min_length: int, max_length: int) -> None:
    """Reject a window/sequence length range that is empty or starts at zero."""
    if not 0 < min_length <= max_length:
        raise ValueError(
            f"data.min_length and data.max_length need 0 < min <= max, "
            f"got {min_length} and {max_length}"
        )
