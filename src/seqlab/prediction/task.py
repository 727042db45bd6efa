"""The trained task with a predict step: what each head's `predict` gives, per item."""

from typing import Any

import torch

from seqlab.data.batch import Batch
from seqlab.tasks.module import SequenceTask


class PredictingTask(SequenceTask):
    """`SequenceTask` plus Lightning's `predict_step`, loaded from a checkpoint.

    Every head's `predict` (class probabilities, values, per-step outputs or decoded symbols);
    an ensemble's members are averaged (bagging only builds heads whose outputs average).
    """

    def predict_step(self, batch: Batch, batch_idx: int, dataloader_idx: int = 0) -> dict[str, Any]:
        members = []
        for model in self.models:
            encoded = model.encode(batch)
            members.append(
                {n: h.predict(encoded, model.view(batch, n)) for n, h in model.heads.items()}
            )
        if len(members) == 1:
            return members[0]
        return {n: torch.stack([m[n] for m in members]).mean(0) for n in members[0]}
