"""Generated tasks: no files, any size, known answers. Used by tests and quick checks."""

import torch

from seqlab.data.dataset import SequenceDataset
from seqlab.data.sources.generated import GeneratedDataModule
from seqlab.data.spec import DataSpec


class SyntheticDataModule(GeneratedDataModule):
    """Many-to-one classification: the class is the feature channel with the largest mean.

    With `per_step`, a class per step instead (for task=many_to_many): the channel, among
    the first `num_classes`, with the largest value at that step. Lengths vary uniformly in
    [min_length, max_length], so every batch carries padding.
    """

    def __init__(
        self, input_size: int = 4, num_classes: int = 3, per_step: bool = False, **generated_args
    ) -> None:
        super().__init__(**generated_args)
        step_bytes = 4 * input_size + (8 if per_step else 0)  # float32 features, int64 targets
        self.check_size(step_bytes, input_size=input_size)
        if not 1 < num_classes <= input_size:
            raise ValueError(f"data.num_classes must be in [2, data.input_size], got {num_classes}")
        self.input_size, self.num_classes = input_size, num_classes
        self.per_step = per_step

    def data_spec(self) -> DataSpec:
        return DataSpec(input_size=self.input_size, num_classes=self.num_classes)

    def generate(
        self, split: str, lengths: list[int], generator: torch.Generator
    ) -> SequenceDataset:
        inputs, targets = [], []
        for x, label in raised_channel_items(lengths, self.input_size, self.num_classes, generator):
            inputs.append(x)
            per_step = x[:, : self.num_classes].argmax(dim=1)
            targets.append(per_step if self.per_step else torch.tensor(label))
        return SequenceDataset(f"synthetic/{split}", inputs, targets)


def raised_channel_items(
    lengths: list[int], input_size: int, num_labels: int, generator: torch.Generator
) -> list[tuple[torch.Tensor, int]]:
    """Gaussian sequences [T, input_size], one per length, each with channel `label` raised by 1."""
    items = []
    for length in lengths:
        label = int(torch.randint(num_labels, (), generator=generator))
        x = torch.randn(length, input_size, generator=generator)
        x[:, label] += 1.0
        items.append((x, label))
    return items
