"""Generated tasks: no files, any size, known answers. Used by tests and quick checks."""

import torch

from seqlab.data.datamodule import SequenceDataModule, Splits
from seqlab.data.dataset import SequenceDataset
from seqlab.data.sources import check_generated_size, check_length_range
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
        check_length_range(min_length, max_length)
        sizes = dict(num_items=num_items, min_length=min_length, max_length=max_length)
        step_bytes = 4 * input_size + (8 if per_step else 0)  # float32 features, int64 targets
        check_generated_size("synthetic", step_bytes, input_size=input_size, **sizes)
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
        inputs, targets = [], []
        for x, label in raised_channel_items(
            n, self.min_length, self.max_length, self.input_size, self.num_classes, generator
        ):
            inputs.append(x)
            per_step = x[:, : self.num_classes].argmax(dim=1)
            targets.append(per_step if self.per_step else torch.tensor(label))
        return SequenceDataset(f"synthetic/{split}", inputs, targets)


def raised_channel_items(
    n: int,
    min_length: int,
    max_length: int,
    input_size: int,
    num_labels: int,
    generator: torch.Generator,
) -> list[tuple[torch.Tensor, int]]:
    """`n` Gaussian sequences [T, input_size], each with channel `label` raised by 1."""
    lengths = torch.randint(min_length, max_length + 1, (n,), generator=generator)
    items = []
    for length in lengths.tolist():
        label = int(torch.randint(num_labels, (), generator=generator))
        x = torch.randn(length, input_size, generator=generator)
        x[:, label] += 1.0
        items.append((x, label))
    return items
