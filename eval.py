"""Evaluate a checkpoint: `python eval.py ckpt_path=logs/.../checkpoints/last.ckpt`."""

from seqlab.cli import run

if __name__ == "__main__":
    run("eval")
