"""K-fold cross-fitting: K members, member k trained on every training item outside fold k.

An item's fold is hashed from (seed, dataset index), so it is the same in every epoch, on
every DDP rank and after resuming, like the bagging bootstrap. Validation runs over the
training items themselves (`data.cross_fit`): each is scored by the one member that never
trained on it, so checkpoint selection and early stopping see every item, out of fold,
instead of a small hold-out; test and prediction average all K members.
"""

import math

import torch
from torch import Tensor

from seqlab.tasks.bagging import hashed_uniform


def fold_of(seed: int, index: int, folds: int) -> int:
    """The fold (0 .. folds - 1) of dataset item `index`."""
    return math.floor(hashed_uniform(seed, index, "fold") * folds)


def item_folds(seed: int, indices: Tensor, folds: int) -> Tensor:
    """[B] long folds of the dataset items `indices`."""
    return torch.tensor([fold_of(seed, i, folds) for i in indices.tolist()], device=indices.device)


def in_fold_weights(folds: Tensor, member: int) -> Tensor:
    """[B] float weights of member `member` from the items' `folds`: 1 for items it trains
    on, 0 for its own fold."""
    return (folds != member).float()
