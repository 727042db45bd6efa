"""The exported graph: (inputs, lengths) -> each head's predictions, as `predict.py` writes them.

Inputs are [B, T, D] features (or [B, T] token ids) zero-padded after each sequence's
`lengths`; batch and time are dynamic. Outputs: class probabilities [B, C] or values [B, K]
(many_to_one), per-step probabilities or values [B, T, .] (many_to_many; padded steps are
zero), in the data's own units; an ensemble's members are averaged.
"""

from dataclasses import replace

import torch
from torch import Tensor, nn

from seqlab.data.batch import Batch
from seqlab.heads.per_step import PerStepHead
from seqlab.heads.sequence import SequenceHead
from seqlab.tasks.model import SequenceModel

EXPORTABLE_HEADS = (SequenceHead, PerStepHead)


class ExportedModel(nn.Module):
    """The models of a task behind a plain tensor interface, for tracing."""

    def __init__(self, models: nn.ModuleList) -> None:
        super().__init__()
        check_exportable(models[0])
        self.models = models
        self.names = list(models[0].heads)

    def forward(self, inputs: Tensor, lengths: Tensor) -> tuple[Tensor, ...]:
        size, steps = inputs.shape[:2]
        ids = torch.zeros(size, dtype=torch.long)
        per_sequence = Batch(inputs=inputs, lengths=lengths, targets=ids, indices=ids)
        per_step = replace(  # placeholder targets: a per-step head reads only their lengths
            per_sequence, targets=torch.zeros(size, steps, dtype=torch.long), target_lengths=lengths
        )
        mask = per_sequence.mask[..., None]
        members = []
        for model in self.models:
            encoded = model.encode(per_sequence)
            outputs = []
            for head in (model.heads[name] for name in self.names):
                if head_is_per_step(head):
                    outputs.append(in_units(head, head.predict(encoded, per_step)) * mask)
                else:
                    outputs.append(in_units(head, head.predict(encoded, per_sequence)))
            members.append(outputs)
        return tuple(torch.stack(outputs).mean(0) for outputs in zip(*members, strict=True))


def head_is_per_step(head: nn.Module) -> bool:
    return isinstance(head, PerStepHead)


def in_units(head: nn.Module, outputs: Tensor) -> Tensor:
    """Regression outputs in the data's units (the source's target scaling undone)."""
    spec = head.spec
    if head.classifies or not spec.target_mean:
        return outputs
    return outputs * torch.tensor(spec.target_std) + torch.tensor(spec.target_mean)


def check_exportable(model: SequenceModel) -> None:
    """Refuse, naming the part and the reason, what a traced graph cannot hold."""
    for name, head in model.heads.items():
        if not isinstance(head, EXPORTABLE_HEADS):
            raise ValueError(
                f"head {name!r} ({type(head).__name__}) cannot be exported: it decodes with a "
                "loop whose length depends on the outputs (stop at <eos>, beam search), which "
                "a traced graph cannot hold; export supports many_to_one and many_to_many heads"
            )
    if any(isinstance(m, nn.RNNBase) and m.bidirectional for m in model.modules()):
        raise ValueError(
            "a bidirectional RNN/LSTM/GRU cannot be exported: its reverse direction runs on "
            "packed sequences (so padding is never read), which the ONNX and TorchScript "
            "tracers cannot record for dynamic lengths; export a unidirectional model, or "
            "model=ligru, whose reverse direction is plain tensor indexing"
        )
