"""Evaluate a checkpoint: `python eval.py ckpt_path=logs/.../checkpoints/last.ckpt`."""

from seqlab.eval import main

if __name__ == "__main__":
    main()
