"""Command-line checks Hydra cannot phrase well, run before composing."""

import re

REGULARIZER_KEY = re.compile(r"^regularizer\.(\w+)\.")
SELECTIONS = ("regularizer=", "experiment=", "hparams_search=")


def check_regularizer_overrides(overrides: list[str]) -> None:
    """`regularizer.dropout.p=0.5` without `regularizer=dropout` sets a key of a regularizer
    that is switched off; Hydra would fail with an assertion naming nothing."""
    chosen = " ".join(o for o in overrides if o.startswith(SELECTIONS))
    for override in overrides:
        match = REGULARIZER_KEY.match(override)
        if match and not re.search(rf"\b{match.group(1)}\b", chosen):
            name = match.group(1)
            raise SystemExit(
                f"error: {override.split('=')[0]} is a key of regularizer '{name}', which this "
                f"run does not select: add regularizer={name} "
                f"(several: regularizer=[{name},...])"
            )
