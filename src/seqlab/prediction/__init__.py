"""Predictions for new data: `python predict.py ckpt_path=...` (see `seqlab.predict`)."""
