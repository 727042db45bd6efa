"""Label smoothing: the soft target distribution behind `F.cross_entropy(label_smoothing=)`."""

import torch
from torch import Tensor


def check_epsilon(epsilon: float) -> float:
    """Epsilon must leave the true class the most probable one: [0, 1)."""
    if not 0.0 <= epsilon < 1.0:
        raise ValueError(f"regularizer.label_smoothing.epsilon must be in [0, 1), got {epsilon}")
    return epsilon


def smoothed_targets(targets: Tensor, num_classes: int, epsilon: float) -> Tensor:
    """[..., K] distribution: 1 - epsilon + epsilon/K on the true class, epsilon/K elsewhere.

    This is exactly the target torch's cross-entropy uses with `label_smoothing=epsilon`.
    """
    check_epsilon(epsilon)
    one_hot = torch.nn.functional.one_hot(targets, num_classes).float()
    return one_hot * (1.0 - epsilon) + epsilon / num_classes
