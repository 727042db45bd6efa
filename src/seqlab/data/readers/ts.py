"""UEA/UCR `.ts` files, parsed by aeon; errors name the file and the line of the case."""

import re
from pathlib import Path

import numpy as np

from seqlab.data.readers import Records
from seqlab.data.sources import require


def data_lines(path: str) -> list[int]:
    """Line numbers (1-based) of the cases, in file order: the non-blank lines after `@data`."""
    numbers, in_data = [], False
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            if in_data:
                numbers.append(number)
            elif text.lower().startswith("@data"):
                in_data = True
    return numbers


def read_ts(path: str) -> Records:
    """Series as [T, D] arrays (variable length allowed) and their labels (None if unlabelled)."""
    require("aeon", "pip install aeon==1.6.0")
    from aeon.datasets import load_from_ts_file

    lines = data_lines(path)
    try:
        series, labels = load_from_ts_file(path)
    except (OSError, ValueError, IndexError) as error:
        raise ValueError(f"{path}: {_locate(str(error), path, lines)}") from error
    where = [f"case {i + 1} (line {n})" for i, n in enumerate(lines)]
    inputs = [np.asarray(x, dtype=np.float64).T for x in series]
    targets = [v.item() if isinstance(v, np.generic) else v for v in labels]
    return Records(path, inputs, targets or None, where[: len(inputs)])


def _locate(message: str, path: str, lines: list[int]) -> str:
    """aeon's message with the line it is about: from its case number, or the first line
    holding a value that is not a number (aeon does not say where those are)."""
    case = re.search(r"case (\d+)", message)
    if case and 0 < int(case.group(1)) <= len(lines):
        return f"line {lines[int(case.group(1)) - 1]}: {message}"
    text = Path(path).read_text(encoding="utf-8").splitlines()
    for number in lines:
        for channel in text[number - 1].strip().split(":")[:-1]:
            if not all(_is_value(v) for v in channel.split(",")):
                return f"line {number}: channel {channel!r} is not a list of numbers ({message})"
    return message


def _is_value(text: str) -> bool:
    if text.strip() == "?":
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True
