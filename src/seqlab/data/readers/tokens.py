"""Symbol lists of text files -> token tensors for `data.task=lm` or `seq2seq`.

Vocabularies come from the training file only. `unknown` is the policy for a symbol of
another file that training never saw: `error` (named by file and line) or `map` (to `<unk>`,
which then is part of the vocabulary).
"""

import torch
from torch import Tensor

from seqlab.data.readers import Records
from seqlab.data.sources.cmudict_lm import lm_items, lm_spec
from seqlab.data.spec import DataSpec
from seqlab.data.vocab import Vocabulary

UNKNOWN = ("error", "map")
Encoded = dict[str, tuple[list[Tensor], list[Tensor]]]


def lm_encode(records: dict[str, Records], unknown: str) -> tuple[Encoded, DataSpec]:
    """(inputs, targets) per split for next-symbol prediction, and the spec."""
    train = records["train"]
    vocab = Vocabulary((s for line in train.inputs for s in line), unknown=unknown == "map")
    out = {
        split: lm_items(vocab, r.inputs, [r.place(i) for i in range(len(r.inputs))])
        for split, r in records.items()
    }
    return out, lm_spec(vocab)


def seq2seq_encode(records: dict[str, Records], unknown: str) -> tuple[Encoded, DataSpec]:
    """(source ids, target ids + `<eos>`) per split (a prediction file's missing targets are
    just `<eos>`, never scored), and the spec with both vocabularies."""
    train = records["train"]
    mapped = unknown == "map"
    sources = Vocabulary((s for line in train.inputs for s in line), unknown=mapped)
    targets = Vocabulary((s for line in train.targets for s in line), unknown=mapped)
    out = {}
    for split, r in records.items():
        wheres = [r.place(i) for i in range(len(r.inputs))]
        inputs = [torch.tensor(sources.encode(x, w)) for x, w in zip(r.inputs, wheres, strict=True)]
        lines = r.targets if r.targets is not None else [[] for _ in r.inputs]
        ys = [
            torch.tensor([*targets.encode(y, f"{w} (target)"), Vocabulary.eos_id])
            for y, w in zip(lines, wheres, strict=True)
        ]
        out[split] = (inputs, ys)
    spec = DataSpec(
        input_size=len(sources),
        num_classes=len(targets),
        input_vocab=sources.symbols,
        target_vocab=targets.symbols,
    )
    return out, spec
