"""The regularizers a run switched on, built from the `regularizer` group (train only).

Only what is switched on becomes a module, so a run without regularizers has none.
"""

from torch import Tensor, nn

from seqlab.data.batch import Batch
from seqlab.regularization.augment import SequenceAugment
from seqlab.regularization.dropout import SequenceDropout
from seqlab.regularization.label_smoothing import check_epsilon
from seqlab.regularization.noise import GaussianNoise
from seqlab.regularization.penalty import WeightPenalty


class Regularization(nn.Module):
    """Perturbations before the encoder (`inputs`) and before the heads (`outputs`), batch
    augmentation, weight penalties and the label-smoothing epsilon of training losses.

    `layer_dropout` is the dropout the encoder applies between its own layers; it is handed
    to the encoder, not applied here.
    """

    def __init__(self, config: dict, tokens: bool) -> None:
        super().__init__()
        dropout, noise = config.get("dropout"), config.get("noise")
        self.layer_dropout = make_dropout(dropout, "layers")
        inputs = [GaussianNoise(noise["std"])] if noise and noise["inputs"] else []
        outputs = [GaussianNoise(noise["std"])] if noise and noise["outputs"] else []
        inputs += [d for d in [make_dropout(dropout, "inputs")] if d is not None]
        outputs += [d for d in [make_dropout(dropout, "head")] if d is not None]
        self.inputs = nn.ModuleList(inputs) if inputs else None
        self.outputs = nn.ModuleList(outputs) if outputs else None
        augment = config.get("augment")
        if augment and tokens:
            raise ValueError("regularizer.augment transforms float features; this data has tokens")
        self.augment = SequenceAugment(augment) if augment else None
        self.penalties = [
            WeightPenalty(kind, **config[kind]) for kind in ("l1", "l2") if config.get(kind)
        ]
        smoothing = config.get("label_smoothing")
        self.smoothing = check_epsilon(smoothing["epsilon"]) if smoothing else 0.0

    def perturb_inputs(self, x: Tensor, mask: Tensor) -> Tensor:
        return perturb(self.inputs, x, mask)

    def perturb_outputs(self, x: Tensor, mask: Tensor | None) -> Tensor:
        return perturb(self.outputs, x, mask)

    def augmented(self, batch: Batch) -> Batch:
        return batch if self.augment is None else self.augment(batch)

    def penalty(self, module: nn.Module) -> Tensor | float:
        """Sum of the weight penalties over the parameters of `module`."""
        return sum(penalty(module) for penalty in self.penalties)


def make_dropout(config: dict | None, where: str) -> SequenceDropout | None:
    """The dropout of `regularizer.dropout` at `where` (inputs | layers | head), or None."""
    if not config or not config[where] or config["p"] == 0.0:
        return None
    return SequenceDropout(config["p"], variational=config["variational"], mode=config["mode"])


def perturb(modules: nn.ModuleList | None, x: Tensor, mask: Tensor | None) -> Tensor:
    for module in modules or ():
        x = module(x, mask) if isinstance(module, GaussianNoise) else module(x)
    return x
