"""The adding problem (Hochreiter & Schmidhuber 1997): sum two marked values of a long sequence.

Each step carries a value in [0, 1] and a marker; exactly two steps are marked, one in the
first half and one in the second half of the sequence's own real steps. The target is the sum
of the two marked values, read once at the end (many-to-one regression, MSE). A model must carry
the first marked value across at least half of the sequence, so the task measures memory.
"""

from functools import cached_property

import torch
from torch import Tensor

from seqlab.data.datamodule import SequenceDataModule, Splits
from seqlab.data.dataset import SequenceDataset
from seqlab.data.sources.long_memory import SPLITS, check_positive, split_generator, split_size
from seqlab.data.spec import DataSpec

CONSTANT_PREDICTION = 1.0  # the mean of the target: the best prediction that reads nothing


class AddingDataModule(SequenceDataModule):
    """Items: inputs [L, 2] (value, marker), target a scalar float (the sum).

    L = `length` for every item, or uniform in [`min_length`, `length`] when `min_length`
    is set. `baseline_mse[split]` is the MSE of always predicting 1.0 on that split (~0.167,
    the variance of a sum of two U[0, 1] values): a model below it has learnt to remember.
    """

    def __init__(
        self,
        length: int = 100,
        min_length: int | None = None,
        num_items: int = 4096,
        **loader_args,
    ) -> None:
        super().__init__(**loader_args)
        check_positive(length=length, num_items=num_items)
        shortest = length if min_length is None else min_length
        if not 2 <= shortest <= length:
            raise ValueError(
                "data.min_length must be in [2, data.length] (two marked steps, one per half), "
                f"got data.min_length={min_length} with data.length={length}"
            )
        self.length, self.min_length, self.num_items = length, shortest, num_items

    def load_splits(self) -> Splits:
        parts = {split: self._make(split) for split in SPLITS}
        return Splits(**parts, spec=DataSpec(input_size=2, num_classes=0, target_size=1))

    @cached_property
    def baseline_mse(self) -> dict[str, float]:
        """Split -> MSE of the constant prediction 1.0 on that split's targets."""
        found = {}
        for split in SPLITS:
            targets = torch.stack(getattr(self.splits, split).targets)
            found[split] = float((targets - CONSTANT_PREDICTION).pow(2).mean())
        return found

    def baselines(self) -> dict[str, float]:
        return {f"{split}/mse_baseline": value for split, value in self.baseline_mse.items()}

    def _make(self, split: str) -> SequenceDataset:
        generator = split_generator(self.seed, split)
        n = split_size(self.num_items, split)
        lengths = torch.randint(self.min_length, self.length + 1, (n,), generator=generator)
        inputs, targets = [], []
        for length in lengths.tolist():
            x, y = adding_item(length, generator)
            inputs.append(x)
            targets.append(y)
        return SequenceDataset(f"adding/{split}", inputs, targets)


def adding_item(length: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """One sequence [length, 2] and its target: marks one step per half of [0, length)."""
    half = length // 2
    values = torch.rand(length, generator=generator)
    first = int(torch.randint(0, half, (), generator=generator))
    second = int(torch.randint(half, length, (), generator=generator))
    markers = torch.zeros(length)
    markers[[first, second]] = 1.0
    return torch.stack([values, markers], dim=1), values[first] + values[second]
