"""`data=files`: train on your own files without writing code.

Formats (from the extension, or `format`): `.ts` (UEA/UCR, read by aeon), `.npz` / `.pt`
(named arrays), long-format `.csv` (one row per step) and plain text (one sequence per line,
or `source<TAB>target` pairs). Every file is read and checked before any dataset is built, so
a bad file fails at once, naming the file and the line, row or index at fault.
"""

from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from seqlab.checks import check_choice, check_range
from seqlab.data.datamodule import SequenceDataModule, Splits
from seqlab.data.dataset import SequenceDataset
from seqlab.data.readers import FORMATS, Records, detect_format
from seqlab.data.readers.arrays import ArrayKeys, load_arrays, read_arrays
from seqlab.data.readers.checks import check_features
from seqlab.data.readers.csv_long import CsvColumns, read_long_csv
from seqlab.data.readers.targets import class_targets, value_targets
from seqlab.data.readers.text import TOKENIZERS, read_lines
from seqlab.data.readers.tokens import UNKNOWN, lm_encode, seq2seq_encode
from seqlab.data.readers.ts import read_ts
from seqlab.data.spec import DataSpec
from seqlab.data.splitting import scaling, standardize, stratified_holdout

FEATURE_TASKS = ("classify", "regress", "classify_steps", "regress_steps")
FORMAT_TASKS = {
    "ts": ("classify", "regress"),
    "npz": FEATURE_TASKS,
    "pt": FEATURE_TASKS,
    "csv": FEATURE_TASKS,
    "text": ("lm", "seq2seq"),
}
SPLITS = ("train", "val", "test", "predict")
Items = tuple[list[Tensor], list[Tensor]]


class FilesDataModule(SequenceDataModule):
    """Sequences and targets from `train` (and `test`, `val`, `predict`) files.

    `task`: classify | regress (one class / value per sequence), classify_steps | regress_steps
    (one per step), lm (next symbol of each line) | seq2seq (tab-separated pairs); default:
    classify, or lm for text. Without `val`, a `val_fraction` of the training file is held out
    (stratified by class). Features are standardised with training statistics only
    (`normalize`), regression targets too (`normalize_targets`; predictions undo it). An
    `.npz` / `.pt` file holds all splits under `keys` unless `test` / `val` name other files.
    """

    def __init__(
        self,
        train: str,
        test: str | None = None,
        val: str | None = None,
        predict: str | None = None,
        format: str | None = None,
        task: str | None = None,
        val_fraction: float = 0.2,
        normalize: bool = True,
        normalize_targets: bool = True,
        keys: ArrayKeys = ArrayKeys(),  # noqa: B008 - a settings record, never mutated
        columns: CsvColumns = CsvColumns(),  # noqa: B008
        tokens: str = "chars",
        target_tokens: str = "words",
        unknown: str = "error",
        allow_pickle: bool = False,
        **loader_args,
    ) -> None:
        super().__init__(**loader_args)
        self.format = format or detect_format(train)
        check_choice("data.format", self.format, FORMATS)
        self.task = task or ("lm" if self.format == "text" else "classify")
        check_choice(f"data.task (for {self.format} files)", self.task, FORMAT_TASKS[self.format])
        for key, value, choices in (
            ("data.tokens", tokens, TOKENIZERS),
            ("data.target_tokens", target_tokens, TOKENIZERS),
            ("data.unknown", unknown, UNKNOWN),
        ):
            check_choice(key, value, choices)
        check_range("data.val_fraction", val_fraction, 0.0, 1.0, low_open=True)
        self.keys = _settings("data.keys", ArrayKeys, keys)
        self.columns = _settings("data.columns", CsvColumns, columns)
        arrays = self.format in ("npz", "pt")
        if test is None and not arrays:
            raise ValueError(f"data.test is required for {self.format} files: name the test file")
        self.paths = {"train": train, "val": val, "test": test or train, "predict": predict}
        for split, path in self.paths.items():
            self._check_path(split, path, format is None)
        self.val_fraction, self.normalize = val_fraction, normalize
        self.normalize_targets = normalize_targets
        self.tokens, self.target_tokens, self.unknown = tokens, target_tokens, unknown
        self.allow_pickle = allow_pickle
        self._archives: dict[str, Mapping[str, Any]] = {}

    def load_splits(self) -> Splits:
        records = self.read_all()
        if self.task == "lm":
            items, spec = lm_encode(records, self.unknown)
        elif self.task == "seq2seq":
            items, spec = seq2seq_encode(records, self.unknown)
        else:
            items, spec = self.encode_features(records)
        if "val" not in items:
            items["train"], items["val"] = self.hold_out(*items["train"])
        if self.normalize and not spec.input_is_tokens:
            scaled = standardize(*(items[s][0] for s in items))
            items = {s: (x, items[s][1]) for s, x in zip(items, scaled, strict=True)}
        if self.normalize_targets and self.task.startswith("regress"):
            items, spec = _standardize_targets(items, spec)
        datasets = {split: self.dataset(split, *xy) for split, xy in items.items()}
        return Splits(
            datasets["train"], datasets["val"], datasets["test"], spec, datasets.get("predict")
        )

    def dataset(self, split: str, inputs: list[Tensor], targets: list[Tensor]) -> SequenceDataset:
        path = self.paths[split] or self.paths["train"]  # a held-out val comes from train
        return SequenceDataset(f"{Path(path).name}/{split}", inputs, targets)

    def read_all(self) -> dict[str, Records]:
        """Every given file, read and checked for targets; val/predict only when given."""
        records = {}
        for split in SPLITS:
            path = self.paths[split]
            if self.format in ("npz", "pt"):
                records |= self._read_arrays(split, path)
            elif path is not None:
                records[split] = self._read(split, path)
        for split, r in records.items():
            if r.targets is None and split != "predict" and self.task != "lm":
                raise ValueError(
                    f"{r.path}: holds no targets for data.task={self.task} ({split}): "
                    f"{self._no_targets(split)}"
                )
        return records

    def _no_targets(self, split: str) -> str:
        """Where the targets of a `split` file were looked for."""
        if self.format in ("npz", "pt"):
            return f"no array {getattr(self.keys, f'y_{split}')!r} (data.keys.y_{split})"
        if self.format == "csv":
            return f"no column {self.columns.label!r} (data.columns.label)"
        return "its header says @classLabel false / @targetLabel false"

    def encode_features(self, records: dict[str, Records]) -> tuple[dict[str, Items], DataSpec]:
        """Checked float inputs and encoded targets of every file, and the spec."""
        train = records["train"]
        size = train.inputs[0].shape[1] if train.inputs else 0
        for r in records.values():
            check_features(r, size, train.place(0) if train.inputs else "")
        per_step = self.task.endswith("_steps")
        if self.task.startswith("classify"):
            targets, classes = class_targets(records, per_step)
            spec = DataSpec(input_size=size, num_classes=len(classes), class_names=classes)
        else:
            targets, width = value_targets(records, per_step)
            spec = DataSpec(input_size=size, target_size=width)
        inputs = {s: [torch.from_numpy(x).float() for x in r.inputs] for s, r in records.items()}
        return {s: (inputs[s], targets[s]) for s in records}, spec

    def hold_out(self, inputs: list[Tensor], targets: list[Tensor]) -> tuple[Items, Items]:
        """(train, val) from the training file: stratified by class for per-sequence classes."""
        stratify = self.task == "classify"
        labels = [int(y) for y in targets] if stratify else [0] * len(inputs)
        keep, held = stratified_holdout(labels, self.val_fraction, self.seed)
        if not keep or not held:
            raise ValueError(
                f"{self.paths['train']}: {len(inputs)} sequences are too few to hold out "
                f"data.val_fraction={self.val_fraction} for validation; give data.val"
            )
        return _subset(inputs, targets, keep), _subset(inputs, targets, held)

    def _read(self, split: str, path: str) -> Records:
        if self.format == "ts":
            return read_ts(path)
        if self.format == "csv":
            return read_long_csv(path, self.columns, self.task.endswith("_steps"))
        pairs = self.task == "seq2seq"
        return read_lines(path, pairs, self.tokens, self.target_tokens, split == "predict")

    def _read_arrays(self, split: str, path: str | None) -> dict[str, Records]:
        """The split's arrays (keys `X_<split>`, `y_<split>`; a prediction file is read like a
        test file); without a val file, the training archive's own val split if it has one."""
        role = "test" if split == "predict" else split
        roles = (f"X_{role}", f"y_{role}")
        x_key, y_key = (getattr(self.keys, r) for r in roles)
        if path is None and split == "val" and x_key in self._archive(self.paths["train"]):
            path = self.paths["train"]
        if path is None:
            return {}
        return {split: read_arrays(path, self._archive(path), x_key, y_key, roles)}

    def _archive(self, path: str) -> Mapping[str, Any]:
        """An archive's contents, opened once per path."""
        if path not in self._archives:
            self._archives[path] = load_arrays(path, self.format, self.allow_pickle)
        return self._archives[path]

    def _check_path(self, split: str, path: str | None, detected: bool) -> None:
        if path is None:
            return
        if not Path(path).is_file():
            raise FileNotFoundError(f"data.{split}={path!r}: no such file")
        if detected and detect_format(path) != self.format:
            raise ValueError(
                f"data.{split}={path!r} looks like a {detect_format(path)} file, but data.train "
                f"is {self.format}: give files of one format (or set data.format)"
            )


def _settings(key: str, kind: type, given: Any) -> Any:
    """`given` as the settings dataclass `kind` (Hydra passes a mapping), names checked."""
    if isinstance(given, kind):
        return given
    names = [f.name for f in fields(kind)]
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ValueError(f"{key} has no entry {unknown[0]!r}; its entries: {', '.join(names)}")
    return kind(**given)


def _subset(inputs: list[Tensor], targets: list[Tensor], indices: list[int]) -> Items:
    return [inputs[i] for i in indices], [targets[i] for i in indices]


def _standardize_targets(items: dict[str, Items], spec: DataSpec) -> tuple[dict, DataSpec]:
    """Regression targets scaled by the training targets' mean and std (per value)."""
    width = spec.target_size
    mean, std = scaling([y.reshape(-1, width) for y in items["train"][1]])
    scaled = {
        split: (x, [((y.reshape(-1, width) - mean) / std).reshape(y.shape) for y in ys])
        for split, (x, ys) in items.items()
    }
    spec = DataSpec(
        input_size=spec.input_size,
        target_size=width,
        target_mean=tuple(mean.tolist()),
        target_std=tuple(std.tolist()),
    )
    return scaled, spec
