"""The copy-memory task (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016): recall k symbols
after a delay of T steps.

Layout of one sequence of T + 2k steps (inputs one-hot over n_symbols + 2 channels):
k random symbols, T - 1 blanks, one delimiter, k blanks. Targets are per step (many-to-many
classification over blank + n_symbols classes): blank for the first T + k steps, then the k
symbols in their order. Every step is scored, as in Arjovsky et al.: predicting blank is
learnt at once, so the loss left is that of the recall steps, and the memoryless baseline
(blank, then a uniform guess) has cross-entropy k log(n_symbols) / (T + 2k) per step. The
metric of interest is the accuracy on the k recall steps only: `recall_accuracy`.
"""

import math

import torch
from torch import Tensor

from seqlab.data.datamodule import SequenceDataModule, Splits
from seqlab.data.dataset import SequenceDataset
from seqlab.data.sources.long_memory import SPLITS, check_positive, split_generator, split_size
from seqlab.data.spec import DataSpec

BLANK = 0  # target class (and input channel) of a step with nothing to recall


class CopyMemoryDataModule(SequenceDataModule):
    """Items: inputs [T + 2k, n_symbols + 2] one-hot, targets [T + 2k] long (see module doc).

    Input channels: 0 blank, 1..n_symbols the symbols, n_symbols + 1 the delimiter. Target
    classes: 0 blank, 1..n_symbols. `baseline_ce` is the memoryless cross-entropy per step.
    """

    def __init__(
        self,
        length: int = 50,
        num_symbols: int = 8,
        num_recall: int = 10,
        num_items: int = 4096,
        **loader_args,
    ) -> None:
        super().__init__(**loader_args)
        check_positive(length=length, num_recall=num_recall, num_items=num_items)
        if num_symbols < 2:
            raise ValueError(f"data.num_symbols must be >= 2, got {num_symbols}")
        if num_recall > length:
            raise ValueError(
                f"data.num_recall={num_recall} must be <= data.length={length}: the delay "
                "should be at least as long as the string to remember"
            )
        self.length, self.num_symbols = length, num_symbols
        self.num_recall, self.num_items = num_recall, num_items
        steps = length + 2 * num_recall
        self.baseline_ce = num_recall * math.log(num_symbols) / steps

    def load_splits(self) -> Splits:
        parts = {split: self._make(split) for split in SPLITS}
        spec = DataSpec(input_size=self.num_symbols + 2, num_classes=self.num_symbols + 1)
        return Splits(**parts, spec=spec)

    def baselines(self) -> dict[str, float]:
        return {f"{split}/ce_baseline": self.baseline_ce for split in SPLITS}

    def _make(self, split: str) -> SequenceDataset:
        generator = split_generator(self.seed, split)
        n = split_size(self.num_items, split)
        k, steps = self.num_recall, self.length + 2 * self.num_recall
        symbols = torch.randint(1, self.num_symbols + 1, (n, k), generator=generator)
        channels = torch.full((n, steps), BLANK)
        channels[:, :k] = symbols
        channels[:, self.length + k - 1] = self.num_symbols + 1
        inputs = torch.nn.functional.one_hot(channels, self.num_symbols + 2).float()
        targets = torch.full((n, steps), BLANK)
        targets[:, -k:] = symbols
        return SequenceDataset(f"copy_memory/{split}", list(inputs), list(targets))


def recall_accuracy(logits: Tensor, targets: Tensor, num_recall: int) -> float:
    """Share of the last `num_recall` steps whose arg-max class is the target symbol.

    `logits` [B, T, C] and `targets` [B, T] of equal-length sequences (as this task makes).
    """
    predicted = logits[:, -num_recall:].argmax(-1)
    return float((predicted == targets[:, -num_recall:]).float().mean())
