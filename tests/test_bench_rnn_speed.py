"""bench/rnn_speed.py runs end to end at tiny shapes, and skips cleanly without CUDA."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--batch", "2", "--steps", "5", "--input-size", "3", "--hidden-size", "4"]
FAST = ["--warmup", "0", "--runs", "1"]


def run_bench(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "bench/rnn_speed.py", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)


@pytest.mark.parametrize("options", [[], ["--bidirectional", "--dtype", "bf16"]])
def test_rnn_speed_writes_its_json(tmp_path: Path, options: list[str]) -> None:
    out = tmp_path / "speed.json"
    result = run_bench(*TINY, *FAST, *options, "--json", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    payload = json.loads(out.read_text())
    if "bf16" in options and bf16_lstm_fails():
        assert "--dtype bf16: torch.nn.LSTM cannot run" in payload["skipped"]
        assert payload["skipped"] in result.stdout
        return
    encoders = payload["encoders"]
    for cell, reference in (("rnn", "RNN"), ("lstm", "LSTM"), ("gru", "GRU")):
        assert encoders[f"seqlab {cell}"]["reference"] == f"torch.nn.{reference}"
        assert encoders[f"torch.nn.{reference}"]["ratio"] == 1.0
        assert f"seqlab {cell}" in result.stdout
    assert encoders["torch.nn.GRU"]["ratio_to_gru"] == 1.0
    assert encoders["seqlab ligru"]["reference"] == "torch.nn.GRU"
    assert all(e["ms"] > 0 for e in encoders.values())
    has_speechbrain = "speechbrain ligru" in encoders
    assert (payload["ligru_speedup_vs_speechbrain"] is not None) == has_speechbrain
    assert "speechbrain ligru" in result.stdout


def bf16_lstm_fails() -> bool:
    """Whether this CPU's oneDNN refuses an nn.LSTM under bf16 autocast (no AVX-512 BF16)."""
    try:
        with torch.autocast("cpu", torch.bfloat16):
            torch.nn.LSTM(2, 2)(torch.zeros(1, 1, 2))
    except RuntimeError:
        return True
    return False


def load_bench():
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        spec = importlib.util.spec_from_file_location("rnn_speed", ROOT / "bench/rnn_speed.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return module


def test_cuda_bench_without_cuda_says_why_and_exits_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    bench = load_bench()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "cuda.json"
    bench.main(["--device", "cuda", "--json", str(out)])  # returns: exit status 0
    assert "skipped: --device cuda: CUDA is not available" in capsys.readouterr().out
    assert "CUDA is not available" in json.loads(out.read_text())["skipped"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_bench_script_exits_zero_here() -> None:
    result = run_bench("--device", "cuda")
    assert result.returncode == 0 and "skipped" in result.stdout


def test_the_padded_layout_probe_restores_the_default_choice() -> None:
    bench = load_bench()
    from seqlab.models import rnn
    from seqlab.models.rnn import RecurrentEncoder

    chosen = rnn.uses_packed_sequences
    encoder = RecurrentEncoder(3, "gru", 4, bidirectional=True)
    x, lengths = torch.randn(2, 5, 3), torch.tensor([5, 3])
    loss = bench.padded(encoder, x, lengths)
    assert rnn.uses_packed_sequences is chosen
    torch.testing.assert_close(loss, encoder(x, lengths).outputs.sum())


def load_gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "bench/gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_check_logic_passes_on_the_cpu(tmp_path: Path) -> None:
    check = load_gpu_check()
    out = tmp_path / "check.json"
    assert check.main(["--device", "cpu", "--json", str(out)]) == 0
    results = json.loads(out.read_text())["max_abs_diff"]
    assert {"gru bidirectional packed", "lstm bidirectional padded", "ligru bidirectional"} <= set(
        results
    )
    assert all(0 <= diff <= 1e-4 for diff in results.values())


def test_gpu_check_fails_when_a_path_disagrees(monkeypatch: pytest.MonkeyPatch) -> None:
    check = load_gpu_check()
    monkeypatch.setattr(check, "checks", lambda device: {"gru bidirectional packed": 0.5})
    assert check.main(["--device", "cpu"]) == 1


def test_gpu_check_without_cuda_says_why_and_exits_zero(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    check = load_gpu_check()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert check.main(["--device", "cuda"]) == 0
    assert "skipped: --device cuda: CUDA is not available" in capsys.readouterr().out
