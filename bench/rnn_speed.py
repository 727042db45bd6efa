"""Forward+backward time and peak memory of the recurrent encoders, as ratios to torch.nn.GRU.

    python bench/rnn_speed.py                       # B=32, T=200, D=40, H=256, 1 layer, 1 thread
    python bench/rnn_speed.py --threads 2 --json rnn_speed.json

Every encoder runs at the same shapes; runs are interleaved (one run of each encoder per round)
so load from other processes hits all of them alike, and each median is divided by the median
of torch.nn.GRU from the same rounds. SpeechBrain's LiGRU (optional `bench` extra) is loaded
from its file `speechbrain/nnet/RNN.py` alone: importing the `speechbrain` package would load
torchaudio and other dependencies that need not match the pinned torch.

Peak memory is the highest total of live tensor bytes on the CPU during one forward+backward
(parameters, inputs and gradients included), from torch.profiler's memory timeline.
"""

import argparse
import importlib.util
import json
import statistics
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn

from seqlab.models.ligru import LiGRU
from seqlab.models.rnn import RecurrentEncoder

REFERENCE = "torch.nn.GRU"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--input-size", type=int, default=40)
    parser.add_argument("--hidden-size", type=int, default=256)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--bidirectional", action="store_true")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds first")
    parser.add_argument("--runs", type=int, default=7, help="timed rounds (median)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args()


def load_speechbrain_rnn() -> tuple[types.ModuleType | None, str]:
    """speechbrain/nnet/RNN.py as a module, with its two package imports stubbed out."""
    spec = importlib.util.find_spec("speechbrain")
    if spec is None or spec.origin is None:
        return None, "speechbrain is not installed (pip install -e '.[bench]')"
    path = Path(spec.origin).parent / "nnet" / "RNN.py"
    stubs = {
        "speechbrain": types.ModuleType("speechbrain"),
        "speechbrain.nnet": types.ModuleType("speechbrain.nnet"),
        "speechbrain.nnet.attention": types.ModuleType("speechbrain.nnet.attention"),
        "speechbrain.utils": types.ModuleType("speechbrain.utils"),
        "speechbrain.utils.logger": types.ModuleType("speechbrain.utils.logger"),
    }
    for name in ("ContentBasedAttention", "KeyValueAttention", "LocationAwareAttention"):
        setattr(stubs["speechbrain.nnet.attention"], name, nn.Module)
    stubs["speechbrain.utils.logger"].get_logger = __import__("logging").getLogger
    saved = {name: sys.modules.get(name) for name in stubs}
    sys.modules.update(stubs)
    try:
        module_spec = importlib.util.spec_from_file_location("speechbrain_rnn", path)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    except Exception as error:  # any failure means: skip the comparison and say why
        return None, f"loading {path} failed: {error!r}"
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
    return module, ""


def build_encoders(args: argparse.Namespace) -> tuple[dict[str, Callable[[Tensor], Tensor]], str]:
    """name -> function running one forward on inputs [B, T, D] and returning a scalar loss."""
    shape = {"hidden_size": args.hidden_size, "num_layers": args.layers}
    bidir = args.bidirectional
    lengths = torch.full((args.batch,), args.steps)
    gru = nn.GRU(args.input_size, batch_first=True, bidirectional=bidir, **shape)
    encoders: dict[str, Callable[[Tensor], Tensor]] = {REFERENCE: lambda x: gru(x)[0].sum()}
    for cell in ("rnn", "lstm", "gru"):
        seqlab = RecurrentEncoder(args.input_size, cell=cell, bidirectional=bidir, **shape)
        encoders[f"seqlab {cell}"] = lambda x, m=seqlab: m(x, lengths).outputs.sum()
    ligru = LiGRU(args.input_size, bidirectional=bidir, **shape).train()
    encoders["seqlab ligru"] = lambda x: ligru(x, lengths).outputs.sum()
    module, why = load_speechbrain_rnn()
    if module is not None:
        speechbrain = module.LiGRU(
            input_shape=(args.batch, args.steps, args.input_size),
            normalization="batchnorm",
            dropout=0.0,
            bidirectional=bidir,
            **shape,
        ).train()
        encoders["speechbrain ligru"] = lambda x: speechbrain(x)[0].sum()
    return encoders, why


def time_once(run: Callable[[Tensor], Tensor], inputs: Tensor) -> float:
    inputs.grad = None
    start = time.perf_counter()
    run(inputs).backward()
    return (time.perf_counter() - start) * 1e3


def peak_memory_mb(run: Callable[[Tensor], Tensor], inputs: Tensor) -> float | None:
    """Highest live tensor bytes during one forward+backward (torch.profiler memory timeline)."""
    from torch.profiler import ProfilerActivity, profile
    from torch.profiler._memory_profiler import Action

    inputs.grad = None
    with profile(
        activities=[ProfilerActivity.CPU], profile_memory=True, record_shapes=True, with_stack=True
    ) as prof:
        run(inputs).backward()
    live = peak = 0
    for _, action, (key, _), size in prof._memory_profile().timeline:
        if key.device.type != "cpu":
            continue
        if action in (Action.PREEXISTING, Action.CREATE):
            live += size
        elif action == Action.DESTROY:
            live -= size
        peak = max(peak, live)
    return peak / 2**20


def main() -> None:
    args = parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    encoders, why_no_speechbrain = build_encoders(args)
    inputs = torch.randn(args.batch, args.steps, args.input_size, requires_grad=True)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); B={args.batch} "
        f"T={args.steps} D={args.input_size} H={args.hidden_size} layers={args.layers} "
        f"bidirectional={args.bidirectional}; median of {args.runs} after {args.warmup} warm-up"
    )
    times: dict[str, list[float]] = {name: [] for name in encoders}
    for round_ in range(args.warmup + args.runs):
        for name, run in encoders.items():
            elapsed = time_once(run, inputs)
            if round_ >= args.warmup:
                times[name].append(elapsed)
    reference = statistics.median(times[REFERENCE])
    results = {}
    print(f"{'encoder':<20}{'ms':>10}{'x nn.GRU':>10}")
    for name, samples in times.items():
        ms = statistics.median(samples)
        results[name] = {"ms": round(ms, 2), "ratio_to_gru": round(ms / reference, 3)}
        print(f"{name:<20}{ms:>10.1f}{ms / reference:>10.2f}")
    speedup = None
    if "speechbrain ligru" in results:
        speedup = round(results["speechbrain ligru"]["ms"] / results["seqlab ligru"]["ms"], 2)
        print(f"seqlab ligru is {speedup:.2f}x faster than speechbrain ligru")
    else:
        print(f"speechbrain ligru skipped: {why_no_speechbrain}")
    memory = {name: peak_memory_mb(encoders[name], inputs) for name in (REFERENCE, "seqlab ligru")}
    print(
        "peak live tensor memory (torch.profiler memory timeline): "
        + ", ".join(f"{name} {mb:.1f} MiB" for name, mb in memory.items())
    )
    if args.json:
        payload = {
            "encoders": results,
            "ligru_speedup_vs_speechbrain": speedup,
            "peak_memory_mib": {name: round(mb, 2) for name, mb in memory.items()},
            "threads": torch.get_num_threads(),
        }
        args.json.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
