"""Generated sequence-to-sequence tasks (copy, reverse) with known answers, for tests."""

import string

import torch

from seqlab.data.dataset import SequenceDataset
from seqlab.data.sources.generated import GeneratedDataModule
from seqlab.data.spec import DataSpec
from seqlab.data.vocab import Vocabulary

TASKS = ("copy", "reverse")


class SyntheticSeq2SeqDataModule(GeneratedDataModule):
    """Random strings over `alphabet_size` letters; the target is the string or its reverse.

    Targets end with `<eos>`; inputs and targets share one vocabulary.
    """

    def __init__(
        self,
        task: str = "copy",
        num_items: int = 512,
        min_length: int = 2,
        max_length: int = 8,
        alphabet_size: int = 6,
        **loader_args,
    ) -> None:
        sizes = dict(num_items=num_items, min_length=min_length, max_length=max_length)
        super().__init__(**sizes, **loader_args)  # shorter strings than the other generated tasks
        if task not in TASKS:
            raise ValueError(f"data.task must be one of {TASKS}, got {task!r}")
        self.check_size(16)  # int64 input and target tokens
        if not 1 < alphabet_size <= 26:
            raise ValueError(f"data.alphabet_size must be in [2, 26], got {alphabet_size}")
        self.task = task
        self.vocab = Vocabulary(string.ascii_lowercase[:alphabet_size])

    def data_spec(self) -> DataSpec:
        symbols = self.vocab.symbols
        return DataSpec(
            input_size=len(symbols),
            num_classes=len(symbols),
            input_vocab=symbols,
            target_vocab=symbols,
        )

    def generate(
        self, split: str, lengths: list[int], generator: torch.Generator
    ) -> SequenceDataset:
        first = Vocabulary.eos_id + 1
        inputs, targets = [], []
        for length in lengths:
            x = torch.randint(first, len(self.vocab), (length,), generator=generator)
            y = x if self.task == "copy" else x.flip(0)
            inputs.append(x)
            targets.append(torch.cat([y, torch.tensor([Vocabulary.eos_id])]))
        return SequenceDataset(f"synthetic_{self.task}/{split}", inputs, targets)
