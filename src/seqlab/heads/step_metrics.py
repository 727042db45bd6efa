"""Epoch-level metrics over real time steps: exact aggregates, not means of batch values."""

import torch
from torch import Tensor
from torchmetrics import MeanMetric, Metric


class Perplexity(MeanMetric):
    """exp of the mean per-token cross-entropy over every real token seen this epoch.

    Update it with per-token losses; averaging per-batch perplexities instead would weight
    short batches wrongly and overstate the value (exp is convex).
    """

    def compute(self) -> Tensor:
        return torch.exp(super().compute())


class RatioOfSums(Metric):
    """sum(numerator) / sum(denominator) over the epoch, e.g. model SSE / baseline SSE."""

    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        self.add_state("numerator", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("denominator", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, numerator: Tensor, denominator: Tensor) -> None:
        self.numerator += numerator.detach().double().sum()
        self.denominator += denominator.detach().double().sum()

    def compute(self) -> Tensor:
        return (self.numerator / self.denominator).float()
