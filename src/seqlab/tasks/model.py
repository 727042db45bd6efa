"""The model: input embedding -> encoder -> named heads, a plain nn.Module."""

from hydra.utils import get_class
from torch import Tensor, nn

from seqlab.data.batch import Batch, length_mask
from seqlab.data.spec import DataSpec
from seqlab.heads.base import Head
from seqlab.heads.per_step import check_encoder
from seqlab.models.base import Encoder, EncoderOutput
from seqlab.tasks.regularization import Regularization, perturb


class SequenceModel(nn.Module):
    """Embeds token inputs, encodes once and hands every head the encoding together with
    its own target's view of the batch (`Batch.target(name)` for data with named targets).
    """

    def __init__(
        self,
        spec: DataSpec,
        embedding: nn.Embedding | None,
        encoder: Encoder,
        heads: dict[str, Head],
        perturb_inputs: nn.ModuleList | None = None,
        perturb_outputs: nn.ModuleList | None = None,
    ) -> None:
        super().__init__()
        self.spec = spec
        self.embedding = embedding
        self.perturb_inputs = perturb_inputs
        self.encoder = encoder
        self.perturb_outputs = perturb_outputs
        self.heads = nn.ModuleDict(heads)

    def encode(self, batch: Batch) -> EncoderOutput:
        """Embedding -> input perturbations -> encoder -> perturbations of outputs and final.

        Perturbations act in training; at eval they are the identity, except dropout with
        `mode=scale_at_test`, which scales by 1 - p (so eval, predict and export agree).
        """
        return self.perturbed(self.encoder(self.inputs(batch), batch.lengths))

    def inputs(self, batch: Batch) -> Tensor:
        """What the encoder reads: embedded tokens or features, perturbed."""
        self.check_inputs(batch)
        inputs = batch.inputs if self.embedding is None else self.embedding(batch.inputs)
        return perturb(self.perturb_inputs, inputs, batch.mask)

    def perturbed(self, encoded: EncoderOutput) -> EncoderOutput:
        """The encoder's outputs and final vector as the heads see them (padding kept zero)."""
        if self.perturb_outputs is None:
            return encoded
        mask = length_mask(encoded.lengths, encoded.outputs.shape[1], encoded.outputs.device)
        return encoded._replace(
            outputs=perturb(self.perturb_outputs, encoded.outputs, mask),
            final=perturb(self.perturb_outputs, encoded.final, None),
        )

    def view(self, batch: Batch, name: str) -> Batch:
        """The batch as head `name` sees it: its own target."""
        return batch.target(name) if self.spec.targets else batch

    def forward(self, batch: Batch, stage: str = "test") -> dict[str, Tensor]:
        """Every head's outputs (logits, values) for `batch`, without regularization."""
        encoded = self.encode(batch)
        return {
            name: head(encoded, self.view(batch, name), stage) for name, head in self.heads.items()
        }

    def data_loss(self, batch: Batch) -> tuple[Tensor, EncoderOutput]:
        """The weighted sum of the heads' training losses, and the encoding it came from
        (what the gradient-flow callback differentiates through time)."""
        encoded = self.encode(batch)
        total = sum(
            head.weight
            * head.loss(head(encoded, self.view(batch, name), "train"), self.view(batch, name))
            for name, head in self.heads.items()
        )
        return total, encoded

    def check_inputs(self, batch: Batch) -> None:
        """Fail on the first batch whose feature count is not the one the model was built for."""
        features = batch.inputs.shape[-1]
        if not self.spec.input_is_tokens and features != self.spec.input_size:
            raise ValueError(
                f"data gives {features} input features per step, but the model was built for "
                f"the data's DataSpec.input_size={self.spec.input_size}: the data module's "
                f"spec disagrees with its items"
            )


def build_model(
    spec: DataSpec,
    model: dict,
    heads: dict[str, dict],
    embedding_dim: int,
    regularization: Regularization,
) -> SequenceModel:
    """Encoder from `model` (a `model` group config), one head per entry of `heads`, and the
    configured perturbations around the encoder."""
    check_heads(heads, spec)
    embedding = (
        nn.Embedding(spec.input_size, embedding_dim, padding_idx=0)
        if spec.input_is_tokens
        else None
    )
    encoder_input = embedding_dim if spec.input_is_tokens else spec.input_size
    encoder = construct(model, input_size=encoder_input, dropout=regularization.layer_dropout())
    built = {}
    for name, config in heads.items():
        head_spec = spec.target_spec(name) if spec.targets else spec
        try:
            built[name] = construct(config, spec=head_spec, input_size=encoder.output_size)
        except Exception as error:
            raise ValueError(f"task.heads.{name}: {error}") from error
    if any(getattr(head, "aligned_steps", False) for head in built.values()):
        check_encoder(encoder, causal=any(h.spec.next_step for h in built.values()))
    return SequenceModel(
        spec,
        embedding,
        encoder,
        built,
        regularization.perturbations("inputs"),
        regularization.perturbations("outputs"),
    )


def check_heads(heads: dict[str, dict], spec: DataSpec) -> None:
    """Refuse a head configuration that does not fit the data, naming the key."""
    if not heads:
        raise ValueError("task.heads is empty: a model needs at least one head")
    if not spec.targets and len(heads) > 1:
        raise ValueError(
            f"task.heads has {len(heads)} heads ({sorted(heads)}), but the data gives one target "
            "per item: use one head, or data with named targets"
        )
    if spec.targets:
        for name in heads:
            if name not in spec.targets:
                raise ValueError(
                    f"task.heads.{name}: the data has no target {name!r} (its targets: "
                    f"{sorted(spec.targets)}); use task=multitask with one head per target"
                )
    if not any(head["weight"] > 0 for head in heads.values()):
        raise ValueError("task.heads: at least one head needs a weight > 0")


def construct(config: dict, **parts: object) -> nn.Module:
    """`config["_target_"](**config, **parts)`: the parts (spec, sizes, modules) are passed
    as they are, not through Hydra, which would turn them into config nodes."""
    keys = {k: v for k, v in config.items() if not k.startswith("_")}
    return get_class(config["_target_"])(**keys, **parts)


def check_averageable(model: SequenceModel) -> None:
    """Ensembles average their members' outputs through each head's `combine`."""
    for name, head in model.heads.items():
        if type(head).combine is Head.combine:
            raise ValueError(
                f"ensemble=bagging|kfold averages the members' outputs, but head {name!r} "
                f"({type(head).__name__}) cannot average its outputs"
            )


def check_augmentable(model: SequenceModel) -> None:
    """Augmentations change lengths and steps; only one-per-sequence targets survive them."""
    for name, head in model.heads.items():
        if not head.augmentable:
            raise ValueError(
                f"regularizer.augment changes the steps of training sequences, but head "
                f"{name!r} ({type(head).__name__}) has per-step or sequence targets that would "
                "no longer line up: use it with many_to_one heads only"
            )
