"""Export a checkpoint: `python export.py ckpt_path=... format=onnx|torchscript`."""

from seqlab.cli import run

if __name__ == "__main__":
    run("export")
