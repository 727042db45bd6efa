"""Generated tasks: no files, any size, known answers. Used by tests and quick checks."""

import torch

from seqlab.data.datamodule import SequenceDataModule, Splits
from seqlab.data.dataset import SequenceDataset
from seqlab.data.spec import DataSpec


class SyntheticDataModule(SequenceDataModule):
    """Many-to-one classification: the class is the feature channel with the largest mean.

    With `per_step`, a class per step instead (for task=many_to_many): the channel, among
    the first `num_classes`, with the largest value at that step. Lengths vary uniformly in
    [min_length, max_length], so every batch carries padding.
    """

    def __init__(
        self,
        num_items: int = 256,
        min_length: int = 3,
        max_length: int = 20,
        input_size: int = 4,
        num_classes: int = 3,
        per_step: bool = False,
        **loader_args,
    ) -> None:
        super().__init__(**loader_args)
        if not 0 < min_length <= max_length:
            raise ValueError(
                f"data.min_length and data.max_length need 0 < min <= max, "
                f"got {min_length} and {max_length}"
            )
        if not 1 < num_classes <= input_size:
            raise ValueError(f"data.num_classes must be in [2, data.input_size], got {num_classes}")
        self.num_items = num_items
        self.min_length, self.max_length = min_length, max_length
        self.input_size, self.num_classes = input_size, num_classes
        self.per_step = per_step

    def load_splits(self) -> Splits:
        generator = torch.Generator().manual_seed(self.seed)
        parts = [self._make(name, generator) for name in ("train", "val", "test")]
        spec = DataSpec(input_size=self.input_size, num_classes=self.num_classes)
        return Splits(*parts, spec=spec)

    def _make(self, split: str, generator: torch.Generator) -> SequenceDataset:
        n = self.num_items if split == "train" else max(self.num_items // 4, 1)
        lengths = torch.randint(self.min_length, self.max_length + 1, (n,), generator=generator)
        inputs, targets = [], []
        for length in lengths.tolist():
            label = int(torch.randint(self.num_classes, (), generator=generator))
            x = torch.randn(length, self.input_size, generator=generator)
            x[:, label] += 1.0
            inputs.append(x)
            per_step = x[:, : self.num_classes].argmax(dim=1)
            targets.append(per_step if self.per_step else torch.tensor(label))
        return SequenceDataset(f"synthetic/{split}", inputs, targets)
