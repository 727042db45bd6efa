"""Exactness of the encoders' device code paths against a float64 CPU reference.

    python bench/gpu_check.py --device cuda --json gpu_check.json

For bidirectional RNN/LSTM/GRU: the packed layout (the CUDA default) and the padded one (the
CPU default) on the device, each against the same weights run on the CPU in float64, outputs
and every gradient; Li-GRU likewise; and d loss / d states under `states_through_time()`.
Prints the largest absolute difference of each check and exits 1 if one exceeds `--atol`.
Without CUDA, `--device cuda` prints why it skipped and exits 0. Runs on the CPU too
(`--device cpu`), which is how its logic is tested.
"""

import argparse
import copy
import json
import sys
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn

from seqlab.models import rnn as rnn_module
from seqlab.models.base import Encoder, states_through_time
from seqlab.models.ligru import LiGRU
from seqlab.models.rnn import RecurrentEncoder

LENGTHS = [37, 5, 20, 1, 37, 12]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda", choices=["cpu", "cuda"])
    parser.add_argument("--atol", type=float, default=1e-4)
    parser.add_argument("--json", type=Path)
    return parser.parse_args(argv)


def run(
    encoder: Encoder, inputs: Tensor, lengths: Tensor, packed: bool | None, through_time: bool
) -> list[Tensor]:
    """Outputs, final and the gradients of a fixed loss (inputs, parameters; or states)."""
    chosen = rnn_module.uses_packed_sequences
    if packed is not None:
        rnn_module.uses_packed_sequences = lambda x: packed
    try:
        inputs = inputs.detach().requires_grad_()
        if through_time:
            with states_through_time():
                encoded = encoder(inputs, lengths)
        else:
            encoded = encoder(inputs, lengths)
    finally:
        rnn_module.uses_packed_sequences = chosen
    generator = torch.Generator().manual_seed(1)
    read = (encoded.outputs, encoded.final)
    loss = sum((t * torch.randn(t.shape, generator=generator).to(t)).sum() for t in read)
    leaves = [encoded.states] if through_time else [inputs, *encoder.parameters()]
    return [encoded.outputs, encoded.final, *torch.autograd.grad(loss, leaves)]


def largest_difference(
    build: Callable[[], Encoder],
    device: torch.device,
    packed: bool | None = None,
    through_time: bool = False,
) -> float:
    torch.manual_seed(0)
    encoder = build().eval()
    reference = copy.deepcopy(encoder).double()
    lengths = torch.tensor(LENGTHS)
    inputs = torch.randn(len(LENGTHS), max(LENGTHS), 3)
    inputs = inputs * (torch.arange(max(LENGTHS))[None, :, None] < lengths[:, None, None])
    expected = run(reference, inputs.double(), lengths, packed, through_time)
    got = run(encoder.to(device), inputs.to(device), lengths, packed, through_time)
    pairs = zip(got, expected, strict=True)
    return max((g.double().cpu() - e).abs().max().item() for g, e in pairs)


def checks(device: torch.device) -> dict[str, float]:
    results = {}
    for cell in ("rnn", "lstm", "gru"):

        def build(cell: str = cell) -> nn.Module:
            return RecurrentEncoder(3, cell, 16, num_layers=2, bidirectional=True)

        for packed in (True, False):
            layout = "packed" if packed else "padded"
            results[f"{cell} bidirectional {layout}"] = largest_difference(build, device, packed)
        results[f"{cell} states through time"] = largest_difference(build, device, None, True)
    ligru = lambda: LiGRU(3, 16, num_layers=2, bidirectional=True)  # noqa: E731
    results["ligru bidirectional"] = largest_difference(ligru, device)
    results["ligru states through time"] = largest_difference(ligru, device, None, True)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print(f"skipped: --device cuda: CUDA is not available (torch {torch.__version__})")
        return 0
    results = checks(torch.device(args.device))
    failed = {name: diff for name, diff in results.items() if not diff <= args.atol}
    for name, diff in results.items():
        print(f"{name:<32}{diff:>12.3g}{'  FAIL' if name in failed else ''}")
    if args.json:
        args.json.write_text(json.dumps({"max_abs_diff": results, "atol": args.atol}, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
