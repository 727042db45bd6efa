"""Builders shared by the seq2seq tests: a tiny task on tiny data, trained by a plain loop."""

import torch

from seqlab.data.batch import Batch
from seqlab.data.collate import pad_collate
from seqlab.data.dataset import SequenceDataset
from seqlab.data.sources.synthetic_seq2seq import SyntheticSeq2SeqDataModule
from seqlab.data.spec import DataSpec
from seqlab.heads.seq2seq import Seq2SeqHead
from seqlab.models.search import Decoded, hypotheses
from seqlab.tasks.module import SequenceTask

DECODING = {
    "val": "greedy",
    "test": "greedy",
    "beam_size": 3,
    "max_length": 12,
    "length_penalty": 0.0,
}
ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 0.01}


def make_task(
    spec: DataSpec,
    cell: str = "lstm",
    attention: str = "additive",
    hidden_size: int = 16,
    regularizer: dict | None = None,
    teacher_forcing: float = 1.0,
    **decoding,
) -> SequenceTask:
    """A small bidirectional-LSTM-encoder seq2seq task (dot attention: equal widths)."""
    head = {
        "_target_": "seqlab.heads.seq2seq.Seq2SeqHead",
        "weight": 1.0,
        "teacher_forcing": teacher_forcing,
        "decoder": {
            "cell": cell,
            "hidden_size": 2 * hidden_size,
            "embedding_dim": 16,
            "dropout": 0.0,
        },
        "attention": {"kind": attention, "size": 16},
        "decoding": {**DECODING, **decoding},
    }
    task = SequenceTask(
        spec,
        model={
            "_target_": "seqlab.models.rnn.RecurrentEncoder",
            "cell": "lstm",
            "hidden_size": hidden_size,
            "bidirectional": True,
        },
        heads={"main": head},
        regularizer=regularizer or {},
        init={"scheme": "default"},
        optimizer=ADAM,
        embedding_dim=16,
    )
    task.log = lambda *args, **kwargs: None  # outside a Trainer
    return task


def head_of(task: SequenceTask) -> Seq2SeqHead:
    return task.model.heads["main"]


def decode(task: SequenceTask, batch: Batch, strategy: str = "greedy") -> Decoded:
    """Free decoding of `batch` by the task's seq2seq head."""
    with torch.no_grad():
        return head_of(task).decode(task.model.encode(batch), strategy)


def own_targets(batch: Batch) -> list[list[tuple[int, ...]]]:
    """Each item's single reference: its target without `<eos>` and padding."""
    return [[tuple(h)] for h in hypotheses(batch.targets)]


def synthetic(task: str = "copy", **kwargs) -> SyntheticSeq2SeqDataModule:
    args = {"num_items": 512, "min_length": 1, "max_length": 6, "alphabet_size": 5}
    return SyntheticSeq2SeqDataModule(task=task, batch_size=32, **{**args, **kwargs})


def fit(task: SequenceTask, dataset: SequenceDataset, epochs: int) -> None:
    """Plain Adam loop over shuffled batches (faster than a Trainer for tiny tests)."""
    optimizer = torch.optim.Adam(task.parameters(), lr=0.01)
    generator = torch.Generator().manual_seed(0)
    task.train()
    for _ in range(epochs):
        order = torch.randperm(len(dataset), generator=generator).tolist()
        for start in range(0, len(order), 32):
            batch = pad_collate([dataset[i] for i in order[start : start + 32]])
            loss = task.training_step(batch, start)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    task.eval()


def batch_of(dataset: SequenceDataset, indices: list[int]):
    return pad_collate([dataset[i] for i in indices])
