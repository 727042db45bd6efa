"""Next-value forecasting on a real univariate series shipped by pmdarima or statsmodels.

The series is cut chronologically into train | val | test segments; windows of random length
are cut inside each segment only, so no window straddles a boundary and no split sees a value
of a later one. Inputs are the values x[t], targets the next values x[t+1], both standardised
with the mean and std of the training segment.
"""

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from seqlab.data.datamodule import SequenceDataModule, Splits
from seqlab.data.dataset import SequenceDataset
from seqlab.data.sources import check_length_range, require
from seqlab.data.spec import DataSpec
from seqlab.data.splitting import scaling, standardize

# pmdarima's `gasoline` is left out: it is downloaded on first use, not shipped.
PMDARIMA_SERIES = (
    "sunspots",
    "airpassengers",
    "ausbeer",
    "austres",
    "heartrate",
    "lynx",
    "taylor",
    "wineind",
    "woolyrnq",
)
SERIES = (*PMDARIMA_SERIES, "msft", "co2", "nile")
PMDARIMA_INSTALL = "pip install pmdarima==2.1.1"


def load_series(name: str) -> pd.Series:
    """The named series, indexed by time where the package gives one."""
    if name in PMDARIMA_SERIES:
        datasets = require("pmdarima.datasets", PMDARIMA_INSTALL)
        return getattr(datasets, f"load_{name}")(as_series=True)
    if name == "msft":
        frame = require("pmdarima.datasets", PMDARIMA_INSTALL).load_msft()
        return pd.Series(frame["Close"].to_numpy(), index=frame["Date"], name="msft close")
    if name in ("co2", "nile"):
        datasets = require("statsmodels.datasets", "pip install statsmodels==0.15.0")
        frame = getattr(datasets, name).load_pandas().data
        return frame["co2"] if name == "co2" else frame.set_index("year")["volume"]
    raise ValueError(f"data.series={name!r} is not a shipped series; choices: {', '.join(SERIES)}")


def check_complete(name: str, series: pd.Series) -> np.ndarray:
    """The values as floats, or an error naming the first missing one."""
    values = series.to_numpy(dtype=np.float64)
    missing = np.flatnonzero(~np.isfinite(values))
    if missing.size:
        first = int(missing[0])
        raise ValueError(
            f"data.series={name!r} has {missing.size} missing values, the first at position "
            f"{first} (index {series.index[first]}); fill or drop them before forecasting"
        )
    return values


def chronological_bounds(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    """End of train and end of val: train = [0, a), val = [a, b), test = [b, n)."""
    if not (val_fraction > 0 and test_fraction > 0 and val_fraction + test_fraction < 1):
        raise ValueError(
            "data.val_fraction and data.test_fraction need 0 < val, test and val + test < 1, "
            f"got {val_fraction} and {test_fraction}"
        )
    n_val, n_test = round(n * val_fraction), round(n * test_fraction)
    return n - n_val - n_test, n - n_test


def windows(
    segment: Tensor, min_length: int, max_length: int, stride: int, generator: torch.Generator
) -> tuple[list[Tensor], list[Tensor]]:
    """Windows starting every `stride` values, lengths drawn in [min, max] and cut to fit.

    A window of length L uses L + 1 values of the segment: inputs x[s:s+L] as [L, 1],
    targets x[s+1:s+L+1] as [L].
    """
    inputs, targets = [], []
    start = 0
    while start + min_length < len(segment):
        drawn = int(torch.randint(min_length, max_length + 1, (), generator=generator))
        length = min(drawn, len(segment) - 1 - start)
        inputs.append(segment[start : start + length, None])
        targets.append(segment[start + 1 : start + length + 1])
        start += stride
    return inputs, targets


def stream_windows(
    segment: Tensor, streams: int, length: int, name: str
) -> tuple[list[Tensor], list[Tensor]]:
    """`segment` as `streams` contiguous streams, each cut into consecutive `length`-step
    windows; item w * streams + r is window w of stream r, so in index order every batch of
    `streams` items continues the previous one row by row (the tail that fits no window of
    every stream is dropped)."""
    per_stream = (len(segment) - 1) // streams
    count = per_stream // length
    if count == 0:
        raise ValueError(
            f"{name}: {len(segment)} values make {streams} streams (data.batch_size) of "
            f"{per_stream} steps, fewer than one window of data.max_length={length}"
        )
    inputs, targets = [], []
    for window in range(count):
        for stream in range(streams):
            start = stream * per_stream + window * length
            inputs.append(segment[start : start + length, None])
            targets.append(segment[start + 1 : start + length + 1])
    return inputs, targets


class ForecastDataModule(SequenceDataModule):
    """Predict the next value at every step; the persistence forecast is the baseline.

    `stream=true` (for `task.tbptt_steps`): the training segment becomes `batch_size`
    contiguous streams read in `max_length`-step windows, in order, so the state carried from
    one batch to the next continues each stream (`DataSpec.streams`); validation and test
    keep their windows, so their metrics compare with `stream=false` runs.
    """

    def __init__(
        self,
        series: str = "sunspots",
        min_length: int = 24,
        max_length: int = 96,
        stride: int = 6,
        val_fraction: float = 0.15,
        test_fraction: float = 0.15,
        stream: bool = False,
        **loader_args,
    ) -> None:
        super().__init__(**loader_args)
        check_length_range(min_length, max_length)
        if stream and (self.batching != "sorted" or self.max_tokens is not None):
            raise ValueError(
                "data.stream=true keeps windows in stream order: set data.batching=sorted "
                "and leave data.max_tokens unset"
            )
        self.stream = stream
        if stride <= 0:
            raise ValueError(f"data.stride must be > 0, got {stride}")
        self.series = series
        self.min_length, self.max_length, self.stride = min_length, max_length, stride
        self.val_fraction, self.test_fraction = val_fraction, test_fraction
        self.mean = self.std = float("nan")

    def load_splits(self) -> Splits:
        values = torch.tensor(check_complete(self.series, load_series(self.series)))
        train_end, val_end = chronological_bounds(
            len(values), self.val_fraction, self.test_fraction
        )
        segments = {"train": values[:train_end], "val": values[train_end:val_end]}
        segments["test"] = values[val_end:]
        for split, segment in segments.items():
            if len(segment) <= self.min_length:
                raise ValueError(
                    f"data.series={self.series!r}: the {split} segment has {len(segment)} "
                    f"values, need more than data.min_length={self.min_length}"
                )
        scaled = standardize(*([s.float()[:, None]] for s in segments.values()))
        mean, std = scaling([segments["train"].float()[:, None]])
        self.mean, self.std = float(mean[0]), float(std[0])
        generator = torch.Generator().manual_seed(self.seed)
        datasets = []
        for split, (segment,) in zip(segments, scaled, strict=True):
            inputs, targets = windows(
                segment[:, 0], self.min_length, self.max_length, self.stride, generator
            )
            if self.stream and split == "train":
                name = f"data.series={self.series!r}"
                inputs, targets = stream_windows(
                    segment[:, 0], self.batch_size, self.max_length, name
                )
            datasets.append(SequenceDataset(f"{self.series}/{split}", inputs, targets))
        spec = DataSpec(
            input_size=1,
            target_size=1,
            next_step=True,
            persistence_baseline=True,
            streams=self.batch_size if self.stream else 0,
            target_mean=(self.mean,),
            target_std=(self.std,),
        )
        return Splits(*datasets, spec=spec)
