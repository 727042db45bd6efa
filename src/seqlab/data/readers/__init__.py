"""Readers of the user's own files (`data=files`).

Each reader turns one file into `Records`: raw sequences and raw targets, each with its place
in the file, so every later check names the file and the line, row or index at fault.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXTENSIONS = {
    ".ts": "ts",
    ".npz": "npz",
    ".pt": "pt",
    ".pth": "pt",
    ".csv": "csv",
    ".txt": "text",
    ".tsv": "text",
}
FORMATS = ("ts", "npz", "pt", "csv", "text")


@dataclass
class Records:
    """The items of one file, before any encoding.

    `inputs`: float arrays [T, D] (feature formats) or symbol lists (text). `targets`: one raw
    target per item (a label, a value, per-step labels or values, target symbols), or None when
    the file carries none (allowed for prediction files only). `where`: each item's place.
    """

    path: str
    inputs: list[Any]
    targets: list[Any] | None
    where: list[str]

    def place(self, index: int) -> str:
        """'<file>: <line/row/index>' of item `index`, for error messages."""
        return f"{self.path}: {self.where[index]}"


def detect_format(path: str) -> str:
    """The format a file's extension names, or an error listing the known extensions."""
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        known = ", ".join(EXTENSIONS)
        raise ValueError(
            f"{path}: cannot tell the format from the extension {suffix!r} (known: {known}); "
            f"set data.format to one of {', '.join(FORMATS)}"
        )
    return EXTENSIONS[suffix]
