"""What the data tells the models: dimensions are typed once, here."""

from dataclasses import dataclass


@dataclass(frozen=True)
class DataSpec:
    """Sizes a model needs from the data, so no YAML file repeats them.

    `input_size` is the feature count per step for float inputs, or the vocabulary size when
    `input_is_tokens` is true. `num_classes` is 0 for regression targets, whose width is
    `target_size`.
    """

    input_size: int
    num_classes: int = 0
    target_size: int = 1
    input_is_tokens: bool = False
    class_names: tuple[str, ...] = ()
