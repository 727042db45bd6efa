"""Generated data with three targets per sequence, one per head type (tests, quick checks)."""

import torch

from seqlab.data.multitarget import MultiTargetDataset
from seqlab.data.sources.generated import GeneratedDataModule
from seqlab.data.sources.synthetic import raised_channel_items
from seqlab.data.spec import DataSpec
from seqlab.data.vocab import Vocabulary


class SyntheticMultitaskDataModule(GeneratedDataModule):
    """Random features with one boosted channel; the targets of each sequence are

    - `label` (many_to_one): the boosted channel;
    - `steps` (many_to_many): the largest channel at every step;
    - `sequence` (seq2seq): the largest channels of the first `sequence_length` steps as
      tokens `c0`, `c1`, ..., then `<eos>`.
    """

    def __init__(self, input_size: int = 4, sequence_length: int = 4, **generated_args) -> None:
        super().__init__(**generated_args)
        self.check_size(4 * input_size + 8, input_size=input_size)  # float32 features, int64 steps
        if not 2 <= input_size <= 10:
            raise ValueError(f"data.input_size must be in [2, 10], got {input_size}")
        if sequence_length < 1:
            raise ValueError(f"data.sequence_length must be >= 1, got {sequence_length}")
        self.input_size, self.sequence_length = input_size, sequence_length
        self.vocab = Vocabulary(f"c{k}" for k in range(input_size))

    def data_spec(self) -> DataSpec:
        classes = tuple(f"c{k}" for k in range(self.input_size))
        return DataSpec(
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

    def generate(
        self, split: str, lengths: list[int], generator: torch.Generator
    ) -> MultiTargetDataset:
        inputs, targets = [], []
        for x, label in raised_channel_items(lengths, self.input_size, self.input_size, generator):
            steps = x.argmax(-1)
            tokens = steps[: self.sequence_length] + Vocabulary.eos_id + 1
            sequence = torch.cat([tokens, torch.tensor([Vocabulary.eos_id])])
            inputs.append(x)
            targets.append({"label": torch.tensor(label), "steps": steps, "sequence": sequence})
        return MultiTargetDataset(f"synthetic_multitask/{split}", inputs, targets)
