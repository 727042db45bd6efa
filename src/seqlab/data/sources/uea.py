"""Any UEA/UCR classification dataset shipped inside the `aeon` wheel (no download)."""

from pathlib import Path

import numpy as np
import torch

from seqlab.data.datamodule import SequenceDataModule, Splits
from seqlab.data.dataset import SequenceDataset
from seqlab.data.labels import class_names
from seqlab.data.sources import require
from seqlab.data.spec import DataSpec
from seqlab.data.splitting import standardize, stratified_holdout

AEON_INSTALL = "pip install aeon==1.6.0"


def shipped_uea_datasets() -> dict[str, Path]:
    """Name -> folder of every classification dataset the installed aeon ships."""
    aeon = require("aeon", AEON_INSTALL)
    root = Path(aeon.__file__).parent / "datasets" / "data"
    return {d.name: d for d in sorted(root.iterdir()) if (d / f"{d.name}_TRAIN.ts").exists()}


def load_uea_split(name: str, split: str) -> tuple[list[np.ndarray], list[str]]:
    """Series as [T, D] arrays (variable length allowed) and their string labels."""
    available = shipped_uea_datasets()
    if name not in available:
        raise ValueError(
            f"data.name={name!r} is not shipped by the installed aeon; "
            f"offline choices: {', '.join(available)}"
        )
    from aeon.datasets import load_from_ts_file

    X, y = load_from_ts_file(str(available[name] / f"{name}_{split.upper()}.ts"))
    return [np.asarray(series, dtype=np.float32).T for series in X], [str(v) for v in y]


class UEADataModule(SequenceDataModule):
    """Official train/test split; the validation set is a stratified hold-out of train."""

    def __init__(
        self,
        name: str = "JapaneseVowels",
        val_fraction: float = 0.2,
        normalize: bool = True,
        **loader_args,
    ) -> None:
        super().__init__(**loader_args)
        self.name = name
        self.val_fraction = val_fraction
        self.normalize = normalize

    def load_splits(self) -> Splits:
        train_x, train_y = load_uea_split(self.name, "train")
        test_x, test_y = load_uea_split(self.name, "test")
        classes = class_names(train_y)
        unknown = set(test_y) - set(classes)
        if unknown:
            raise ValueError(f"{self.name}: test labels {sorted(unknown)} never occur in train")
        label = {c: torch.tensor(i) for i, c in enumerate(classes)}
        xs = [torch.from_numpy(x) for x in train_x]
        ys = [label[c] for c in train_y]
        keep, held = stratified_holdout([int(y) for y in ys], self.val_fraction, self.seed)
        inputs = [
            [xs[i] for i in keep],
            [xs[i] for i in held],
            [torch.from_numpy(x) for x in test_x],
        ]
        if self.normalize:
            inputs = standardize(*inputs)
        targets = [[ys[i] for i in keep], [ys[i] for i in held], [label[c] for c in test_y]]
        train, val, test = (
            SequenceDataset(f"{self.name}/{split}", x, y)
            for split, x, y in zip(("train", "val", "test"), inputs, targets, strict=True)
        )
        spec = DataSpec(
            input_size=xs[0].shape[1], num_classes=len(classes), class_names=tuple(classes)
        )
        return Splits(train, val, test, spec)
