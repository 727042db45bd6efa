"""The padding fraction counts time steps of the batch's mask, for features and tokens alike."""

from types import SimpleNamespace

import pytest
import torch

from seqlab.callbacks.padding import PaddingFraction
from seqlab.data.batch import Batch


def logged_fraction(*batches: Batch) -> float:
    logged = {}

    def log(name: str, value: float, **_: object) -> None:
        logged[name] = value

    trainer = SimpleNamespace(strategy=SimpleNamespace(reduce=lambda tensor, reduce_op: tensor))
    module = SimpleNamespace(device="cpu", log=log)
    callback = PaddingFraction()
    for batch in batches:
        callback.on_test_batch_end(trainer, module, None, batch, 0)
    callback.on_test_epoch_end(trainer, module)
    return logged["test/padding_fraction"]


def batch_of(inputs: torch.Tensor, lengths: list[int]) -> Batch:
    count = len(lengths)
    return Batch(inputs, torch.tensor(lengths), torch.zeros(count), torch.arange(count))


@pytest.mark.parametrize("trailing", [(), (7,)], ids=["tokens", "features"])
def test_fraction_counts_padded_steps(trailing: tuple[int, ...]) -> None:
    tokens = batch_of(torch.ones(2, 5, *trailing), [5, 2])  # 3 of 10 steps padded
    longer = batch_of(torch.ones(2, 10, *trailing), [10, 10])  # none of 20
    assert logged_fraction(tokens) == pytest.approx(0.3)
    assert logged_fraction(tokens, longer) == pytest.approx(0.1)


def test_token_batches_give_a_fraction_in_the_unit_interval() -> None:
    tokens = batch_of(torch.randint(1, 30, (4, 12)), [12, 3, 7, 1])
    assert 0 <= logged_fraction(tokens) <= 1
    assert logged_fraction(tokens) == pytest.approx(1 - 23 / 48)
