"""data=files: each format gives the splits, spec and targets its file describes."""

from pathlib import Path

import numpy as np
import pytest
import torch

from seqlab.data.sources.files import FilesDataModule
from seqlab.data.vocab import Vocabulary
from tests.conftest import compose_config
from tests.files_helpers import object_array, toy_sequences, write_long_csv, write_ts


def loaded(**kwargs) -> FilesDataModule:
    dm = FilesDataModule(**{k: str(v) if isinstance(v, Path) else v for k, v in kwargs.items()})
    dm.setup()
    return dm


def test_ts_pair_gives_classes_a_stratified_val_split_and_train_only_scaling(tmp_path) -> None:
    xs, ys = toy_sequences(40, classes=("2", "10"))
    xt, yt = toy_sequences(10, seed=1, classes=("2", "10"))
    dm = loaded(
        train=write_ts(tmp_path / "a.ts", xs, ys, "2 10"),
        test=write_ts(tmp_path / "b.ts", xt, yt, "2 10"),
    )
    assert dm.spec.class_names == ("2", "10") and dm.spec.input_size == 2
    splits = dm.splits
    assert (len(splits.train), len(splits.val), len(splits.test)) == (32, 8, 10)
    assert sorted(int(y) for _, y, _ in splits.val) == [0] * 4 + [1] * 4  # stratified
    frames = torch.cat([x for x, _, _ in splits.train])
    assert frames.mean(0).abs().max() < 1e-5 and (frames.std(0) - 1).abs().max() < 1e-5
    assert torch.cat([x for x, _, _ in splits.val]).mean(0).abs().max() > 1e-3
    assert [x.shape[0] for x, _, _ in splits.test] == [len(x) for x in xt]  # lengths kept
    given = loaded(train=tmp_path / "a.ts", val=tmp_path / "b.ts", test=tmp_path / "b.ts")
    frames = np.concatenate(xs)
    expected = (xt[3] - frames.mean(0)) / frames.std(0, ddof=1)
    np.testing.assert_allclose(given.splits.test[3][0].numpy(), expected, atol=1e-4)


def test_npz_and_pt_archives_hold_every_split_under_renamable_keys(tmp_path) -> None:
    xs, ys = toy_sequences(20, features=3)
    xv, yv = toy_sequences(6, features=3, seed=2)
    xt, yt = toy_sequences(5, features=3, seed=1)
    np.savez(
        tmp_path / "a.npz",
        feats=object_array(xs),
        labels=np.array(ys),
        X_val=object_array(xv),
        y_val=np.array(yv),
        X_test=object_array(xt),
        y_test=np.array(yt),
    )
    keys = {"X_train": "feats", "y_train": "labels"}
    dm = loaded(train=tmp_path / "a.npz", keys=keys, allow_pickle=True, normalize=False)
    assert (len(dm.splits.train), len(dm.splits.val), len(dm.splits.test)) == (20, 6, 5)
    np.testing.assert_allclose(dm.splits.val[2][0].numpy(), xv[2], atol=1e-6)
    tensors = {"X_train": [torch.from_numpy(x) for x in xs], "y_train": torch.tensor([1, 0] * 10)}
    tensors |= {"X_test": torch.randn(4, 7, 3), "y_test": torch.tensor([0, 1, 1, 0])}
    torch.save(tensors, tmp_path / "b.pt")
    dm = loaded(train=tmp_path / "b.pt", val_fraction=0.25)
    assert dm.spec.class_names == ("0", "1")
    assert (len(dm.splits.train), len(dm.splits.val), len(dm.splits.test)) == (16, 4, 4)


def test_long_csv_orders_steps_and_standardises_regression_targets(tmp_path) -> None:
    xs, _ = toy_sequences(12)
    values = [float(x[:, 0].sum()) for x in xs]
    write_long_csv(tmp_path / "a.csv", xs, values)
    write_long_csv(tmp_path / "b.csv", xs[:4], values[:4])
    dm = loaded(train=tmp_path / "a.csv", test=tmp_path / "b.csv", task="regress", normalize=False)
    x, y, _ = dm.splits.test[1]
    np.testing.assert_allclose(x.numpy(), xs[1], atol=1e-6)  # rows were written in reverse
    (mean,), (std,) = dm.spec.target_mean, dm.spec.target_std
    assert float(y) * std + mean == pytest.approx(values[1], abs=1e-4)
    kept = [float(y) for _, y, _ in dm.splits.train]
    assert abs(np.mean(kept)) < 1e-5  # statistics of the kept training targets only
    assert y.dim() == 0 and dm.spec.num_classes == 0


def test_long_csv_per_step_labels(tmp_path) -> None:
    xs, _ = toy_sequences(10)
    steps = [["up" if v > 0 else "down" for v in x[:, 1]] for x in xs]
    write_long_csv(tmp_path / "a.csv", xs, steps, per_step=True)
    dm = loaded(train=tmp_path / "a.csv", test=tmp_path / "a.csv", task="classify_steps")
    x, y, _ = dm.splits.test[3]
    assert dm.spec.class_names == ("down", "up")
    assert y.tolist() == [int(v > 0) for v in xs[3][:, 1]] and len(y) == len(x)


def test_text_lm_and_seq2seq_build_vocabularies_from_training_lines(tmp_path) -> None:
    (tmp_path / "a.txt").write_text("hello\nworld\nhold\nlow\nold\n")
    (tmp_path / "b.txt").write_text("held\nhex\n")
    with pytest.raises(ValueError, match=r"b\.txt: line 2: symbol 'x'"):
        loaded(train=tmp_path / "a.txt", test=tmp_path / "b.txt", val_fraction=0.4)
    dm = loaded(train=tmp_path / "a.txt", test=tmp_path / "b.txt", unknown="map")
    vocab = dm.spec.input_vocab
    x, y, _ = dm.splits.test[1]
    assert [vocab[i] for i in x] == ["<bos>", "h", "e", "<unk>"]
    assert [vocab[i] for i in y] == ["h", "e", "<unk>", "<eos>"] and dm.spec.next_step
    pairs = "ab\tA B\nba\tB A\naa\tA A\nbb\tB B\nab\tA B\n"
    (tmp_path / "p.tsv").write_text(pairs)
    dm = loaded(train=tmp_path / "p.tsv", test=tmp_path / "p.tsv", task="seq2seq")
    x, y, _ = dm.splits.test[1]
    assert [dm.spec.input_vocab[i] for i in x] == ["b", "a"]
    assert [dm.spec.target_vocab[i] for i in y] == ["B", "A", "<eos>"]
    assert y[-1] == Vocabulary.eos_id and not dm.spec.next_step


def test_prediction_file_needs_no_labels(tmp_path) -> None:
    xs, ys = toy_sequences(20)
    write_long_csv(tmp_path / "a.csv", xs, ys)
    (tmp_path / "p.csv").write_text("id,step,f0,f1\nq,1,0.5,0.5\nq,0,1.0,2.0\nr,0,3,4\n")
    dm = loaded(train=tmp_path / "a.csv", test=tmp_path / "a.csv", predict=tmp_path / "p.csv")
    predict = dm.splits.predict
    assert len(predict) == 2 and predict[0][0].shape == (2, 2)
    assert next(iter(dm.predict_dataloader())).inputs.shape[0] == 2


def test_compose_requires_the_training_file_and_checks_keys(tmp_path) -> None:
    cfg = compose_config(["data=files"])
    with pytest.raises(Exception, match="data.train"):
        cfg.data.train  # noqa: B018
    with pytest.raises(Exception, match="X_tran"):
        compose_config(["data=files", "data.train=x.npz", "data.keys.X_tran=a"])
