"""Symbol <-> id maps for token inputs and targets; id 0 is always padding."""

from collections.abc import Iterable, Sequence

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"


class Vocabulary:
    """Ordered symbols with the specials first: `<pad>`=0, `<bos>`=1, `<eos>`=2.

    Padding is id 0 everywhere, so zero-padding by `pad_collate` is padding by this map too.
    With `unknown`, `<unk>`=3 follows and `encode` maps every symbol outside the map to it;
    without, an unknown symbol is an error (the policy is the caller's explicit choice).
    """

    pad_id, bos_id, eos_id, unk_id = 0, 1, 2, 3

    def __init__(self, symbols: Iterable[str], unknown: bool = False) -> None:
        specials = (PAD, BOS, EOS, UNK) if unknown else (PAD, BOS, EOS)
        self.symbols: tuple[str, ...] = specials + tuple(sorted(set(symbols) - set(specials)))
        self.index = {s: i for i, s in enumerate(self.symbols)}
        self.unknown = unknown

    def __len__(self) -> int:
        return len(self.symbols)

    def encode(self, symbols: Sequence[str], where: str = "") -> list[int]:
        """Ids of `symbols`; an unknown symbol is `<unk>`, or an error naming `where` it came
        from when the map has no `<unk>`."""
        if self.unknown:
            return [self.index.get(s, self.unk_id) for s in symbols]
        try:
            return [self.index[s] for s in symbols]
        except KeyError as error:
            raise ValueError(
                f"{where}: symbol {error.args[0]!r} is not in the vocabulary"
            ) from None

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Symbols of `ids`, stopping at the first `<eos>` and skipping padding and `<bos>`."""
        return decode(ids, self.symbols)


def decode(ids: Iterable[int], symbols: Sequence[str]) -> list[str]:
    """Symbols of `ids` in the map `symbols` (a `DataSpec` vocabulary), up to `<eos>`."""
    out = []
    for i in ids:
        if i == Vocabulary.eos_id:
            break
        if i not in (Vocabulary.pad_id, Vocabulary.bos_id):
            out.append(symbols[i])
    return out
