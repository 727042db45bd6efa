"""What the generated tasks of random lengths share: their sizes, the checks of those sizes,
and one seeded generator that draws the splits in turn."""

import torch

from seqlab.data.datamodule import SequenceDataModule, Splits
from seqlab.data.dataset import SequenceDataset
from seqlab.data.sources import check_generated_size, check_length_range
from seqlab.data.sources.long_memory import SPLITS, split_size
from seqlab.data.spec import DataSpec


class GeneratedDataModule(SequenceDataModule):
    """`num_items` training sequences, a quarter as many (at least one) for validation and for
    test, lengths uniform in [min_length, max_length], all drawn from one generator seeded by
    `seed`: the same data for the same settings, with no files.

    Subclasses check their own settings, call `check_size` with what one step takes, and
    implement `generate` (one split's items, one per drawn length) and `data_spec`.
    """

    abstract = True  # not a data source itself (seqlab.discovery)

    def __init__(
        self, num_items: int = 256, min_length: int = 3, max_length: int = 20, **loader_args
    ) -> None:
        super().__init__(**loader_args)
        if num_items <= 0:
            raise ValueError(f"data.num_items must be > 0, got {num_items}")
        check_length_range(min_length, max_length)
        self.num_items, self.min_length, self.max_length = num_items, min_length, max_length

    @property
    def source(self) -> str:
        """The data option's name: the module's (seqlab.discovery)."""
        return type(self).__module__.rsplit(".", 1)[-1]

    def check_size(self, bytes_per_step: int, **sizes: int) -> None:
        """Refuse, at construction, data that cannot fit in memory; `sizes` are the further
        data keys that set `bytes_per_step`, named in the error."""
        check_generated_size(
            self.source,
            bytes_per_step,
            **sizes,
            num_items=self.num_items,
            min_length=self.min_length,
            max_length=self.max_length,
        )

    def load_splits(self) -> Splits:
        generator = torch.Generator().manual_seed(self.seed)
        parts = []
        for split in SPLITS:
            n = split_size(self.num_items, split)
            lengths = torch.randint(self.min_length, self.max_length + 1, (n,), generator=generator)
            parts.append(self.generate(split, lengths.tolist(), generator))
        return Splits(*parts, spec=self.data_spec())

    def generate(
        self, split: str, lengths: list[int], generator: torch.Generator
    ) -> SequenceDataset:
        """The items of `split`, one per length, drawn from `generator`."""
        raise NotImplementedError

    def data_spec(self) -> DataSpec:
        """The dimensions of the generated data."""
        raise NotImplementedError
