"""Forecast data: chronological, leak-free windows; train-only statistics; logged baseline."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import pytorch_lightning as pl
import torch

from seqlab.data.collate import pad_collate
from seqlab.data.sources import forecast
from seqlab.data.sources.forecast import ForecastDataModule, check_complete
from tests.test_many_to_many import make_task

N = 200


@pytest.fixture
def ramp(monkeypatch: pytest.MonkeyPatch) -> np.ndarray:
    """Serve a rising, wiggly series whose value reveals its position, as series 'ramp'."""
    values = np.arange(N, dtype=np.float64) + np.sin(np.arange(N)) * 0.3
    monkeypatch.setattr(forecast, "load_series", lambda name: pd.Series(values, name=name))
    return values


def module(**kwargs) -> ForecastDataModule:
    args = {"series": "ramp", "min_length": 5, "max_length": 12, "stride": 3, "batch_size": 4}
    return ForecastDataModule(**(args | kwargs))


def positions(dm: ForecastDataModule, values: np.ndarray, split: str) -> list[np.ndarray]:
    """Series positions of every window's inputs, recovered from the raw values."""
    out = []
    for x, y, _ in getattr(dm.splits, split):
        raw = x[:, 0].double() * dm.std + dm.mean
        pos = np.searchsorted(values, raw.numpy() - 1e-3)
        np.testing.assert_allclose(values[pos], raw.numpy(), atol=1e-3)
        np.testing.assert_allclose(values[pos + 1], y.double() * dm.std + dm.mean, atol=1e-3)
        out.append(pos)
    return out


def test_split_is_chronological_and_windows_stay_inside(ramp: np.ndarray) -> None:
    dm = module()
    spans = {s: positions(dm, ramp, s) for s in ("train", "val", "test")}
    bounds = {"train": (0, 140), "val": (140, 170), "test": (170, N)}
    for split, windows in spans.items():
        low, high = bounds[split]
        for pos in windows:
            assert np.all(np.diff(pos) == 1)  # consecutive steps in time order
            assert pos[0] >= low and pos[-1] + 1 < high  # the last target is inside too
            assert 5 <= len(pos) <= 12
        assert min(p[0] for p in windows) == low


def test_normalisation_uses_training_values_only(ramp: np.ndarray) -> None:
    dm = module()
    dm.setup()
    assert dm.mean == pytest.approx(ramp[:140].mean())
    assert dm.std == pytest.approx(ramp[:140].std(ddof=1))
    x, _, _ = dm.splits.test[0]
    expected = (ramp[170 : 170 + len(x)] - ramp[:140].mean()) / ramp[:140].std(ddof=1)
    np.testing.assert_allclose(x[:, 0].numpy(), expected, rtol=1e-5)


def test_logged_metrics_match_an_independent_computation(ramp: np.ndarray) -> None:
    dm = module()
    task = make_task(dm.spec)
    trainer = pl.Trainer(
        accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (logged,) = trainer.validate(task, datamodule=dm, verbose=False)
    squared, absolute, naive_sq, naive_abs = [], [], [], []
    with torch.no_grad():
        for item in dm.splits.val:
            x, y, _ = item
            predicted = task(pad_collate([item]))["main"][0, :, 0]
            squared += (predicted - y).pow(2).tolist()
            absolute += (predicted - y).abs().tolist()
            naive_sq += (x[:, 0] - y).pow(2).tolist()
            naive_abs += (x[:, 0] - y).abs().tolist()
    assert logged["val/mse"] == pytest.approx(np.mean(squared), rel=1e-5)
    assert logged["val/mae"] == pytest.approx(np.mean(absolute), rel=1e-5)
    assert logged["val/mse_naive"] == pytest.approx(np.mean(naive_sq), rel=1e-5)
    assert logged["val/mae_naive"] == pytest.approx(np.mean(naive_abs), rel=1e-5)
    assert logged["val/mse_ratio"] == pytest.approx(sum(squared) / sum(naive_sq), rel=1e-5)


def test_missing_value_is_named_before_training() -> None:
    values = pd.Series([1.0, 2.0, math.nan, 4.0, math.nan])
    with pytest.raises(ValueError, match=r"'mine' has 2 missing values, the first at position 2"):
        check_complete("mine", values)


def test_real_series_with_gaps_fails_naming_it() -> None:
    message = r"data.series='co2' has 59 missing .* position 6 \(index 1958-05-10"
    with pytest.raises(ValueError, match=message):
        ForecastDataModule(series="co2").setup()


def test_bad_options_are_named(ramp: np.ndarray) -> None:
    with pytest.raises(ValueError, match="data.min_length"):
        module(min_length=10, max_length=5)
    with pytest.raises(ValueError, match="the val segment has 30 values"):
        module(min_length=30, max_length=40).setup()
    with pytest.raises(ValueError, match="data.val_fraction"):
        module(val_fraction=0.0).setup()


def test_unknown_series_lists_the_choices() -> None:
    with pytest.raises(ValueError, match="data.series='sunspot' .*sunspots"):
        forecast.load_series("sunspot")


@pytest.mark.parametrize("name", forecast.SERIES)
def test_every_listed_series_is_shipped(name: str) -> None:
    """Loads without network: complete, or (the two with gaps) refused for them."""
    series = forecast.load_series(name)
    if name in ("ausbeer", "co2"):
        with pytest.raises(ValueError, match=f"'{name}' has .* missing values"):
            check_complete(name, series)
    else:
        assert len(check_complete(name, series)) >= 89


def test_shipped_sunspots_load() -> None:
    dm = ForecastDataModule()
    assert len(dm.splits.train) > len(dm.splits.val) > 0
    assert dm.spec.persistence_baseline and dm.spec.next_step
