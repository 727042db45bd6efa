"""Predict with a checkpoint: `python predict.py ckpt_path=... [data=files data.predict=x.csv]`."""

from seqlab.predict import main

if __name__ == "__main__":
    main()
