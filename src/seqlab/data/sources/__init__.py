"""Data sources: real datasets shipped inside installed packages, and synthetic tasks."""

import importlib
import os
from pathlib import Path
from types import ModuleType

GIB = 2**30


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


def check_generated_size(source: str, bytes_per_step: int, **sizes: int) -> None:
    """Refuse a generated data set that cannot fit in memory, before allocating any of it.

    `sizes` are the data keys that set the size (num_items, min_length, max_length, ...);
    `bytes_per_step` is what one step of inputs and targets takes. The estimate covers the
    train split and the validation and test splits (a quarter of it each).
    """
    items = sizes["num_items"] + 2 * max(sizes["num_items"] // 4, 1)
    needed = items * (sizes["min_length"] + sizes["max_length"]) / 2 * bytes_per_step
    available = available_memory()
    if needed > available:
        named = ", ".join(f"data.{key}={value}" for key, value in sizes.items())
        raise MemoryError(
            f"data={source}: {named} ask for about {needed / GIB:.1f} GiB of generated "
            f"sequences, but {available / GIB:.1f} GiB of memory is available; lower "
            "data.num_items or data.max_length"
        )


def available_memory() -> int:
    """Bytes of memory available for new allocations (MemAvailable on Linux)."""
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
