"""Builders shared by the seq2seq tests: a tiny task on tiny data, trained by a plain loop."""

import torch

from seqlab.data.collate import pad_collate
from seqlab.data.dataset import SequenceDataset
from seqlab.data.sources.synthetic_seq2seq import SyntheticSeq2SeqDataModule
from seqlab.data.spec import DataSpec
from seqlab.tasks.seq2seq import Seq2SeqTask

DECODING = {
    "val": "greedy",
    "test": "greedy",
    "beam_size": 3,
    "max_length": 12,
    "length_penalty": 0.0,
}


def make_task(
    spec: DataSpec,
    cell: str = "lstm",
    attention: str = "additive",
    hidden_size: int = 16,
    regularizer: dict | None = None,
    teacher_forcing: float = 1.0,
    **decoding,
) -> Seq2SeqTask:
    """A small bidirectional-LSTM-encoder seq2seq task (dot attention: equal widths)."""
    return Seq2SeqTask(
        spec,
        model={
            "_target_": "seqlab.models.rnn.RecurrentEncoder",
            "cell": "lstm",
            "hidden_size": hidden_size,
            "bidirectional": True,
        },
        regularizer=regularizer or {},
        init={"scheme": "default"},
        optim={"name": "adam", "lr": 0.01, "weight_decay": 0.0, "scheduler": "none", "patience": 1},
        decoder={"cell": cell, "hidden_size": 2 * hidden_size, "embedding_dim": 16, "dropout": 0.0},
        attention={"kind": attention, "size": 16},
        decoding={**DECODING, **decoding},
        teacher_forcing=teacher_forcing,
        embedding_dim=16,
    )


def synthetic(task: str = "copy", **kwargs) -> SyntheticSeq2SeqDataModule:
    args = {"num_items": 512, "min_length": 1, "max_length": 6, "alphabet_size": 5}
    return SyntheticSeq2SeqDataModule(task=task, batch_size=32, **{**args, **kwargs})


def fit(task: Seq2SeqTask, dataset: SequenceDataset, epochs: int) -> None:
    """Plain Adam loop over shuffled batches (faster than a Trainer for tiny tests)."""
    optimizer = torch.optim.Adam(task.parameters(), lr=0.01)
    generator = torch.Generator().manual_seed(0)
    task.train()
    for _ in range(epochs):
        order = torch.randperm(len(dataset), generator=generator).tolist()
        for start in range(0, len(order), 32):
            batch = pad_collate([dataset[i] for i in order[start : start + 32]])
            loss = task.step(batch, "train")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    task.eval()


def batch_of(dataset: SequenceDataset, indices: list[int]):
    return pad_collate([dataset[i] for i in indices])
