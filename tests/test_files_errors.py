"""data=files: a bad file fails before any dataset is built, naming the file and the place."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from seqlab.data.sources import files
from seqlab.data.sources.files import FilesDataModule
from tests.files_helpers import TS_HEADER, object_array, toy_sequences, write_long_csv, write_ts

XS, YS = toy_sequences(8)


def ts_pair(tmp: Path, test_lines: str, header: str = TS_HEADER) -> dict:
    """A good training file and a test file whose data lines are `test_lines`."""
    (tmp / "test.ts").write_text(header.format(dims=2, classes="a b") + test_lines)
    return {"train": write_ts(tmp / "train.ts", XS, YS), "test": tmp / "test.ts"}


def npz(tmp: Path, allow_pickle: bool = True, **arrays) -> dict:
    content = {"X_train": object_array(XS), "y_train": np.array(YS)}
    content |= {"X_test": object_array(XS[:2]), "y_test": np.array(YS[:2])}
    np.savez(tmp / "d.npz", **(content | arrays))
    return {"train": tmp / "d.npz", "allow_pickle": allow_pickle}


def csv_pair(tmp: Path, test_text: str, **kwargs) -> dict:
    write_long_csv(tmp / "train.csv", XS, YS)
    (tmp / "test.csv").write_text(test_text)
    return {"train": tmp / "train.csv", "test": tmp / "test.csv", **kwargs}


def text_pair(tmp: Path, test_text: str, **kwargs) -> dict:
    (tmp / "train.txt").write_text("ab\tA B\nba\tB A\naa\tA A\nbb\tB B\n")
    (tmp / "test.txt").write_text(test_text)
    return {"train": tmp / "train.txt", "test": tmp / "test.txt", "task": "seq2seq", **kwargs}


GOOD_CSV_HEAD = "id,step,f0,f1,label\n"
CASES: dict[str, tuple[Callable[[Path], dict], str]] = {
    "missing file": (lambda t: {"train": t / "nope.ts", "test": t / "nope.ts"}, r"nope\.ts"),
    "ts ragged channels": (
        lambda t: ts_pair(t, "1,2:3,4:a\n1,2:3,4:5,6:b\n"),
        r"test\.ts: line 10: .*case 2",
    ),
    "ts not a number": (lambda t: ts_pair(t, "1,2:3,4:a\n1,x:3,4:b\n"), r"test\.ts: line 10"),
    "ts empty channel": (lambda t: ts_pair(t, "1,2:3,4:a\n:3,4:b\n"), r"test\.ts: line 10"),
    "ts nan": (lambda t: ts_pair(t, "1,2:3,4:a\n1,2:?,4:b\n"), r"test\.ts: case 2 \(line 10\)"),
    "ts unseen label": (
        lambda t: ts_pair(t, "1,2:3,4:a\n1,2:3,4:c\n"),
        r"test\.ts: case 2 \(line 10\) has label 'c', which never occurs in the training",
    ),
    "ts missing labels": (
        lambda t: ts_pair(t, "1,2:3,4\n", TS_HEADER.replace("true {classes}", "false")),
        r"test\.ts: holds no targets",
    ),
    "npz ragged feature counts": (
        lambda t: npz(t, X_test=object_array([XS[0], np.ones((4, 3))])),
        r"d\.npz: X_test\[1\] has 3 features per step, but .*X_train\[0\] has 2",
    ),
    "npz ragged rows": (
        lambda t: npz(t, X_test=object_array([XS[0], [[1.0, 2.0], [3.0]]])),
        r"d\.npz: X_test\[1\] is not a rectangular",
    ),
    "npz inf": (
        lambda t: npz(t, X_train=object_array([*XS[:5], np.full((3, 2), np.inf), *XS[6:]])),
        r"d\.npz: X_train\[5\] has the non-finite value inf at step 0",
    ),
    "npz empty sequence": (
        lambda t: npz(t, X_test=object_array([XS[0], np.zeros((0, 2))])),
        r"d\.npz: X_test\[1\] is an empty sequence",
    ),
    "npz missing key": (
        lambda t: npz(t) | {"keys": {"y_test": "labels_test"}},
        r"d\.npz: holds no targets .*no array 'labels_test' \(data\.keys\.y_test\)",
    ),
    "npz pickle": (lambda t: npz(t, allow_pickle=False), r"d\.npz: 'X_train'.*allow_pickle"),
    "npz label count": (
        lambda t: npz(t, y_test=np.array(["a"])),
        r"d\.npz: 'X_test' holds 2 sequences but 'y_test' 1",
    ),
    "npz per-step label count": (
        lambda t: npz(t, y_train=object_array([np.zeros(2)] * 8)) | {"task": "classify_steps"},
        r"d\.npz: X_train\[0\] has 2 labels for \d steps",
    ),
    "csv missing column": (
        lambda t: csv_pair(t, "id,step,f0,label\ns,0,1,a\n", columns={"features": ["f0", "f1"]}),
        r"test\.csv: no column 'f1' \(data\.columns\.features\)",
    ),
    "csv not a number": (
        lambda t: csv_pair(t, GOOD_CSV_HEAD + "s,0,1,2,a\ns,1,1,oops,a\n"),
        r"test\.csv: line 3, column 'f1': 'oops'",
    ),
    "csv missing value": (
        lambda t: csv_pair(t, GOOD_CSV_HEAD + "s,0,1,2,a\ns,1,,2,a\n"),
        r"test\.csv: line 3, column 'f0'",
    ),
    "csv label changes": (
        lambda t: csv_pair(t, GOOD_CSV_HEAD + "s,0,1,2,a\ns,1,1,2,b\n"),
        r"test\.csv: line 3 has label 'b'",
    ),
    "csv missing label": (
        lambda t: csv_pair(t, GOOD_CSV_HEAD + "s,0,1,2,a\nr,0,1,2,\n"),
        r"test\.csv: line 3 has no label",
    ),
    "csv unseen label": (
        lambda t: csv_pair(t, GOOD_CSV_HEAD + "s,0,1,2,a\nr,0,1,2,z\n"),
        r"test\.csv: sequence 'r' \(line 3\) has label 'z', which never occurs",
    ),
    "csv repeated step": (
        lambda t: csv_pair(t, GOOD_CSV_HEAD + "s,0,1,2,a\ns,0,1,2,a\n"),
        r"test\.csv: sequence 's' has step 0 twice \(lines 2 and 3\)",
    ),
    "text pair without tab": (
        lambda t: text_pair(t, "ab\tA B\nab A B\n"),
        r"test\.txt: line 2 has no tab",
    ),
    "text empty line": (lambda t: text_pair(t, "ab\tA\n\nba\tB\n"), r"test\.txt: line 2 is empty"),
    "text unseen symbol": (
        lambda t: text_pair(t, "ab\tA B\nab\tA C\n"),
        r"test\.txt: line 2 \(target\): symbol 'C' is not in the vocabulary",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_file_is_named_with_its_place(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make, message = CASES[case]
    built = []
    monkeypatch.setattr(files, "SequenceDataset", lambda *a: built.append(a))
    kwargs = {k: str(v) if isinstance(v, Path) else v for k, v in make(tmp_path).items()}
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        FilesDataModule(**kwargs).setup()
    assert not built  # nothing half-loaded: no dataset exists when a file is bad


def test_settings_are_checked_before_reading(tmp_path: Path) -> None:
    path = str(write_ts(tmp_path / "a.ts", XS, YS))
    with pytest.raises(ValueError, match=r"data\.task \(for ts files\) must be one of"):
        FilesDataModule(train=path, test=path, task="lm")
    with pytest.raises(ValueError, match=r"data\.test is required for ts files"):
        FilesDataModule(train=path)
    with pytest.raises(ValueError, match=r"data\.test='.*b\.csv' looks like a csv file"):
        FilesDataModule(train=path, test=str(write_long_csv(tmp_path / "b.csv", XS, YS)))
    torch.save([1, 2], tmp_path / "c.pt")
    with pytest.raises(ValueError, match=r"c\.pt: holds a list"):
        FilesDataModule(train=str(tmp_path / "c.pt")).setup()
