"""One output record per item: what a user reads, in the data's own names and units.

Per head (columns prefixed `<head>/` when a model has several): a class name and one
probability per class; a value (undoing the source's target standardisation); per-step
classes or values of the real steps only; or the decoded symbols joined by spaces.
"""

from typing import Any

import torch
from torch import Tensor

from seqlab.data.batch import Batch
from seqlab.data.spec import DataSpec
from seqlab.data.vocab import decode
from seqlab.heads.base import Head
from seqlab.heads.per_step import PerStepHead
from seqlab.heads.seq2seq import Seq2SeqHead
from seqlab.heads.sequence import SequenceHead


def records(heads: dict[str, Head], predictions: dict[str, Any], batch: Batch) -> list[dict]:
    """The batch's items as flat dicts: `index` (position in the predicted split), then each
    head's columns."""
    out = [{"index": int(i)} for i in batch.indices.tolist()]
    for name, head in heads.items():
        prefix = f"{name}/" if len(heads) > 1 else ""
        for row, columns in zip(out, head_columns(head, predictions[name], batch), strict=True):
            row.update({prefix + key: value for key, value in columns.items()})
    return out


def head_columns(head: Head, prediction: Any, batch: Batch) -> list[dict]:
    spec = head.spec
    if isinstance(head, Seq2SeqHead):
        return [{"output": " ".join(decode(ids, spec.target_vocab))} for ids in prediction]
    if isinstance(head, SequenceHead):
        if head.classifies:
            return [class_columns(p, names(spec)) for p in prediction.float().cpu()]
        return [value_columns(v) for v in in_units(prediction, spec)]
    if isinstance(head, PerStepHead):
        lengths = batch.lengths.tolist()
        if head.classifies:
            labels = names(spec)
            steps = prediction.argmax(-1).cpu()
            return [
                {"labels": [labels[c] for c in s[:n].tolist()]}
                for s, n in zip(steps, lengths, strict=True)
            ]
        values = in_units(prediction, spec)
        return [{"values": _plain(v[:n])} for v, n in zip(values, lengths, strict=True)]
    raise TypeError(f"predict.py does not know how to write {type(head).__name__} outputs")


def names(spec: DataSpec) -> tuple[str, ...]:
    """Class names: the data's, its target vocabulary (language models), or class ids."""
    return spec.class_names or spec.target_vocab or tuple(str(c) for c in range(spec.num_classes))


def class_columns(probabilities: Tensor, labels: tuple[str, ...]) -> dict:
    columns = {"label": labels[int(probabilities.argmax())]}
    pairs = zip(labels, probabilities.tolist(), strict=True)
    columns.update({f"p_{c}": float(p) for c, p in pairs})
    return columns


def value_columns(values: Tensor) -> dict:
    if values.numel() == 1:
        return {"value": float(values)}
    return {f"value_{k}": float(v) for k, v in enumerate(values.tolist())}


def in_units(outputs: Tensor, spec: DataSpec) -> Tensor:
    """Outputs [..., K] in the data's units: undo the source's standardisation of targets."""
    outputs = outputs.float().cpu()
    if not spec.target_mean:
        return outputs
    return outputs * torch.tensor(spec.target_std) + torch.tensor(spec.target_mean)


def _plain(values: Tensor) -> list:
    """[T, 1] -> one value per step; [T, K] -> K values per step."""
    return values[:, 0].tolist() if values.shape[-1] == 1 else values.tolist()
