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
# # Lab 1: vanishing and exploding gradients
#
# A recurrent net applies the same map at every step, so the gradient of a loss read at the
# end of a sequence reaches step $t$ through a *product* of $T - t$ Jacobians. A product of
# many factors either shrinks or grows geometrically: gradients vanish or explode. This lab
# shows it on a scalar chain, then measures $\|\partial L / \partial h_t\|$ over $t$ in seqlab's
# encoders (RNN, LSTM, GRU, Li-GRU), for three initialisations, before and after training,
# and ends with an exploding case and what gradient clipping does to it.
#
# Set `SEQLAB_LAB_SIZE=small` for a quick run (the tests do); the default is the full size.

# %%
import matplotlib.pyplot as plt
import torch
from labkit import SMALL, built, config, last_checkpoint, metric_by_step, pick, run, save

from seqlab.callbacks.grad_flow import gradient_flow

torch.manual_seed(0)
print("size:", "small" if SMALL else "full")

# %% [markdown]
# ## 1. The product of Jacobians, on a scalar chain
#
# Take $h_t = \tanh(w\,h_{t-1} + x_t)$ with a scalar weight $w$ and a loss $L = h_T$. By the
# chain rule
# $$\frac{\partial h_T}{\partial h_t} = \prod_{s=t+1}^{T} \frac{\partial h_s}{\partial h_{s-1}}
# = \prod_{s=t+1}^{T} w\,(1 - h_s^2).$$
# Each factor is at most $|w|$: for $|w| < 1$ the product vanishes like $|w|^{T-t}$. Without
# the tanh (a linear chain) a factor is exactly $w$, and $|w| > 1$ explodes. Below, autograd's
# gradient and the product formula agree to rounding.


# %%
def scalar_chain(w: float, steps: int, linear: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """|dh_T/dh_t| for t = 0..T-1 by autograd, and by the product formula."""
    inputs = 0.5 * torch.randn(
        steps, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    states, h = [], torch.zeros((), dtype=torch.float64, requires_grad=True)
    for x in inputs:
        h = w * h + x if linear else torch.tanh(w * h + x)
        h.retain_grad()
        states.append(h)
    states[-1].backward()
    autograd = torch.stack([s.grad for s in states]).abs()
    values = torch.stack([s.detach() for s in states])
    factors = torch.full((steps,), abs(w), dtype=torch.float64)
    if not linear:
        factors = factors * (1 - values**2)
    # dh_T/dh_t = product of the factors of steps t+1..T (empty product at t = T: 1)
    formula = torch.cat(
        [factors[1:].flip(0).cumprod(0).flip(0), torch.ones(1, dtype=torch.float64)]
    )
    return autograd, formula


STEPS = 60
figure, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for axis, linear in zip(axes, (True, False), strict=True):
    for w in (0.5, 0.9, 1.0, 1.1, 2.0):
        autograd, formula = scalar_chain(w, STEPS, linear)
        error = ((autograd - formula).abs() / formula.clamp(min=1e-300)).max().item()
        print(f"{'linear' if linear else 'tanh  '} w={w}: max relative error {error:.1e}")
        axis.semilogy(range(STEPS), autograd.numpy(), label=f"w = {w}")
    axis.set_title(
        "linear chain $h_t = w h_{t-1} + x_t$"
        if linear
        else r"tanh chain $h_t = \tanh(w h_{t-1} + x_t)$"
    )
    axis.set_xlabel("step t")
    axis.grid(True, which="both", alpha=0.3)
axes[0].set_ylabel(r"$|\partial h_T / \partial h_t|$")
axes[1].legend()
figure.tight_layout()
save(figure, "01_scalar_chain")
plt.show()

# %% [markdown]
# **What to look for.** On a log scale a product of $T - t$ similar factors is a straight line:
# its slope is $\log$ of the typical factor. In the linear chain, $w = 1$ is flat, $w < 1$ falls
# and $w > 1$ rises towards early steps (exploding). With tanh every factor is $|w|(1-h^2)
# \le |w|$, so even $w = 1.1$ or $2$ bends down once the units saturate: the nonlinearity trades
# explosion for vanishing. Training can only follow a gradient that reaches step $t$.

# %% [markdown]
# ## 2. Gradient flow through time in seqlab's encoders
#
# `seqlab.callbacks.grad_flow.gradient_flow(task.gradient_probe(), batch)` returns
# $\|\partial L / \partial h_t\|$ at every step $t$ (the top layer's hidden state $h_t$, which
# every encoder exposes through `EncoderOutput.states`). The loss is read once, from the final
# state, as in a many-to-one task.
#
# The data: the adding problem (`experiment=adding`): two marked values among $T$ steps, the
# target their sum, regressed from the final state. The marked steps can lie anywhere, so the
# gradient must reach early steps for the model to beat the constant baseline (MSE ~0.167).

# %%
T = pick(40, 100)
HIDDEN = pick(16, 64)
TASK = [
    "experiment=adding",
    f"data.length={T}",
    f"model.hidden_size={HIDDEN}",
    "callbacks.step_budget=null",  # the epochs below set each run's budget
]
MODELS = ("rnn", "lstm", "gru", "ligru")


def flow(cfg, weights: str | None = None):
    """Mean |dL/dh_t| over one validation batch, for the model the config builds."""
    datamodule, model = built(cfg, weights)
    return gradient_flow(model.gradient_probe(), next(iter(datamodule.val_dataloader())))


def plot_flows(axis, flows: dict, title: str) -> None:
    for label, measured in flows.items():
        axis.semilogy(measured.norms.numpy(), label=f"{label} ({measured.quantity})")
    axis.set_title(title)
    axis.set_xlabel("time step t")
    axis.set_ylabel(r"mean $|\partial L / \partial h_t|$")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8)


at_init = {
    m: flow(config(*TASK, "data.num_items=64", f"model={m}", name=f"01_init_{m}")) for m in MODELS
}
inits = {
    init: flow(config(*TASK, "data.num_items=64", "model=rnn", f"init={init}", name=f"01_{init}"))
    for init in ("uniform", "glorot", "orthogonal")
}
figure, axes = plt.subplots(1, 2, figsize=(12, 4))
plot_flows(axes[0], at_init, f"at initialisation (init=default), T = {T}")
plot_flows(axes[1], inits, "model=rnn: init=uniform (U[-0.3, 0.3]) | glorot | orthogonal")
figure.tight_layout()
save(figure, "01_flow_at_init")
plt.show()

# %% [markdown]
# ## 3. After training
#
# Each model trains for a few hundred steps (a few in the small size), then the flow is
# measured again with the trained weights (the run's `last.ckpt`).

# %%
EPOCHS = pick(1, 10)
trained = {}
for m in MODELS:
    overrides = [
        *TASK,
        f"model={m}",
        f"data.num_items={pick(64, 1024)}",
        f"trainer.max_epochs={EPOCHS}",
    ]
    cfg, metrics = run(*overrides, "test=false", name=f"01_train_{m}")
    trained[m] = flow(cfg, last_checkpoint(cfg))
    print(f"model={m}: val/mse {metrics['val/mse']:.3f} (constant baseline ~0.167)")

figure, axes = plt.subplots(1, len(MODELS), figsize=(16, 3.6), sharey=True)
for axis, m in zip(axes, MODELS, strict=True):
    plot_flows(axis, {"at init": at_init[m], "trained": trained[m]}, f"model={m}")
figure.tight_layout()
save(figure, "01_flow_trained")
plt.show()

# %% [markdown]
# **What to look for.** Each curve is $\|\partial L/\partial h_t\|$ on a log scale; the right
# end is the step the loss reads. A curve that falls by many decades towards $t = 0$ means the
# first steps cannot be learnt from. At initialisation the plain RNN falls fastest and the gated
# cells (LSTM, GRU) more slowly: their additive state update has Jacobian factors near 1 while
# the gates stay open. On the right, glorot and orthogonal fall alike: orthogonal recurrent
# weights have every singular value 1, but the tanh derivatives $(1 - h^2)$ still shrink each
# factor. U[-0.3, 0.3] depends on the width: on 64 units (full size) its recurrent matrix has
# a spectral radius above 1 and the curve is nearly flat, at the edge of explosion; on 16 units
# (small size) it vanishes like the others. Training reshapes the curves: a model that learnt to
# carry the marked values keeps a flatter curve, since its loss depends on early steps; a
# model stuck at the baseline (predicting ~1.0 whatever the inputs) has no reason to.

# %% [markdown]
# ## 4. An exploding case, and gradient clipping
#
# A tanh RNN with weights U[-0.6, 0.6] has Jacobian factors above 1: the gradient grows
# towards early steps. With plain SGD the update is `lr x gradient`, so one exploding gradient
# throws the weights far away. `trainer.gradient_clip_val=c` rescales the gradient to norm at
# most $c$ before the step (seqlab logs `grad_norm/total` before clipping and
# `grad_norm/total_clipped` after). The ReLU version of this net overflows outright: seqlab
# stops the run at the first non-finite loss and names the step.

# %%
EXPLODING = [*TASK, "model=rnn", "init=uniform", "init.uniform_bound=0.6", "model.hidden_size=64"]
EXPLODING += [
    "optimizer=sgd",
    "optimizer.lr=0.05",
    "optimizer.momentum=0",
    "optimizer.nesterov=false",
]
EXPLODING += ["scheduler=none", "trainer.log_every_n_steps=1"]
EXPLODING += [
    f"data.num_items={pick(160, 640)}",
    "data.batch_size=32",
    f"trainer.max_epochs={pick(2, 5)}",
]
print(
    "initial flow, first / last step:", f"{flow(config(*EXPLODING, name='01_explode')).ratio:.3g}"
)
try:
    run(*EXPLODING, "model.nonlinearity=relu", "test=false", name="01_explode_relu")
except Exception as error:  # show the message seqlab stops with
    print("model.nonlinearity=relu:", type(error).__name__, "-", str(error).splitlines()[-1][:160])

curves = {}
for clip in (None, 1.0):
    extra = [f"trainer.gradient_clip_val={clip}"] if clip else []
    cfg, metrics = run(*EXPLODING, *extra, "test=false", name=f"01_clip_{clip}")
    curves[clip] = {key: metric_by_step(cfg, key) for key in ("grad_norm/total", "train/loss")}
    curves[clip]["applied"] = metric_by_step(
        cfg, "grad_norm/total_clipped" if clip else "grad_norm/total"
    )
    print(f"gradient_clip_val={clip}: val/mse {metrics['val/mse']:.3f}")

figure, axes = plt.subplots(1, 3, figsize=(15, 3.8))
for clip, curve in curves.items():
    label = f"clip {clip}" if clip else "no clipping"
    axes[0].semilogy(*curve["grad_norm/total"], label=label)
    axes[1].semilogy(*curve["applied"], label=label)
    axes[2].plot(*curve["train/loss"], label=label)
titles = ("gradient norm (before clipping)", "norm of the gradient the step used", "training loss")
for axis, title in zip(axes, titles, strict=True):
    axis.set_title(title)
    axis.set_xlabel("optimizer step")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend()
figure.tight_layout()
save(figure, "01_clipping")
plt.show()

# %% [markdown]
# **What to look for.** The initial ratio $|\partial L/\partial h_0| / |\partial L/\partial h_T|$
# is far above 1: an exploding net. Without clipping the first SGD step uses the full exploding
# gradient (left and middle panels coincide), so the weights jump to wherever that one step
# sends them: here into saturated units where the gradient is small and training can go on,
# but another seed or learning rate can land anywhere (the ReLU version overflowed to NaN).
# With clipping every step uses a gradient of norm at most 1 (middle panel, flat at 1), so no
# single step can wreck the weights, but the raw gradient stays huge (left): the net remains
# in the exploding region, where steps of length `lr x 1` make slow progress (right). Clipping
# bounds the size of the *step*, not the cause (the product of Jacobians); initialisation and
# gating address the cause. Compare the training losses before drawing a conclusion from one
# run.
