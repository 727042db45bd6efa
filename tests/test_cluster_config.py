"""SLURM launcher and run directories, auto-resume, unknown logger/launcher options."""

import os
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException, MissingConfigException

from seqlab.config import register_schemas
from seqlab.train import CONFIG_DIR, resume_checkpoint, train


def compose_with_hydra(overrides: list[str]):
    register_schemas()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose("train", overrides=overrides, return_hydra_config=True)


def test_slurm_run_directory_is_named_by_the_job_id(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    cfg = compose_with_hydra(["hydra=slurm", f"paths.log_dir={tmp_path}"])
    assert cfg.hydra.run.dir == f"{tmp_path}/train/slurm/4242"
    monkeypatch.setenv("SLURM_JOB_ID", "4243")
    assert cfg.hydra.run.dir.endswith("/slurm/4243")  # read from the job, not fixed at compose


def test_slurm_launcher_runs_one_task_per_device(monkeypatch) -> None:
    monkeypatch.setenv("SLURM_JOB_ID", "1")
    cfg = compose_with_hydra(
        ["hydra=slurm", "trainer=ddp", "trainer.devices=8", "trainer.num_nodes=2"]
    )
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert (launcher.tasks_per_node, launcher.gpus_per_node, launcher.nodes) == (8, 8, 2)
    assert launcher.max_num_timeout > 0
    assert cfg.hydra.sweep._get_node("subdir")._value() == "${hydra:job.id}"


def test_slurm_run_without_a_job_id_names_the_variable(monkeypatch) -> None:
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    cfg = compose_with_hydra(["hydra=slurm"])
    with pytest.raises(Exception, match="SLURM_JOB_ID"):
        _ = cfg.hydra.run.dir


@pytest.mark.parametrize(
    ("override", "name"), [("logger=nope", "logger/nope"), ("hydra/launcher=nope", "nope")]
)
def test_unknown_logger_or_launcher_is_a_config_error(override: str, name: str) -> None:
    with pytest.raises((ConfigCompositionException, MissingConfigException), match=name):
        compose_with_hydra([override])


def test_auto_resume_continues_from_the_run_directory(tiny_config, tmp_path: Path) -> None:
    assert resume_checkpoint(tiny_config()) is None
    train(tiny_config("logger=csv", "test=false"))
    last = tmp_path / "checkpoints" / "last.ckpt"
    assert resume_checkpoint(tiny_config()) == str(last)
    assert resume_checkpoint(tiny_config("auto_resume=false")) is None
    hpc = tmp_path / "hpc_ckpt_1.ckpt"
    hpc.write_bytes(last.read_bytes())
    os.utime(last, (1, 1))  # the pre-emption checkpoint is the newer one
    assert resume_checkpoint(tiny_config()) == str(hpc)
    hpc.unlink()

    train(tiny_config("logger=csv", "test=false", "trainer.max_epochs=2"))
    (only,) = (tmp_path / "csv").glob("version_*/metrics.csv")  # one run, one CSV version
    header, *rows = [line.split(",") for line in only.read_text().splitlines()]
    steps = {int(row[header.index("step")]) for row in rows if row[header.index("epoch")] == "1"}
    assert {row[header.index("epoch")] for row in rows} - {""} == {"0", "1"}
    assert min(steps) >= 4, "the resumed run trained only the missing epoch, continuing the steps"
