"""Export a checkpoint to ONNX or TorchScript: `python export.py ckpt_path=... format=onnx`.

The file runs without seqlab (onnxruntime, or `torch.jit.load`): inputs `inputs` [B, T, D]
(token ids [B, T]) and `lengths` [B], dynamic batch and time axes; outputs one tensor per head
(see `seqlab.exporting.graph`). What cannot be exported is refused, saying why.
"""

from pathlib import Path

import torch
from omegaconf import DictConfig

from seqlab.data.spec import DataSpec
from seqlab.exporting.graph import ExportedModel, head_is_per_step
from seqlab.tasks.module import SequenceTask

FORMATS = {"onnx": "onnx", "torchscript": "pt"}


def export(cfg: DictConfig) -> Path:
    """Write the exported model; returns its path."""
    if cfg.format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {cfg.format!r}")
    if not Path(cfg.ckpt_path).is_file():
        raise FileNotFoundError(f"ckpt_path={cfg.ckpt_path!r}: no such checkpoint file")
    task = SequenceTask.load_from_checkpoint(cfg.ckpt_path, map_location="cpu").eval()
    graph = ExportedModel(task.models).eval()
    output = Path(cfg.output or Path(cfg.paths.output_dir) / f"model.{FORMATS[cfg.format]}")
    output.parent.mkdir(parents=True, exist_ok=True)
    example = example_inputs(task.spec)
    with torch.no_grad():
        if cfg.format == "torchscript":
            torch.jit.trace(graph, example, check_trace=False).save(str(output))
        else:
            axes = {"inputs": {0: "batch", 1: "time"}, "lengths": {0: "batch"}}
            for name, head in task.model.heads.items():
                axes[name] = {0: "batch", 1: "time"} if head_is_per_step(head) else {0: "batch"}
            torch.onnx.export(
                graph,
                example,
                str(output),
                input_names=["inputs", "lengths"],
                output_names=graph.names,
                dynamic_axes=axes,
                opset_version=cfg.opset,
                dynamo=False,
            )
    return output


def example_inputs(spec: DataSpec) -> tuple[torch.Tensor, torch.Tensor]:
    """A padded batch to trace with (lengths differ, so the padded code paths are recorded)."""
    lengths = torch.tensor([6, 4, 5])
    if spec.input_is_tokens:
        inputs = torch.randint(3, spec.input_size, (3, 6))
    else:
        inputs = torch.randn(3, 6, spec.input_size)
    mask = torch.arange(6)[None, :] < lengths[:, None]
    return inputs * (mask if spec.input_is_tokens else mask[..., None]), lengths


def main(cfg: DictConfig) -> None:
    """`python export.py`, once `seqlab.cli` has composed and checked conf/export.yaml."""
    print(f"Exported: {export(cfg)}")
