"""Logger configs: run names from the Hydra choices, TensorBoard, offline W&B without a key,
an online W&B start bounded by its timeout."""

import os
import re
import subprocess
import sys
from pathlib import Path

from omegaconf import OmegaConf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from seqlab.config.resolvers import active_options
from seqlab.loggers import wandb_logger
from seqlab.train import train
from tests.conftest import compose_config

ROOT = Path(__file__).resolve().parents[1]


def test_regularizer_names_come_from_the_options_switched_on() -> None:
    cfg = compose_config(["regularizer=[dropout]"])
    assert active_options(cfg.regularizer) == "dropout"
    assert active_options(compose_config([]).regularizer) == "none"


def test_wandb_names_resolve_without_a_hydra_run() -> None:
    for cfg in (
        compose_config(["regularizer=dropout", "paths.output_dir=/tmp/x"]),
        compose_config(
            ["ckpt_path=x.ckpt", "logger=wandb", "paths.output_dir=/tmp/x"], config_name="eval"
        ),
    ):
        wandb = OmegaConf.to_container(cfg.logger.wandb, resolve=True)
        assert wandb["name"].startswith("unknown-")
        assert "init:unknown" in wandb["tags"]


def test_wandb_is_offline_without_an_api_key(monkeypatch, tmp_path: Path, caplog) -> None:
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc
    logger = wandb_logger(project="p", save_dir=str(tmp_path))
    assert logger._offline
    assert "W&B: offline run" in caplog.text and "wandb sync" in caplog.text


def test_tensorboard_logger_receives_the_gradient_norms(tiny_config, tmp_path: Path) -> None:
    train(tiny_config("logger=tensorboard", "trainer.log_every_n_steps=2", "test=false"))
    (events,) = (tmp_path / "tensorboard").rglob("events.out.tfevents.*")
    scalars = EventAccumulator(str(events.parent)).Reload().Tags()["scalars"]
    expected = {"grad_norm/total", "grad_norm/heads.main.out"}
    assert expected | {"grad_norm/encoder.rnn.l0"} <= set(scalars)


def test_an_online_start_without_a_server_fails_within_init_timeout(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env |= {"HOME": str(tmp_path), "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    command = [sys.executable, "tests/silent_wandb_server.py", str(tmp_path), "2"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    failed = re.search(r"failed after ([\d.]+) s: .*logger\.wandb\.init_timeout=2 s", result.stdout)
    assert failed, result.stdout + result.stderr[-2000:]
    assert 2 <= float(failed.group(1)) < 3
    assert "0" * 40 not in "".join(
        p.read_text(errors="ignore") for p in tmp_path.rglob("*") if p.is_file()
    )
