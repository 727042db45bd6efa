"""Truncated BPTT against full BPTT: time per sequence and peak saved-activation bytes.

    python bench/tbptt.py --json tbptt.json    # forecast with long windows, and cmudict_lm

Both variants train the same model (built from the same config and seed) on the same
batches with the same optimizer, for `--batches` batches after one warm-up batch. Memory is
what autograd saves for backward (`saved_tensors_hooks`): full BPTT holds every step of a
batch at once; truncated BPTT frees each chunk's after its backward, so its peak is the
largest chunk's. Bytes of tensors saved more than once count once (by storage).
"""

import argparse
import json
import time
from contextlib import contextmanager

import torch
from hydra import compose, initialize_config_dir

from seqlab.build import build_datamodule, build_task
from seqlab.config import register_schemas
from seqlab.tasks.tbptt import carried, chunks, encode_chunk, starting
from seqlab.train import CONFIG_DIR

CASES = {
    "forecast": ["experiment=forecast", "data.min_length=384", "data.max_length=384"],
    "cmudict_lm": ["experiment=cmudict_lm", "data.max_words=20000"],
}


class SavedBytes:
    """Bytes autograd currently holds for backward, and their peak."""

    def __init__(self) -> None:
        self.live: dict[int, int] = {}
        self.peak = 0

    def pack(self, tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        self.live[storage.data_ptr()] = storage.nbytes()
        self.peak = max(self.peak, sum(self.live.values()))
        return tensor

    def release(self) -> None:
        self.live.clear()

    @contextmanager
    def counting(self):
        with torch.autograd.graph.saved_tensors_hooks(self.pack, lambda t: t):
            yield


def full_step(task, batch, optimizer, saved: SavedBytes) -> None:
    with saved.counting():
        loss, _ = task.model.data_loss(batch)
    optimizer.zero_grad()
    loss.backward()
    saved.release()
    optimizer.step()


def truncated_step(task, batch, optimizer, saved: SavedBytes, steps: int) -> None:
    state = None
    for rows, chunk in chunks(batch, steps):
        with saved.counting():
            encoded, new = encode_chunk(task, chunk, starting(state, rows))
            head = task.model.heads["main"]
            loss = head.loss(head(encoded, chunk, "train"), chunk)
        optimizer.zero_grad()
        loss.backward()
        saved.release()
        optimizer.step()
        state = carried(state, rows, new, len(batch))


def measure(case: str, steps: int, batches: int, seed: int) -> dict:
    register_schemas()
    overrides = [*CASES[case], f"seed={seed}", "logger=none", "paths.output_dir=/tmp/tbptt_b"]
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides)
    datamodule = build_datamodule(cfg)
    datamodule.setup("fit")
    loader = list(datamodule.train_dataloader())[: batches + 1]
    result = {"case": case, "tbptt_steps": steps, "timed_batches": len(loader) - 1, "seed": seed}
    for name in ("full", "truncated"):
        torch.manual_seed(seed)
        task = build_task(cfg, datamodule).train()
        optimizer = torch.optim.Adam(task.parameters(), lr=1e-3)
        saved = SavedBytes()
        sequences, elapsed = 0, 0.0
        for number, batch in enumerate(loader):
            start = time.perf_counter()
            if name == "full":
                full_step(task, batch, optimizer, saved)
            else:
                truncated_step(task, batch, optimizer, saved, steps)
            if number > 0:  # the first batch warms up
                elapsed += time.perf_counter() - start
                sequences += len(batch)
        result[name] = {
            "ms_per_sequence": 1e3 * elapsed / sequences,
            "peak_saved_mb": saved.peak / 2**20,
        }
        result["mean_length"] = float(torch.cat([b.lengths for b in loader]).float().mean())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES))
    parser.add_argument("--steps", nargs="+", type=int, default=[32, 4])  # per case, in order
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    results = [
        measure(case, steps, args.batches, args.seed)
        for case, steps in zip(args.cases, args.steps, strict=True)
    ]
    print(json.dumps(results, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
