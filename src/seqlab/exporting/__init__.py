"""Export a trained model to a file that runs without seqlab: `python export.py ckpt_path=...`."""
