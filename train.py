"""Train a model: `python train.py model=lstm regularizer=dropout` (see README)."""

import sys

from seqlab.config.overrides import check_regularizer_overrides

if __name__ == "__main__":
    check_regularizer_overrides(sys.argv[1:])
    from seqlab.cli import run

    run("train")
