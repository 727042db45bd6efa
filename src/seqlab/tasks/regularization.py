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
    """Batch augmentation, weight penalties and the label-smoothing epsilon of training
    losses, and the perturbations each model applies before its encoder (`inputs`), between
    the encoder's layers (`layer_dropout`) and before its heads (`outputs`).
    """

    def __init__(self, config: dict, tokens: bool) -> None:
        super().__init__()
        self.config = config
        augment = config.get("augment")
        if augment and tokens:
            raise ValueError("regularizer.augment transforms float features; this data has tokens")
        self.augment = SequenceAugment(augment) if augment else None
        self.penalties = [
            WeightPenalty(kind, **config[kind]) for kind in ("l1", "l2") if config.get(kind)
        ]
        smoothing = config.get("label_smoothing")
        self.smoothing = check_epsilon(smoothing["epsilon"]) if smoothing else 0.0

    def perturbations(self, where: str) -> nn.ModuleList | None:
        """Fresh noise and dropout modules for `inputs` or `outputs` (the `head` place of
        `regularizer.dropout`), noise first; None when nothing is switched on there."""
        dropout, noise = self.config.get("dropout"), self.config.get("noise")
        modules = [GaussianNoise(noise["std"])] if noise and noise[where] else []
        dropped = make_dropout(dropout, "inputs" if where == "inputs" else "head")
        modules += [dropped] if dropped is not None else []
        return nn.ModuleList(modules) if modules else None

    def layer_dropout(self) -> SequenceDropout | None:
        """The dropout an encoder applies between its own layers."""
        return make_dropout(self.config.get("dropout"), "layers")

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
