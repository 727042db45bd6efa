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
# # Lab 3: regularization
#
# A model with many more parameters than training sequences can memorise them: training
# accuracy climbs to 1 while validation accuracy stalls. This lab overfits a small dataset on
# purpose, then trains the same model with each of seqlab's regularizers (dropout in its two
# formulations, an L2 penalty, label smoothing, noise injection, data augmentation) and a
# bagging ensemble, and measures what each does to the gap between training and validation.
# Every run is `python train.py ...` with the overrides shown.

# %%
import matplotlib.pyplot as plt
import torch
from labkit import SMALL, built, last_checkpoint, metrics_by_epoch, pick, run, save

from seqlab.regularization.dropout import SequenceDropout

print("size:", "small" if SMALL else "full")

# %% [markdown]
# ## 1. Inverted dropout vs scale-at-test
#
# Dropout zeroes each unit with probability $p$ during training. To keep the expected
# activation the same at test time, either scale the kept units by $1/(1-p)$ while training and
# do nothing at test (`mode=inverted`, what torch does), or leave training alone and multiply
# by $1-p$ at test (`mode=scale_at_test`, the original formulation). Both give the same
# expectation; inverted dropout leaves the test-time network untouched.

# %%
activations = torch.ones(10_000, 1, 8)
for mode in ("inverted", "scale_at_test"):
    dropout = SequenceDropout(p=0.5, mode=mode)
    trained_mean = dropout.train()(activations).mean().item()
    tested_mean = dropout.eval()(activations).mean().item()
    print(f"{mode:>13}: mean in training {trained_mean:.3f}, at test {tested_mean:.3f}")

# %% [markdown]
# ## 2. Overfitting a small dataset, and each regularizer
#
# The data: `data=synthetic`, short sequences (3-10 steps) of 8 noisy features whose class is
# the feature with the raised mean; few training sequences and a wide LSTM, so it can memorise.
# Early stopping is off, so every run trains for the same number of epochs.

# %%
DATA = ["data=synthetic", f"data.num_items={pick(32, 128)}", "data.min_length=3"]
DATA += ["data.max_length=10", "data.input_size=8", "data.num_classes=8", "data.batch_size=16"]
MODEL = ["model=lstm", f"model.hidden_size={pick(16, 128)}"]
COMMON = [*DATA, *MODEL, f"trainer.max_epochs={pick(3, 60)}", "callbacks.early_stopping=null"]
COMMON += ["scheduler=none", "test=false", "callbacks.step_budget=null"]  # epochs set the budget
COMMON += ["ensemble=none"]  # one model per variant: kfold would validate on its training items
VARIANTS = {
    "none": [],
    "dropout (inverted)": ["regularizer=dropout", "regularizer.dropout.p=0.5"],
    "dropout (scale at test)": [
        "regularizer=dropout",
        "regularizer.dropout.p=0.5",
        "regularizer.dropout.mode=scale_at_test",
    ],
    "l2": ["regularizer=l2", "regularizer.l2.weight=0.001"],
    "label smoothing": ["regularizer=label_smoothing", "regularizer.label_smoothing.epsilon=0.2"],
    "noise": ["regularizer=noise", "regularizer.noise.std=0.5", "regularizer.noise.inputs=true"],
    "augment": ["regularizer=augment"],
    "bagging": ["ensemble=bagging", f"ensemble.members={pick(2, 5)}"],
}


def accuracy(model, loader) -> float:
    """Accuracy of the model in eval mode (no dropout, no noise) over one pass of `loader`."""
    hits = total = 0
    with torch.no_grad():
        for batch in loader:
            hits += int((model(batch)["main"].argmax(-1) == batch.targets).sum())
            total += len(batch)
    return hits / total


results, curves = {}, {}
for number, (name, overrides) in enumerate(VARIANTS.items()):
    cfg, _ = run(*COMMON, *overrides, name=f"03_variant{number}")
    datamodule, model = built(cfg, last_checkpoint(cfg))
    train_acc = accuracy(model, datamodule.train_dataloader())
    val_acc = accuracy(model, datamodule.val_dataloader())
    results[name] = (train_acc, val_acc)
    curves[name] = metrics_by_epoch(cfg)
    print(f"{name:>24}: train {train_acc:.3f}  val {val_acc:.3f}  gap {train_acc - val_acc:+.3f}")

# %%
SMOOTH = pick(1, 5)


def smoothed(values: list[float]) -> list[float]:
    """Running mean over the last SMOOTH epochs: a small validation split is noisy."""
    windows = [values[max(0, i - SMOOTH + 1) : i + 1] for i in range(len(values))]
    return [sum(window) / len(window) for window in windows]


figure, axes = plt.subplots(1, 3, figsize=(17, 4.2))
for key, style in (("train/loss", "--"), ("val/loss", "-")):
    epochs, values = zip(*curves["none"][key], strict=True)
    axes[0].plot(epochs, values, style, label=key)
axes[0].set(title="no regularization: learning curves", xlabel="epoch", ylabel="cross-entropy")
axes[0].legend()
for name, curve in curves.items():
    epochs, values = zip(*curve["val/acc"], strict=True)
    axes[1].plot(epochs, smoothed(values), label=name, lw=2.5 if name == "none" else 1.2)
axes[1].set(
    title=f"validation accuracy (mean of {SMOOTH} epochs)", xlabel="epoch", ylabel="val/acc"
)
axes[1].legend(fontsize=7)
names = list(results)
positions = torch.arange(len(names)).float()
axes[2].bar(positions - 0.2, [results[n][0] for n in names], width=0.4, label="train (eval mode)")
axes[2].bar(positions + 0.2, [results[n][1] for n in names], width=0.4, label="validation")
axes[2].set_xticks(positions.tolist(), names, rotation=35, ha="right", fontsize=8)
axes[2].set(title="accuracy after the last epoch: the gap", ylabel="accuracy", ylim=(0, 1.05))
axes[2].legend(fontsize=8)
for axis in axes:
    axis.grid(True, alpha=0.3)
figure.tight_layout()
save(figure, "03_regularization")
plt.show()

# %% [markdown]
# **What to look for.** Left: without regularization the training loss keeps falling while
# the validation loss turns up after a few epochs: from there on the model learns its training
# sequences, not the task. Middle: a regularizer helps if its validation accuracy ends higher
# than the thick `none` curve, not merely if the training curve is worse. Right: the height
# difference of each pair of bars is the generalisation gap, measured the same way for every
# variant (the model in eval mode on the training and validation splits, so dropout and noise
# do not lower the training bar). Dropout, noise and augmentation make memorising harder;
# L2 shrinks the weights; label smoothing stops the logits growing without bound; bagging
# averages members that each saw a different bootstrap sample. The two dropout formulations
# differ only in where the $1-p$ factor goes, so the difference between their bars is a
# yardstick for run-to-run noise here. The validation split has only a quarter as many
# sequences as training (one sequence is several points of accuracy): rerun with another
# `seed=` before trusting a ranking.
