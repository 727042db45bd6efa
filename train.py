"""Train a model: `python train.py model=lstm regularizer=dropout` (see README)."""

import sys

from seqlab.config.overrides import check_regularizer_overrides

if __name__ == "__main__":
    check_regularizer_overrides(sys.argv[1:])
    from seqlab.cli import print_help, train

    if {"--help", "-h"} & set(sys.argv[1:]):
        print_help([a for a in sys.argv[1:] if not a.startswith("-")])
    else:
        train()
