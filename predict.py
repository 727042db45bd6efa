"""Predict with a checkpoint: `python predict.py ckpt_path=... [data=files data.predict=x.csv]`."""

from seqlab.cli import run

if __name__ == "__main__":
    run("predict")
