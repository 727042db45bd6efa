"""Forward+backward time of the recurrent encoders, as ratios to torch.nn.* in the same run.

    python bench/rnn_speed.py                       # B=32, T=200, D=40, H=256, 1 layer, 1 thread
    python bench/rnn_speed.py --bidirectional --steps 100
    python bench/rnn_speed.py --device cuda --dtype bf16 --json rnn_speed.json

Like with like: every encoder reads the same padded batch [B, T, D] with every sequence T
long (seqlab encoders get the lengths, torch.nn.* the tensor), at the same width, depth and
direction. Each seqlab RNN/LSTM/GRU is divided by torch.nn.RNN/LSTM/GRU and every encoder by
torch.nn.GRU, medians over interleaved rounds (one run of each encoder per round, so load from
other processes hits all alike). On CUDA a bidirectional run also times each seqlab cell
with the padded layout that the CPU uses (`seqlab <cell> padded`) against the packed default.
On CUDA every run is bracketed by `torch.cuda.synchronize()`;
`--dtype bf16` runs the forward under bfloat16 autocast. Without CUDA, `--device cuda` prints
why it skipped and exits 0, and so does `--dtype bf16` on a CPU whose oneDNN has no bf16 LSTM
kernel (no AVX-512 BF16). SpeechBrain's LiGRU (optional `bench` extra) is loaded from its
file `speechbrain/nnet/RNN.py` alone (see `speechbrain_ligru.py`).

Peak memory: on the CPU the highest total of live tensor bytes during one forward+backward
(torch.profiler memory timeline); on CUDA `torch.cuda.max_memory_allocated`.
"""

import argparse
import json
import statistics
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import torch
from speechbrain_ligru import load_speechbrain_rnn
from torch import Tensor, nn

from seqlab.models import rnn as rnn_module
from seqlab.models.ligru import LiGRU
from seqlab.models.rnn import RecurrentEncoder

REFERENCE = "torch.nn.GRU"
TORCH = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
DTYPES = {"fp32": None, "bf16": torch.bfloat16}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--input-size", type=int, default=40)
    parser.add_argument("--hidden-size", type=int, default=256)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--bidirectional", action="store_true")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default="fp32", choices=sorted(DTYPES), help="bf16: autocast")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (CPU)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds first")
    parser.add_argument("--runs", type=int, default=7, help="timed rounds (median)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args(argv)


def unavailable(args: argparse.Namespace) -> str:
    """Why this bench cannot run as asked here ('' when it can)."""
    if args.device == "cuda" and not torch.cuda.is_available():
        return f"--device cuda: CUDA is not available (torch {torch.__version__})"
    if args.dtype == "bf16":
        error = bf16_lstm_error(torch.device(args.device))
        if error:
            return f"--dtype bf16: torch.nn.LSTM cannot run under bf16 autocast here ({error})"
    return ""


def bf16_lstm_error(device: torch.device) -> str:
    """The error of a one-step nn.LSTM under bf16 autocast ('' when it runs): oneDNN has no
    bf16 LSTM kernel on CPUs without AVX-512 BF16, so every LSTM of the bench would fail."""
    lstm = torch.nn.LSTM(2, 2, batch_first=True).to(device)
    try:
        with torch.autocast(device.type, torch.bfloat16):
            lstm(torch.zeros(1, 1, 2, device=device))
    except RuntimeError as error:
        return str(error).splitlines()[0]
    return ""


def build_encoders(
    args: argparse.Namespace, device: torch.device
) -> tuple[dict[str, Callable[[Tensor], Tensor]], dict[str, str], str]:
    """name -> function running one forward on inputs [B, T, D] and returning a scalar loss;
    name -> the torch.nn reference it is compared with; why SpeechBrain was left out."""
    shape = {"hidden_size": args.hidden_size, "num_layers": args.layers}
    bidir = args.bidirectional
    lengths = torch.full((args.batch,), args.steps)
    encoders: dict[str, Callable[[Tensor], Tensor]] = {}
    references: dict[str, str] = {}
    for cell, module in TORCH.items():
        torch_rnn = module(args.input_size, batch_first=True, bidirectional=bidir, **shape)
        seqlab = RecurrentEncoder(args.input_size, cell=cell, bidirectional=bidir, **shape)
        torch_rnn, seqlab = torch_rnn.to(device), seqlab.to(device)
        name = f"torch.nn.{module.__name__}"
        encoders[name] = lambda x, m=torch_rnn: m(x)[0].sum()
        encoders[f"seqlab {cell}"] = lambda x, m=seqlab: m(x, lengths).outputs.sum()
        references[name] = references[f"seqlab {cell}"] = name
        if bidir and device.type == "cuda":  # is the packed default right on cuDNN? (see fused.py)
            encoders[f"seqlab {cell} padded"] = lambda x, m=seqlab: padded(m, x, lengths)
            references[f"seqlab {cell} padded"] = name
    ligru = LiGRU(args.input_size, bidirectional=bidir, **shape).to(device).train()
    encoders["seqlab ligru"] = lambda x: ligru(x, lengths).outputs.sum()
    references["seqlab ligru"] = REFERENCE
    module, why = load_speechbrain_rnn()
    if module is not None:
        speechbrain = module.LiGRU(
            input_shape=(args.batch, args.steps, args.input_size),
            normalization="batchnorm",
            dropout=0.0,
            bidirectional=bidir,
            **shape,
        )
        speechbrain = speechbrain.to(device).train()
        encoders["speechbrain ligru"] = lambda x: speechbrain(x)[0].sum()
        references["speechbrain ligru"] = REFERENCE
    return encoders, references, why


def padded(encoder: RecurrentEncoder, x: Tensor, lengths: Tensor) -> Tensor:
    """The encoder's loss with `uses_packed_sequences` answering False: the padded layout."""
    chosen = rnn_module.uses_packed_sequences
    rnn_module.uses_packed_sequences = lambda inputs: False
    try:
        return encoder(x, lengths).outputs.sum()
    finally:
        rnn_module.uses_packed_sequences = chosen


def forward_backward(run: Callable[[Tensor], Tensor], inputs: Tensor, dtype: str) -> None:
    inputs.grad = None
    autocast = DTYPES[dtype]
    context = nullcontext() if autocast is None else torch.autocast(inputs.device.type, autocast)
    with context:
        loss = run(inputs)
    loss.float().backward()


def time_once(run: Callable[[Tensor], Tensor], inputs: Tensor, dtype: str) -> float:
    """Milliseconds of one forward+backward; on CUDA, from an idle device to an idle device."""
    cuda = inputs.device.type == "cuda"
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    forward_backward(run, inputs, dtype)
    if cuda:
        torch.cuda.synchronize()
    return (time.perf_counter() - start) * 1e3


def peak_memory_mb(run: Callable[[Tensor], Tensor], inputs: Tensor, dtype: str) -> float:
    """Highest live tensor memory during one forward+backward, in MiB."""
    if inputs.device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        forward_backward(run, inputs, dtype)
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() / 2**20
    from torch.profiler import ProfilerActivity, profile
    from torch.profiler._memory_profiler import Action

    with profile(
        activities=[ProfilerActivity.CPU], profile_memory=True, record_shapes=True, with_stack=True
    ) as prof:
        forward_backward(run, inputs, dtype)
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


def measure(args: argparse.Namespace) -> dict:
    device = torch.device(args.device)
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    encoders, references, why_no_speechbrain = build_encoders(args, device)
    inputs = torch.randn(args.batch, args.steps, args.input_size, device=device)
    inputs.requires_grad_()
    print(
        f"torch {torch.__version__} on {args.device} ({args.dtype}), "
        f"{torch.get_num_threads()} thread(s); B={args.batch} T={args.steps} "
        f"D={args.input_size} H={args.hidden_size} layers={args.layers} "
        f"bidirectional={args.bidirectional}; median of {args.runs} after {args.warmup} warm-up"
    )
    times: dict[str, list[float]] = {name: [] for name in encoders}
    for round_ in range(args.warmup + args.runs):
        for name, run in encoders.items():
            elapsed = time_once(run, inputs, args.dtype)
            if round_ >= args.warmup:
                times[name].append(elapsed)
    medians = {name: statistics.median(samples) for name, samples in times.items()}
    results = {}
    print(f"{'encoder':<20}{'ms':>10}{'x nn.GRU':>10}{'x own torch.nn':>16}")
    for name, ms in medians.items():
        own = references[name]
        results[name] = {
            "ms": round(ms, 3),
            "ratio_to_gru": round(ms / medians[REFERENCE], 3),
            "reference": own,
            "ratio": round(ms / medians[own], 3),
        }
        ratios = f"{ms / medians[REFERENCE]:>10.2f}{ms / medians[own]:>10.2f} ({own})"
        print(f"{name:<20}{ms:>10.2f}{ratios}")
    speedup = None
    if "speechbrain ligru" in results:
        speedup = round(medians["speechbrain ligru"] / medians["seqlab ligru"], 2)
        print(f"seqlab ligru is {speedup:.2f}x faster than speechbrain ligru")
    else:
        print(f"speechbrain ligru skipped: {why_no_speechbrain}")
    memory = {
        name: peak_memory_mb(encoders[name], inputs, args.dtype)
        for name in (REFERENCE, "seqlab ligru")
    }
    print("peak memory: " + ", ".join(f"{name} {mb:.1f} MiB" for name, mb in memory.items()))
    return {
        "encoders": results,
        "ligru_speedup_vs_speechbrain": speedup,
        "peak_memory_mib": {name: round(mb, 2) for name, mb in memory.items()},
        "settings": {key: str(value) for key, value in vars(args).items() if key != "json"},
        "threads": torch.get_num_threads(),
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    why = unavailable(args)
    if why:
        print(f"skipped: {why}")
        if args.json:
            args.json.write_text(json.dumps({"skipped": why}, indent=2))
        return
    payload = measure(args)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
