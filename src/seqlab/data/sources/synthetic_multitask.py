"""Generated data with three targets per sequence, one per head type (tests, quick checks)."""

import torch

from seqlab.data.datamodule import SequenceDataModule, Splits
from seqlab.data.multitarget import MultiTargetDataset
from seqlab.data.sources import check_generated_size, check_length_range
from seqlab.data.sources.synthetic import raised_channel_items
from seqlab.data.spec import DataSpec
from seqlab.data.vocab import Vocabulary


class SyntheticMultitaskDataModule(SequenceDataModule):
    """Random features with one boosted channel; the targets of each sequence are

    - `label` (many_to_one): the boosted channel;
    - `steps` (many_to_many): the largest channel at every step;
    - `sequence` (seq2seq): the largest channels of the first `sequence_length` steps as
      tokens `c0`, `c1`, ..., then `<eos>`.
    """

    def __init__(
        self,
        num_items: int = 256,
        min_length: int = 3,
        max_length: int = 20,
        input_size: int = 4,
        sequence_length: int = 4,
        **loader_args,
    ) -> None:
        super().__init__(**loader_args)
        check_length_range(min_length, max_length)
        sizes = dict(num_items=num_items, min_length=min_length, max_length=max_length)
        step_bytes = 4 * input_size + 8  # float32 features, int64 per-step targets
        check_generated_size("synthetic_multitask", step_bytes, input_size=input_size, **sizes)
        if not 2 <= input_size <= 10:
            raise ValueError(f"data.input_size must be in [2, 10], got {input_size}")
        if sequence_length < 1:
            raise ValueError(f"data.sequence_length must be >= 1, got {sequence_length}")
        self.num_items, self.input_size = num_items, input_size
        self.min_length, self.max_length = min_length, max_length
        self.sequence_length = sequence_length
        self.vocab = Vocabulary(f"c{k}" for k in range(input_size))

    def load_splits(self) -> Splits:
        generator = torch.Generator().manual_seed(self.seed)
        parts = [self._make(split, generator) for split in ("train", "val", "test")]
        classes = tuple(f"c{k}" for k in range(self.input_size))
        spec = DataSpec(
            input_size=self.input_size,
            targets={
                "label": {"num_classes": self.input_size, "class_names": classes},
                "steps": {"num_classes": self.input_size, "class_names": classes},
                "sequence": {
                    "num_classes": len(self.vocab),
                    "target_vocab": self.vocab.symbols,
                },
            },
        )
        return Splits(*parts, spec=spec)

    def _make(self, split: str, generator: torch.Generator) -> MultiTargetDataset:
        n = self.num_items if split == "train" else max(self.num_items // 4, 1)
        inputs, targets = [], []
        for x, label in raised_channel_items(
            n, self.min_length, self.max_length, self.input_size, self.input_size, generator
        ):
            steps = x.argmax(-1)
            tokens = steps[: self.sequence_length] + Vocabulary.eos_id + 1
            sequence = torch.cat([tokens, torch.tensor([Vocabulary.eos_id])])
            inputs.append(x)
            targets.append({"label": torch.tensor(label), "steps": steps, "sequence": sequence})
        return MultiTargetDataset(f"synthetic_multitask/{split}", inputs, targets)
