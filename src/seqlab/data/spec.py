"""What the data tells the models: dimensions are typed once, here."""

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class DataSpec:
    """Sizes a model needs from the data, so no YAML file repeats them.

    `input_size` is the feature count per step for float inputs, or the vocabulary size for
    token inputs (`input_vocab` non-empty, id 0 = padding). `num_classes` is 0 for regression
    targets, whose width is `target_size`. `target_vocab` names the symbols of token target
    sequences (seq2seq, language modelling).

    `next_step`: the target at step t is the input of a later step (forecasting, language
    modelling), so a model that looks ahead would read its answer; tasks refuse non-causal
    encoders. `persistence_baseline`: the first `target_size` input features at step t are the
    series' current values, i.e. the naive "tomorrow = today" forecast of the target at t.

    `target_mean`, `target_std`: set when the source standardised regression targets with
    these training statistics (one per target value); `outputs * std + mean` are values in
    the data's own units (what predictions report).

    `targets`: for data with several named targets per item (task=multitask), the target
    fields of each (name -> {num_classes, class_names, target_vocab, ...}); the top-level
    target fields are then unused. `target_spec(name)` is the spec one head sees.

    `streams`: > 0 when training batches continue that many parallel streams (row r of every
    batch is the next window of stream r), so truncated BPTT carries state across batches.
    """

    input_size: int
    num_classes: int = 0
    target_size: int = 1
    class_names: tuple[str, ...] = ()
    input_vocab: tuple[str, ...] = ()
    target_vocab: tuple[str, ...] = ()
    next_step: bool = False
    persistence_baseline: bool = False
    target_mean: tuple[float, ...] = ()
    target_std: tuple[float, ...] = ()
    targets: dict[str, dict] = field(default_factory=dict)
    streams: int = 0

    @property
    def input_is_tokens(self) -> bool:
        return bool(self.input_vocab)

    def target_spec(self, name: str) -> "DataSpec":
        """The single-target spec of target `name`: these inputs, that target's fields."""
        if name not in self.targets:
            raise KeyError(f"the data has no target {name!r} (targets: {sorted(self.targets)})")
        return replace(self, targets={}, **self.targets[name])
