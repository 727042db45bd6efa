# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab 2: GPU computing for recurrent nets
#
# Where does the time go, and when is a GPU worth it? This lab moves tensors and a seqlab model
# to a device, times code honestly, compares CPU and GPU for a matrix product and for an LSTM
# as the batch grows, compares torch's fused LSTM kernel with a Python loop over time steps,
# tries bf16 autocast and pinned memory, and shows what `trainer=gpu` and `trainer=ddp` set.
#
# Everything runs without a GPU: each GPU measurement then prints why it was skipped, and the
# CPU parts still run and plot. `SEQLAB_LAB_SIZE=small` shrinks every size (the tests use it).

# %%
import statistics
import time
from collections.abc import Callable

import matplotlib.pyplot as plt
import torch
from labkit import SMALL, built, config, pick, save
from torch import nn

GPU = torch.cuda.is_available()
DEVICES = ["cpu", "cuda"] if GPU else ["cpu"]
NO_GPU = "skipped: torch.cuda.is_available() is False (no CUDA GPU or a CPU-only torch build)"
print("size:", "small" if SMALL else "full", "| torch", torch.__version__)
print(
    "GPU:",
    torch.cuda.get_device_name() if GPU else "none",
    "| CPU threads:",
    torch.get_num_threads(),
)

# %% [markdown]
# ## 1. Tensors and modules live on a device
#
# `x.to(device)` returns a copy on that device; `module.to(device)` moves its parameters in
# place. An operation needs all its operands on one device. A seqlab model is an ordinary
# `nn.Module` (here the LSTM task that `python train.py model=lstm data=synthetic` builds).

# %%
device = torch.device("cuda" if GPU else "cpu")
x = torch.randn(4, 3)
print("x on", x.device, "-> x.to(device) on", x.to(device).device)
_, model = built(config("data=synthetic", "model=lstm", "model.hidden_size=32", name="02_move"))
print("model parameters on", next(model.parameters()).device)
model.to(device)
print("after model.to(device):", {p.device.type for p in model.parameters()})
if GPU:
    try:
        torch.randn(2, 2, device="cuda") @ torch.randn(2, 2)
    except RuntimeError as error:
        print("mixing devices fails:", str(error).splitlines()[0])
else:
    print("mixing devices:", NO_GPU)

# %% [markdown]
# ## 2. Timing honestly
#
# CUDA calls are *asynchronous*: `a @ b` on a GPU returns as soon as the kernel is queued. A
# timer around it measures the launch, not the work, unless it waits with
# `torch.cuda.synchronize()` before reading the clock. The first calls also pay one-off costs
# (CUDA context, cuDNN/oneDNN kernel selection, memory allocation), so warm up first, then take
# the median of several repeats.


# %%
def timed(
    fn: Callable[[], object], device: str, repeats: int = pick(3, 10), warmup: int = 2
) -> float:
    """Median seconds of `fn()` after `warmup` untimed calls, synchronised on CUDA."""
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


n = pick(256, 1024)
a, b = torch.randn(n, n), torch.randn(n, n)
start = time.perf_counter()
a @ b
print(f"cpu, first call: {1e3 * (time.perf_counter() - start):.2f} ms;", end=" ")
print(f"warm median: {1e3 * timed(lambda: a @ b, 'cpu'):.2f} ms")
if GPU:
    ga, gb = a.cuda(), b.cuda()
    timed(lambda: ga @ gb, "cuda")
    start = time.perf_counter()
    ga @ gb
    launch = time.perf_counter() - start
    print(f"cuda without synchronize: {1e3 * launch:.3f} ms (the launch only);", end=" ")
    print(f"with: {1e3 * timed(lambda: ga @ gb, 'cuda'):.3f} ms")
else:
    print("cuda timing:", NO_GPU)

# %% [markdown]
# ## 3. A matrix product: CPU vs GPU as the size grows
#
# An $n \times n$ product costs $2n^3$ floating-point operations. Small products cannot fill a
# GPU and are dominated by launch overhead; large ones run orders of magnitude faster.

# %%
sizes = pick([64, 128, 256], [128, 256, 512, 1024, 2048])
throughput = {d: [] for d in DEVICES}
for size in sizes:
    for d in DEVICES:
        p, q = torch.randn(size, size, device=d), torch.randn(size, size, device=d)
        throughput[d].append(2 * size**3 / timed(lambda p=p, q=q: p @ q, d) / 1e9)
    print(f"n={size}: " + ", ".join(f"{d} {throughput[d][-1]:.1f} GFLOP/s" for d in DEVICES))
if not GPU:
    print("cuda:", NO_GPU)

# %% [markdown]
# ## 4. An LSTM as the batch grows
#
# One LSTM layer (torch's fused kernel: cuDNN on the GPU, oneDNN on the CPU), forward and
# backward over sequences of length $T$. The time steps are sequential; only the batch and the
# hidden units run in parallel, so a GPU needs large batches to pay off.

# %%
T, HIDDEN = pick(20, 100), pick(64, 256)
batches = pick([1, 8, 32], [1, 8, 32, 128, 512])


def lstm_step(lstm: nn.Module, inputs: torch.Tensor) -> None:
    outputs, _ = lstm(inputs)
    outputs.sum().backward()


lstm_rate = {d: [] for d in DEVICES}
for d in DEVICES:
    lstm = nn.LSTM(HIDDEN, HIDDEN, batch_first=True).to(d)
    for batch in batches:
        inputs = torch.randn(batch, T, HIDDEN, device=d)
        lstm_rate[d].append(batch / timed(lambda i=inputs, m=lstm: lstm_step(m, i), d))
    print(d, "sequences/s:", [f"{r:.0f}" for r in lstm_rate[d]])
if not GPU:
    print("cuda:", NO_GPU)

# %% [markdown]
# ## 5. The fused kernel vs a Python loop over time
#
# `nn.LSTM` runs all $T$ steps inside one library call. The same cell written as a Python loop
# (`nn.LSTMCell` once per step) launches several small operations per step; on a GPU each one
# is a kernel launch of a few microseconds. seqlab keeps RNN/LSTM/GRU on the fused kernels
# for this reason (and Li-GRU has its own fused scan).


# %%
def cell_loop(cell: nn.LSTMCell, inputs: torch.Tensor) -> None:
    h = c = inputs.new_zeros(inputs.shape[0], cell.hidden_size)
    outputs = []
    for t in range(inputs.shape[1]):
        h, c = cell(inputs[:, t], (h, c))
        outputs.append(h)
    torch.stack(outputs, 1).sum().backward()


LOOP_BATCH = pick(16, 64)
fused_vs_loop = {}
for d in DEVICES:
    inputs = torch.randn(LOOP_BATCH, T, HIDDEN, device=d)
    lstm = nn.LSTM(HIDDEN, HIDDEN, batch_first=True).to(d)
    cell = nn.LSTMCell(HIDDEN, HIDDEN).to(d)
    fused = timed(lambda m=lstm, i=inputs: lstm_step(m, i), d)
    loop = timed(lambda m=cell, i=inputs: cell_loop(m, i), d)
    fused_vs_loop[d] = (fused, loop)
    print(f"{d}: fused {1e3 * fused:.1f} ms, loop {1e3 * loop:.1f} ms ({loop / fused:.1f}x slower)")
if not GPU:
    print("cuda:", NO_GPU)

# %% [markdown]
# ## 6. bf16 autocast
#
# Under `torch.autocast(device_type, dtype=torch.bfloat16)` matrix products run in bfloat16
# (8 bits of mantissa, float32's range) while reductions and the weights stay in float32.
# On recent GPUs (Ampere and newer) bf16 products use tensor cores; `trainer=gpu` trains this
# way (`precision: bf16-mixed`). On a CPU without bf16 units it may be *slower*.

# %%
autocast = {}
for d in DEVICES:
    p, q = torch.randn(sizes[-1], sizes[-1], device=d), torch.randn(sizes[-1], sizes[-1], device=d)
    with torch.autocast(d, dtype=torch.bfloat16):
        low = p @ q
        seconds = timed(lambda p=p, q=q: p @ q, d)
    error = ((low.float() - p @ q).norm() / (p @ q).norm()).item()
    autocast[d] = (timed(lambda p=p, q=q: p @ q, d), seconds)
    print(
        f"{d}: result dtype {low.dtype}, relative error vs float32 {error:.1e}, "
        f"float32 {1e3 * autocast[d][0]:.2f} ms, bf16 {1e3 * seconds:.2f} ms"
    )
if not GPU:
    print("cuda:", NO_GPU)

# %% [markdown]
# ## 7. Pinned memory and `non_blocking`
#
# A copy from ordinary (pageable) host memory to the GPU goes through a staging buffer and
# blocks. From *pinned* (page-locked) memory, `x.to("cuda", non_blocking=True)` is a DMA
# transfer that overlaps with GPU work. Lightning moves each batch with `non_blocking` when
# the loader pins memory (`DataLoader(pin_memory=True)`).

# %%
if GPU:
    host = torch.randn(pick(64, 512), T, HIDDEN)
    pinned = host.pin_memory()
    pageable_s = timed(lambda: host.to("cuda"), "cuda")
    pinned_s = timed(lambda: pinned.to("cuda", non_blocking=True), "cuda")
    megabytes = host.numel() * 4 / 1e6
    print(
        f"{megabytes:.0f} MB: pageable {megabytes / pageable_s / 1e3:.1f} GB/s, "
        f"pinned + non_blocking {megabytes / pinned_s / 1e3:.1f} GB/s"
    )
else:
    print("pinned memory:", NO_GPU)

# %% [markdown]
# ## 8. What `trainer=gpu` and `trainer=ddp` set
#
# seqlab's training code is the same on every device: the `trainer` group only changes
# Lightning's Trainer arguments. `trainer=gpu` asks for one CUDA device and bf16 mixed precision;
# `trainer=ddp` starts one process per GPU (`devices`), each with a full copy of the model and
# its own shard of the batches (seqlab's length-aware sampler shards them, hence
# `use_distributed_sampler: false`), and all-reduces the gradients after every backward pass.
# `data.batch_size` is per process: the effective batch is `devices x num_nodes x batch_size`.

# %%
for option in ("default", "gpu", "ddp"):
    trainer = config(f"trainer={option}", name="02_trainer").trainer
    keys = ("accelerator", "devices", "num_nodes", "strategy", "precision")
    shown = {k: trainer[k] for k in keys if k in trainer}
    print(f"trainer={option}:", shown)
print("e.g.  python train.py trainer=gpu model=lstm")
print("      python train.py trainer=ddp trainer.devices=2")

# %%
figure, axes = plt.subplots(1, 4, figsize=(18, 3.8))
for d in DEVICES:
    axes[0].loglog(sizes, throughput[d], marker="o", label=d)
    axes[1].loglog(batches, lstm_rate[d], marker="o", label=d)
axes[0].set(title="matrix product", xlabel="n (n x n)", ylabel="GFLOP/s")
axes[1].set(title=f"LSTM fwd+bwd, T={T}, H={HIDDEN}", xlabel="batch size", ylabel="sequences / s")
labels = [f"{d}\n{kind}" for d in fused_vs_loop for kind in ("fused", "loop")]
values = [1e3 * s for pair in fused_vs_loop.values() for s in pair]
axes[2].bar(labels, values, color=["tab:blue", "tab:orange"] * len(fused_vs_loop))
axes[2].set(
    title=f"LSTM: fused kernel vs Python loop (batch {LOOP_BATCH})", ylabel="ms per fwd+bwd"
)
labels = [f"{d}\n{kind}" for d in autocast for kind in ("float32", "bf16")]
values = [1e3 * s for pair in autocast.values() for s in pair]
axes[3].bar(labels, values, color=["tab:blue", "tab:green"] * len(autocast))
axes[3].set(title=f"matrix product n={sizes[-1]}: autocast", ylabel="ms")
for axis in axes:
    axis.grid(True, which="both", alpha=0.3)
for axis in axes[:2]:
    axis.legend()
figure.suptitle("no GPU here: CPU only" if not GPU else torch.cuda.get_device_name())
figure.tight_layout()
save(figure, "02_timings")
plt.show()

# %% [markdown]
# **What to look for.** Left: a GPU's throughput keeps rising with the matrix size (at small
# $n$ it is no faster than a CPU: launch overhead dominates), while a CPU's levels off or
# drops once the matrices outgrow its caches. Second: LSTM sequences per second rise with the
# batch until the device is busy; a GPU needs a much larger batch than a CPU to get there,
# which is why GPU training uses large batches (and length bucketing, so they are not mostly
# padding). Third: the Python loop is slower than the fused kernel for the same arithmetic;
# by how much depends on how little work each step does (small batch or hidden size: the
# per-step overhead dominates), and it is worst on a GPU, where every step launches several
# kernels. Right: bf16 autocast halves the bytes moved and uses tensor cores on a GPU; on a
# CPU it helps only where the processor has bf16 instructions (compare the two bars). Always
# compare timings measured in the same run, warmed up and synchronised.
