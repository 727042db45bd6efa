"""export.py: the exported model runs without seqlab and equals PyTorch, padding or not."""

from pathlib import Path

import numpy as np
import pytest
import torch

from seqlab.data.collate import pad_collate
from seqlab.export import export
from seqlab.tasks.module import SequenceTask
from seqlab.train import train
from tests.conftest import compose_config
from tests.test_predict import SEQ2SEQ

ort = pytest.importorskip("onnxruntime")


def checkpoint(tiny_config, *overrides: str) -> Path:
    cfg = tiny_config(*overrides, "trainer.limit_train_batches=2", "test=false")
    train(cfg)
    return Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"


def exported(ckpt: Path, fmt: str = "onnx") -> Path:
    out = ckpt.parent.parent / f"model.{fmt}"
    cfg = compose_config(
        [f"ckpt_path={ckpt}", f"format={fmt}", f"output={out}", f"paths.output_dir={out.parent}"],
        config_name="export",
    )
    return export(cfg)


def variable_batch(ckpt: Path, extra_padding: int = 0) -> tuple[torch.Tensor, torch.Tensor, list]:
    task = SequenceTask.load_from_checkpoint(ckpt, map_location="cpu").eval()
    generator = torch.Generator().manual_seed(0)
    lengths = torch.tensor([9, 2, 5, 7])
    xs = [torch.randn(n, task.spec.input_size, generator=generator) for n in lengths.tolist()]
    batch = pad_collate([(x, torch.tensor(0), i) for i, x in enumerate(xs)])
    inputs = torch.nn.functional.pad(batch.inputs, (0, 0, 0, extra_padding))
    return inputs, lengths, [task, xs]


@pytest.mark.parametrize("model", ["lstm", "gru", "ligru"])
def test_onnx_matches_pytorch_on_a_variable_length_batch(model: str, tiny_config) -> None:
    ckpt = checkpoint(tiny_config, f"model={model}")
    session = ort.InferenceSession(str(exported(ckpt)))
    inputs, lengths, (task, xs) = variable_batch(ckpt)
    (probabilities,) = session.run(None, {"inputs": inputs.numpy(), "lengths": lengths.numpy()})
    with torch.no_grad():
        alone = [task(pad_collate([(x, torch.tensor(0), 0)]))["main"].softmax(-1)[0] for x in xs]
    np.testing.assert_allclose(probabilities, torch.stack(alone).numpy(), atol=1e-5, rtol=0)
    longer, _, _ = variable_batch(ckpt, extra_padding=5)
    (padded,) = session.run(None, {"inputs": longer.numpy(), "lengths": lengths.numpy()})
    np.testing.assert_allclose(padded, probabilities, atol=1e-6, rtol=0)


def test_torchscript_runs_from_the_file_alone(tiny_config) -> None:
    ckpt = checkpoint(tiny_config, "model=ligru")
    loaded = torch.jit.load(str(exported(ckpt, "torchscript")))
    inputs, lengths, (task, xs) = variable_batch(ckpt)
    with torch.no_grad():
        (probabilities,) = loaded(inputs, lengths)
        alone = [task(pad_collate([(x, torch.tensor(0), 0)]))["main"].softmax(-1)[0] for x in xs]
    torch.testing.assert_close(probabilities, torch.stack(alone), atol=1e-5, rtol=0)


def test_bidirectional_ligru_exports(tiny_config) -> None:
    ckpt = checkpoint(tiny_config, "model=ligru", "model.bidirectional=true")
    session = ort.InferenceSession(str(exported(ckpt)))
    inputs, lengths, (task, xs) = variable_batch(ckpt)
    (probabilities,) = session.run(None, {"inputs": inputs.numpy(), "lengths": lengths.numpy()})
    with torch.no_grad():
        alone = [task(pad_collate([(x, torch.tensor(0), 0)]))["main"].softmax(-1)[0] for x in xs]
    np.testing.assert_allclose(probabilities, torch.stack(alone).numpy(), atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        (["model.bidirectional=true"], "bidirectional RNN/LSTM/GRU cannot be exported"),
        (SEQ2SEQ, "cannot be exported: it decodes with a loop"),
    ],
)
def test_what_cannot_be_exported_is_refused_with_the_reason(
    overrides: list[str], reason: str, tiny_config
) -> None:
    ckpt = checkpoint(tiny_config, *overrides)
    with pytest.raises(ValueError, match=reason):
        exported(ckpt)


def test_per_step_outputs_are_zero_at_padding_and_independent_of_it(tiny_config) -> None:
    ckpt = checkpoint(
        tiny_config, "data.per_step=true", "task=many_to_many", "task.monitor=val/loss"
    )
    session = ort.InferenceSession(str(exported(ckpt)))
    inputs, lengths, (task, xs) = variable_batch(ckpt, extra_padding=3)
    (steps,) = session.run(None, {"inputs": inputs.numpy(), "lengths": lengths.numpy()})
    for row, (x, n) in enumerate(zip(xs, lengths.tolist(), strict=True)):
        with torch.no_grad():
            alone = task(pad_collate([(x, torch.zeros(n, dtype=torch.long), 0)]))["main"]
        np.testing.assert_allclose(steps[row, :n], alone[0].softmax(-1).numpy(), atol=1e-5, rtol=0)
        assert not steps[row, n:].any()
