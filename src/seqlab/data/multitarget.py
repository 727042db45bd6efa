"""Datasets whose items carry several named targets (task=multitask)."""

from collections.abc import Mapping, Sequence

from torch import Tensor

from seqlab.data.dataset import SequenceDataset

Symbols = tuple[int, ...]


class MultiTargetDataset(SequenceDataset):
    """A `SequenceDataset` whose targets are dicts name -> target, the same names per item.

    `references[name][i]` lists every acceptable output of item i for a token-sequence
    target (as `MultiReferenceDataset.references` does for a single target); a seq2seq head
    looks its own target's list up by name.
    """

    def __init__(
        self,
        name: str,
        inputs: Sequence[Tensor],
        targets: Sequence[Mapping[str, Tensor]],
        references: Mapping[str, Sequence[Sequence[Symbols]]] | None = None,
    ) -> None:
        super().__init__(name, inputs, targets)
        if not isinstance(targets[0], Mapping):
            raise ValueError(f"{name}: items need named targets (a dict per item)")
        self.references = {key: list(refs) for key, refs in (references or {}).items()}
        for key, refs in self.references.items():
            if key not in targets[0]:
                raise ValueError(f"{name}: references for {key!r}, which is not a target")
            if len(refs) != len(inputs):
                raise ValueError(
                    f"{name}: {len(inputs)} inputs but {len(refs)} references for {key!r}"
                )
