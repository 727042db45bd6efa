"""Plain-text token files: one sequence per line, or `source<TAB>target` pairs (seq2seq)."""

from pathlib import Path

from seqlab.data.readers import Records

TOKENIZERS = ("chars", "words")


def split_symbols(text: str, tokens: str) -> list[str]:
    """`chars`: every character is a symbol; `words`: whitespace-separated symbols."""
    return list(text) if tokens == "chars" else text.split()


def read_lines(
    path: str, pairs: bool, tokens: str, target_tokens: str, sources_only: bool = False
) -> Records:
    """Symbol lists per line (`pairs`: sources and targets). `sources_only` (prediction files)
    accepts pair-task lines without a target; their targets are then None."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error})") from error
    inputs, targets, where = [], [], []
    for number, line in enumerate(lines, 1):
        if not line:
            raise ValueError(f"{path}: line {number} is empty")
        source, tab, target = line.partition("\t")
        if pairs and not tab and not sources_only:
            raise ValueError(f"{path}: line {number} has no tab between source and target")
        if pairs and "\t" in target:
            raise ValueError(f"{path}: line {number} has more than one tab")
        text = source if pairs else line
        symbols = split_symbols(text, tokens)
        if not symbols:
            raise ValueError(f"{path}: line {number} is an empty sequence")
        inputs.append(symbols)
        where.append(f"line {number}")
        if pairs and tab:
            target_symbols = split_symbols(target, target_tokens)
            if not target_symbols:
                raise ValueError(f"{path}: line {number} has an empty target")
            targets.append(target_symbols)
    if not inputs:
        raise ValueError(f"{path}: the file has no lines")
    if pairs and targets and len(targets) != len(inputs):
        raise ValueError(f"{path}: some lines have a target and some do not")
    return Records(path, inputs, targets if pairs and targets else None, where)
