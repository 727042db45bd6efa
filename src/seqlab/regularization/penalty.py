"""L1 / L2 weight penalties: lambda * sum over weight matrices, with per-module lambdas."""

from torch import Tensor, nn

NORM_TYPES = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.RMSNorm)


def penalized_parameters(
    module: nn.Module, exclude_biases: bool = True, exclude_norms: bool = True
) -> dict[str, nn.Parameter]:
    """Parameters a penalty applies to, by qualified name.

    Biases (any parameter named `bias*`, e.g. LSTM's `bias_ih_l0`) and the parameters of
    normalisation layers are left out when excluded: shrinking them towards zero does not
    limit capacity, it only shifts or rescales activations.
    """
    norm_prefixes = [name for name, m in module.named_modules() if isinstance(m, NORM_TYPES)]
    chosen = {}
    for name, parameter in module.named_parameters():
        owner, _, leaf = name.rpartition(".")
        if exclude_biases and leaf.startswith("bias"):
            continue
        if exclude_norms and owner in norm_prefixes:
            continue
        chosen[name] = parameter
    return chosen


class WeightPenalty(nn.Module):
    """`weight * sum ||W||_p^p` (p = 1 or 2) over the penalized parameters of a module.

    `modules` maps a parameter-name prefix (e.g. `encoder`, `head`) to its own lambda; the
    longest matching prefix wins, all other parameters get `weight`. Holds no parameters:
    the module it penalizes is passed at call time (so it is not registered twice).
    """

    def __init__(
        self,
        kind: str,
        weight: float,
        modules: dict[str, float] | None = None,
        exclude_biases: bool = True,
        exclude_norms: bool = True,
    ) -> None:
        super().__init__()
        if kind not in ("l1", "l2"):
            raise ValueError(f"a weight penalty is l1 or l2, got {kind!r}")
        self.kind = kind
        self.modules_lambda = dict(modules or {})
        for key, value in {"weight": weight, **self.modules_lambda}.items():
            name = "weight" if key == "weight" else f"modules.{key}"
            if value < 0:
                raise ValueError(f"regularizer.{kind}.{name} must be >= 0, got {value}")
        self.weight = weight
        self.exclude_biases, self.exclude_norms = exclude_biases, exclude_norms

    def lambdas(self, module: nn.Module) -> dict[str, float]:
        """The lambda of every penalized parameter of `module`, by name."""
        names = penalized_parameters(module, self.exclude_biases, self.exclude_norms)
        for prefix in self.modules_lambda:
            if not any(_under(name, prefix) for name in names):
                raise ValueError(
                    f"regularizer.{self.kind}.modules.{prefix}: no penalized parameter is "
                    f"under {prefix!r}; top-level modules: {sorted(dict(module.named_children()))}"
                )
        result = {}
        for name in names:
            matches = [p for p in self.modules_lambda if _under(name, p)]
            result[name] = self.modules_lambda[max(matches, key=len)] if matches else self.weight
        return result

    def forward(self, module: nn.Module) -> Tensor:
        parameters = dict(module.named_parameters())
        total = None
        for name, lam in self.lambdas(module).items():
            if lam == 0.0:
                continue
            w = parameters[name]
            term = lam * (w.abs().sum() if self.kind == "l1" else w.pow(2).sum())
            total = term if total is None else total + term
        return total if total is not None else next(module.parameters()).new_zeros(())


def _under(name: str, prefix: str) -> bool:
    """True if parameter `name` lies in the module `prefix` (dotted path) or equals it."""
    return name == prefix or name.startswith(prefix + ".")
