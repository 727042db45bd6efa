"""Checks of raw feature sequences, run on every file before any dataset is built."""

import numpy as np

from seqlab.data.readers import Records


def check_features(records: Records, num_features: int, reference: str) -> None:
    """Every sequence has steps, `num_features` features per step (as `reference` has) and
    only finite values; the first offender is named by file and line/row/index."""
    if not records.inputs:
        raise ValueError(f"{records.path}: the file holds no sequences")
    for index, x in enumerate(records.inputs):
        if x.shape[0] == 0:
            raise ValueError(f"{records.place(index)} is an empty sequence (0 steps)")
        if x.shape[1] != num_features:
            raise ValueError(
                f"{records.place(index)} has {x.shape[1]} features per step, but {reference} "
                f"has {num_features}"
            )
        bad = np.argwhere(~np.isfinite(x))
        if bad.size:
            step, feature = bad[0]
            raise ValueError(
                f"{records.place(index)} has the non-finite value {x[step, feature]} at step "
                f"{step}, feature {feature}"
            )
