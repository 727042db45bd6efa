"""Damaged checkpoints: eval and auto-resume name the file and the problem, auto-resume falls
back to the newest checkpoint that loads, writes are atomic."""

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from seqlab.checkpoints import CheckpointError, atomic_torch_save, digest, read_checkpoint
from seqlab.eval import evaluate
from seqlab.resume import resume_checkpoint
from seqlab.train import train
from tests.conftest import TINY, compose_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A finished two-epoch run directory (default callbacks, CSV logger), trained once."""
    run_dir = tmp_path_factory.mktemp("trained")
    sizes = ["model=lstm", "model.hidden_size=8"]
    cfg = compose_config([*TINY, *sizes, "logger=csv", "trainer.max_epochs=2"])
    cfg.paths.output_dir = str(run_dir)
    train(cfg)
    return run_dir


@pytest.fixture
def run_dir(trained: Path, tmp_path: Path) -> Path:
    """A copy of the trained run to damage (without its finished marker)."""
    copy = tmp_path / "run"
    shutil.copytree(trained, copy)
    (copy / "finished.json").unlink()
    return copy


def resume_cfg(run_dir: Path, *overrides: str):
    cfg = compose_config([*TINY, "model=lstm", "model.hidden_size=8", *overrides])
    cfg.paths.output_dir = str(run_dir)
    return cfg


def first_weight_offset(path: Path) -> int:
    """Where the bytes of the first weight tensor sit in the file."""
    weight = next(iter(read_checkpoint(path)["state_dict"].values()))
    return path.read_bytes().index(weight.contiguous().numpy().tobytes())


def overwrite(offset: Callable[[Path], int], data: bytes) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        raw = bytearray(path.read_bytes())
        at = offset(path)
        raw[at : at + len(data)] = data
        path.write_bytes(bytes(raw))

    return damage


def non_finite(path: Path) -> None:
    """A well-formed checkpoint of a run whose weights went NaN."""
    checkpoint = read_checkpoint(path)
    next(iter(checkpoint["state_dict"].values())).fill_(float("nan"))
    checkpoint["seqlab_digest"] = digest(checkpoint)
    torch.save(checkpoint, path)


DAMAGES = {
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), "truncated"),
    "text": (lambda p: p.write_text("epoch=3 loss=0.1\n"), "not a PyTorch checkpoint"),
    "empty": (lambda p: p.write_bytes(b""), "empty file"),
    "weight bytes": (overwrite(first_weight_offset, b"\xff" * 8), "differ from their digest"),
    "middle bytes": (overwrite(lambda p: p.stat().st_size // 2, b"\x00" * 8), "corrupt"),
    "non-finite": (non_finite, r"non-finite weights \(NaN or inf\) in models\.0\.encoder\."),
    "not seqlab": (lambda p: torch.save({"state_dict": {}}, p), "not a seqlab checkpoint"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_eval_names_the_file_and_the_problem(run_dir: Path, damage: str) -> None:
    ckpt = next((run_dir / "checkpoints").glob("epoch_*.ckpt"))
    spoil, problem = DAMAGES[damage]
    spoil(ckpt)
    cfg = compose_config([f"ckpt_path={ckpt}", "trainer.accelerator=cpu"], config_name="eval")
    with pytest.raises(CheckpointError, match=problem) as error:
        evaluate(cfg)
    assert str(ckpt) in str(error.value)


@pytest.mark.parametrize("damage", ["truncated", "text", "empty", "weight bytes", "non-finite"])
def test_auto_resume_skips_a_damaged_last_checkpoint(run_dir: Path, damage: str) -> None:
    last = run_dir / "checkpoints" / "last.ckpt"
    DAMAGES[damage][0](last)
    (best,) = (run_dir / "checkpoints").glob("epoch_*.ckpt")
    with pytest.warns(UserWarning, match=f"skipping {last}: .*{DAMAGES[damage][1]}"):
        assert resume_checkpoint(resume_cfg(run_dir)) == str(best)


def test_auto_resume_with_no_usable_checkpoint_starts_over(run_dir: Path) -> None:
    for path in (run_dir / "checkpoints").glob("*.ckpt"):
        path.write_bytes(b"")
    with pytest.warns(UserWarning, match="no usable checkpoint"):
        assert resume_checkpoint(resume_cfg(run_dir)) is None


@pytest.mark.parametrize("how", ["auto_resume", "ckpt_path"])
def test_resuming_with_another_model_is_refused(run_dir: Path, how: str) -> None:
    last = run_dir / "checkpoints" / "last.ckpt"
    explicit = [f"ckpt_path={last}"] if how == "ckpt_path" else []
    cfg = resume_cfg(run_dir, "model=gru", *explicit)
    message = "config mismatch: checkpoint has model.cell=lstm, you asked for model.cell=gru"
    with pytest.raises(CheckpointError, match=message):
        resume_checkpoint(cfg)


def test_a_failed_write_leaves_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "last.ckpt"
    atomic_torch_save({"step": 1}, path)
    with pytest.raises(Exception, match="pickle"):
        atomic_torch_save({"step": 2, "bad": lambda: None}, path)
    assert torch.load(path) == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]
