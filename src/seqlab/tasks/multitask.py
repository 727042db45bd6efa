"""One shared encoder, several named heads of any task type, trained on a weighted loss sum.

Each head is an ordinary task (many_to_one, many_to_many, seq2seq) that owns no encoder: the
multitask model encodes a batch once and hands every head that encoding together with the
head's own single-target view of the batch (`Batch.target(name)`). A head reads the data
target of its own name, and logs its metrics as `<stage>/<head>/<metric>`.
"""

import math
from dataclasses import replace

import torch
from torch import Tensor, nn

from seqlab.data.batch import Batch, length_mask
from seqlab.data.spec import DataSpec
from seqlab.models.base import Encoder, EncoderOutput
from seqlab.tasks.base import SequenceTask
from seqlab.tasks.many_to_many import ManyToManyTask, _check_encoder
from seqlab.tasks.many_to_one import ManyToOneTask
from seqlab.tasks.seq2seq import Seq2SeqTask

# head type -> (task class, the head-config keys that class takes)
HEAD_TYPES: dict[str, tuple[type[SequenceTask], tuple[str, ...]]] = {
    "many_to_one": (ManyToOneTask, ()),
    "many_to_many": (ManyToManyTask, ("reduction",)),
    "seq2seq": (Seq2SeqTask, ("teacher_forcing", "decoder", "attention", "decoding")),
}


class SharedEncoding(Encoder):
    """The encoder of a multitask head: the identity on its parent's encoding, which the
    parent computes once and hands to `head_step`. The head owns no encoder of its own, so
    no duplicate and no unused parameters under DDP; a head's build-time probe of its
    encoder sees an encoder that keeps every step (the parent probes the real one)."""

    def __init__(self, input_size: int, output_size: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.input_size, self.output_size = input_size, output_size

    def forward(self, inputs: Tensor, lengths: Tensor) -> EncoderOutput:
        mask = length_mask(lengths, inputs.shape[1], inputs.device)
        outputs = inputs * mask[..., None]
        final = outputs[torch.arange(len(lengths)), lengths.to(inputs.device) - 1]
        return EncoderOutput(outputs, lengths, final)


def check_heads(heads: dict[str, dict], spec: DataSpec) -> None:
    """Refuse a bad head configuration before anything is built, naming the key."""
    if not heads:
        raise ValueError(
            f"task.heads is empty: configure one head per data target ({sorted(spec.targets)})"
        )
    for name, head in heads.items():
        key = f"task.heads.{name}"
        if name not in spec.targets:
            raise ValueError(
                f"{key}: the data has no target {name!r} (its targets: {sorted(spec.targets)})"
            )
        if head["type"] not in HEAD_TYPES:
            raise ValueError(
                f"{key}.type must be one of {sorted(HEAD_TYPES)}, got {head['type']!r}"
            )
        if not (math.isfinite(head["weight"]) and head["weight"] >= 0):
            raise ValueError(f"{key}.weight must be a finite number >= 0, got {head['weight']}")
        if spec.targets[name].get("next_step"):
            raise ValueError(f"{key}: next-step (forecasting, LM) targets are not supported yet")
    if not any(head["weight"] > 0 for head in heads.values()):
        raise ValueError("task.heads: at least one head needs a weight > 0")


class MultitaskTask(SequenceTask):
    """Total loss = sum over heads of weight * head loss; `<stage>/<head>/loss` logged apart.

    Every head's loss enters the total (a weight of 0 included), so every parameter receives
    a gradient at every step and DDP needs no `find_unused_parameters`.
    """

    multitarget = True

    def __init__(
        self,
        spec: DataSpec | dict,
        model: dict,
        regularizer: dict,
        init: dict,
        optim: dict,
        heads: dict[str, dict],
        monitor: str = "val/loss",
        monitor_mode: str = "min",
        embedding_dim: int = 64,
    ) -> None:
        spec = spec if isinstance(spec, DataSpec) else DataSpec(**spec)
        check_heads(heads, spec)
        self.head_configs = {name: dict(head) for name, head in heads.items()}
        super().__init__(
            spec, model, regularizer, init, optim, monitor, monitor_mode, embedding_dim
        )

    def build_heads(self, encoder_size: int) -> None:
        if any(config["type"] == "many_to_many" for config in self.head_configs.values()):
            _check_encoder(self.encoder, causal=False)  # one output per input step
        self.heads = nn.ModuleDict(
            {
                name: self._build_head(name, config, encoder_size)
                for name, config in self.head_configs.items()
            }
        )
        self.weights = {name: float(config["weight"]) for name, config in self.head_configs.items()}

    def _build_head(self, name: str, config: dict, encoder_size: int) -> SequenceTask:
        """A task of the head's type whose 'inputs' are the shared encoder's outputs."""
        task_class, option_keys = HEAD_TYPES[config["type"]]
        spec = replace(self.spec.target_spec(name), input_size=encoder_size, input_vocab=())
        smoothing = self.regularizer.get("label_smoothing")
        head = task_class(
            spec=spec,
            model={"_target_": f"{__name__}.SharedEncoding", "output_size": encoder_size},
            regularizer={"label_smoothing": smoothing} if smoothing else {},
            init=self.hparams["init"],
            optim=self.hparams["optim"],
            **{key: config[key] for key in option_keys},
        )
        head.route_logs(self.log, name)
        return head

    def setup(self, stage: str) -> None:
        """Lightning hands its trainer to direct children only; heads sit in a ModuleDict
        (seq2seq heads look up their stage's dataset through it)."""
        for head in self.heads.values():
            head.trainer = self.trainer

    def head_losses(self, batch: Batch, stage: str) -> dict[str, Tensor]:
        """Each head's data loss on one shared encoding of `batch` (metrics updated)."""
        encoded = self.encode(batch)
        return {
            name: head.head_step(encoded, batch.target(name), stage)
            for name, head in self.heads.items()
        }

    def step(self, batch: Batch, stage: str) -> Tensor:
        losses = self.head_losses(batch, stage)
        for name, loss in losses.items():
            size, sync = len(batch), stage != "train"
            self.log(f"{stage}/{name}/loss", loss, batch_size=size, sync_dist=sync)
        return sum(self.weights[name] * loss for name, loss in losses.items())
