"""Train a model: `python train.py model=lstm regularizer=dropout` (see README)."""

from seqlab.train import main

if __name__ == "__main__":
    main()
