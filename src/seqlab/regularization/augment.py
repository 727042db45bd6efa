"""Label-preserving augmentations of padded float sequences, applied to training batches.

Every function takes `(x [B, T, D], lengths [B] CPU)` and returns `(x, lengths)` with each
sequence transformed with probability `p`, lengths updated, and padded steps exactly zero.
Random numbers come from torch's global generator (seeded by the run's seed).
"""

from dataclasses import replace

import torch
from torch import Tensor, nn

from seqlab.data.batch import Batch, length_mask


def _chosen(lengths: Tensor, p: float) -> Tensor:
    """[B] bool on the CPU: which sequences this augmentation transforms."""
    return torch.rand(lengths.shape) < p


def _span(sizes: Tensor, max_fraction: float) -> tuple[Tensor, Tensor]:
    """Random [start, start + width) inside each size, width <= max_fraction * size."""
    width = (torch.rand(sizes.shape) * (max_fraction * sizes + 1)).floor().long()
    width = torch.minimum(width, (max_fraction * sizes).floor().long())
    start = (torch.rand(sizes.shape) * (sizes - width + 1)).floor().long()
    return start, width


def time_mask(x: Tensor, lengths: Tensor, p: float, max_fraction: float) -> tuple[Tensor, Tensor]:
    """Zero one contiguous span of at most `max_fraction` of each sequence's real steps."""
    start, width = _span(lengths, max_fraction)
    width = width * _chosen(lengths, p)
    steps = torch.arange(x.shape[1])
    masked = (steps >= start[:, None]) & (steps < (start + width)[:, None])
    return x.masked_fill(masked.to(x.device).unsqueeze(-1), 0.0), lengths


def feature_mask(
    x: Tensor, lengths: Tensor, p: float, max_fraction: float
) -> tuple[Tensor, Tensor]:
    """Zero one contiguous band of at most `max_fraction` of the features, at every step."""
    sizes = torch.full(lengths.shape, x.shape[2], dtype=torch.long)
    start, width = _span(sizes, max_fraction)
    width = width * _chosen(lengths, p)
    features = torch.arange(x.shape[2])
    masked = (features >= start[:, None]) & (features < (start + width)[:, None])
    return x.masked_fill(masked.to(x.device).unsqueeze(1), 0.0), lengths


def additive_noise(x: Tensor, lengths: Tensor, p: float, std: float) -> tuple[Tensor, Tensor]:
    """Add N(0, std^2) to every real step of the chosen sequences."""
    keep = length_mask(lengths, x.shape[1], x.device) & _chosen(lengths, p).to(x.device)[:, None]
    return x + torch.randn_like(x) * std * keep.unsqueeze(-1).to(x.dtype), lengths


def time_stretch(
    x: Tensor, lengths: Tensor, p: float, min_rate: float, max_rate: float
) -> tuple[Tensor, Tensor]:
    """Speed perturbation: resample each sequence at a rate in [min_rate, max_rate].

    Rate r > 1 plays faster (round(L / r) steps), r < 1 slower; frames are linearly
    interpolated between the sequence's own real steps, never from padding.
    """
    rate = min_rate + torch.rand(lengths.shape) * (max_rate - min_rate)
    rate = torch.where(_chosen(lengths, p), rate, torch.ones_like(rate))
    new_lengths = (lengths / rate).round().long().clamp(min=1)
    steps = torch.arange(int(new_lengths.max()))
    scale = (lengths - 1) / (new_lengths - 1).clamp(min=1)
    position = (steps[None, :] * scale[:, None]).clamp(max=(lengths - 1)[:, None].float())
    low = position.floor().long()
    high = torch.minimum(low + 1, (lengths - 1)[:, None])
    frac = (position - low).to(x.device, x.dtype).unsqueeze(-1)
    out = _gather_steps(x, low) * (1 - frac) + _gather_steps(x, high) * frac
    return _zero_padding(out, new_lengths), new_lengths


def random_crop(x: Tensor, lengths: Tensor, p: float, min_fraction: float) -> tuple[Tensor, Tensor]:
    """Keep a random contiguous window of at least `min_fraction` of each sequence."""
    keep = min_fraction + torch.rand(lengths.shape) * (1.0 - min_fraction)
    keep = torch.where(_chosen(lengths, p), keep, torch.ones_like(keep))
    new_lengths = torch.minimum((keep * lengths).ceil().long().clamp(min=1), lengths)
    start = (torch.rand(lengths.shape) * (lengths - new_lengths + 1)).floor().long()
    steps = torch.arange(int(new_lengths.max()))
    index = torch.minimum(start[:, None] + steps[None, :], (lengths - 1)[:, None])
    return _zero_padding(_gather_steps(x, index), new_lengths), new_lengths


def _gather_steps(x: Tensor, index: Tensor) -> Tensor:
    """x[b, index[b, t], :] for an index [B, T'] held on the CPU."""
    index = index.to(x.device)[:, :, None].expand(-1, -1, x.shape[2])
    return x.gather(1, index)


def _zero_padding(x: Tensor, lengths: Tensor) -> Tensor:
    return x * length_mask(lengths, x.shape[1], x.device).unsqueeze(-1).to(x.dtype)


def _check(name: str, value: float, low: float, high: float, closed_low: bool = True) -> None:
    ok = (low <= value if closed_low else low < value) and value <= high
    if not ok:
        bracket = "[" if closed_low else "("
        raise ValueError(
            f"regularizer.augment.{name} must be in {bracket}{low}, {high}], got {value}"
        )


class SequenceAugment(nn.Module):
    """The configured augmentations in a fixed order, on training batches only.

    Order: time stretch, random crop (both change lengths), time mask, feature mask, noise.
    Only float feature inputs with one target per sequence: per-step or sequence targets
    would need the same transformation, so such batches are refused.
    """

    def __init__(self, config: dict) -> None:
        super().__init__()
        self.config = config
        for name, settings in config.items():
            _check(f"{name}.p", settings["p"], 0.0, 1.0)
        _check("time_mask.max_fraction", config["time_mask"]["max_fraction"], 0.0, 0.999999)
        _check("feature_mask.max_fraction", config["feature_mask"]["max_fraction"], 0, 0.999999)
        _check("noise.std", config["noise"]["std"], 0.0, float("inf"))
        stretch = config["time_stretch"]
        _check("time_stretch.min_rate", stretch["min_rate"], 0.0, float("inf"), closed_low=False)
        _check("time_stretch.max_rate", stretch["max_rate"], stretch["min_rate"], float("inf"))
        _check("random_crop.min_fraction", config["random_crop"]["min_fraction"], 0, 1, False)

    def forward(self, batch: Batch) -> Batch:
        if not self.training:
            return batch
        if batch.target_lengths is not None or not batch.inputs.is_floating_point():
            raise ValueError(
                "regularizer.augment works on float feature inputs with one target per "
                "sequence (many-to-one); this batch has "
                + ("token inputs" if not batch.inputs.is_floating_point() else "target sequences")
            )
        c = self.config
        x, lengths = batch.inputs, batch.lengths
        x, lengths = time_stretch(x, lengths, **c["time_stretch"])
        x, lengths = random_crop(x, lengths, **c["random_crop"])
        x, lengths = time_mask(x, lengths, **c["time_mask"])
        x, lengths = feature_mask(x, lengths, **c["feature_mask"])
        x, lengths = additive_noise(x, lengths, **c["noise"])
        return replace(batch, inputs=x, lengths=lengths)
