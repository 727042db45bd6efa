"""Datasets whose items may have several correct target sequences (e.g. pronunciations)."""

from collections.abc import Sequence

from torch import Tensor

from seqlab.data.dataset import SequenceDataset

Symbols = tuple[int, ...]


class MultiReferenceDataset(SequenceDataset):
    """A `SequenceDataset` whose item i also has `references[i]`: every acceptable target.

    The training target of item i is one of them (with `<eos>` appended); references hold
    symbol ids without `<eos>`. Metrics look them up by `Batch.indices`, so the collate
    function and `Batch` stay the same for every task. `keys[i]` names the item (the word).
    """

    def __init__(
        self,
        name: str,
        inputs: Sequence[Tensor],
        targets: Sequence[Tensor],
        references: Sequence[Sequence[Symbols]],
        keys: Sequence[str],
    ) -> None:
        super().__init__(name, inputs, targets)
        if not len(references) == len(keys) == len(inputs):
            raise ValueError(
                f"{name}: {len(inputs)} inputs, {len(references)} reference lists, {len(keys)} keys"
            )
        for index, refs in enumerate(references):
            if not refs or any(len(r) == 0 for r in refs):
                raise ValueError(f"{name}: item {index} ({keys[index]!r}) has an empty reference")
        self.references = [[tuple(r) for r in refs] for refs in references]
        self.keys = list(keys)
