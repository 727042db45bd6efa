"""Generated sequence-to-sequence tasks (copy, reverse) with known answers, for tests."""

import string

import torch

from seqlab.data.datamodule import SequenceDataModule, Splits
from seqlab.data.dataset import SequenceDataset
from seqlab.data.sources import check_generated_size, check_length_range
from seqlab.data.spec import DataSpec
from seqlab.data.vocab import Vocabulary

TASKS = ("copy", "reverse")


class SyntheticSeq2SeqDataModule(SequenceDataModule):
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
        super().__init__(**loader_args)
        if task not in TASKS:
            raise ValueError(f"data.task must be one of {TASKS}, got {task!r}")
        check_length_range(min_length, max_length)
        sizes = dict(num_items=num_items, min_length=min_length, max_length=max_length)
        check_generated_size("synthetic_seq2seq", 16, **sizes)  # int64 input and target tokens
        if not 1 < alphabet_size <= 26:
            raise ValueError(f"data.alphabet_size must be in [2, 26], got {alphabet_size}")
        if num_items <= 0:
            raise ValueError(f"data.num_items must be > 0, got {num_items}")
        self.task, self.num_items = task, num_items
        self.min_length, self.max_length = min_length, max_length
        self.vocab = Vocabulary(string.ascii_lowercase[:alphabet_size])

    def load_splits(self) -> Splits:
        generator = torch.Generator().manual_seed(self.seed)
        parts = [self._make(split, generator) for split in ("train", "val", "test")]
        symbols = self.vocab.symbols
        spec = DataSpec(
            input_size=len(symbols),
            num_classes=len(symbols),
            input_vocab=symbols,
            target_vocab=symbols,
        )
        return Splits(*parts, spec=spec)

    def _make(self, split: str, generator: torch.Generator) -> SequenceDataset:
        n = self.num_items if split == "train" else max(self.num_items // 4, 1)
        lengths = torch.randint(self.min_length, self.max_length + 1, (n,), generator=generator)
        first = Vocabulary.eos_id + 1
        inputs, targets = [], []
        for length in lengths.tolist():
            x = torch.randint(first, len(self.vocab), (length,), generator=generator)
            y = x if self.task == "copy" else x.flip(0)
            inputs.append(x)
            targets.append(torch.cat([y, torch.tensor([Vocabulary.eos_id])]))
        return SequenceDataset(f"synthetic_{self.task}/{split}", inputs, targets)
