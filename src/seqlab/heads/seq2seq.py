"""Encoder-decoder: attention and a recurrent decoder emit one symbol per step (G2P, MT)."""

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics import Metric

from seqlab.data.batch import Batch
from seqlab.data.spec import DataSpec
from seqlab.data.vocab import Vocabulary
from seqlab.heads.base import DecodingHead
from seqlab.heads.sequence_metrics import Symbols, error_rate_metrics, update_error_rates
from seqlab.models.base import EncoderOutput
from seqlab.models.decoder import AttentionDecoder
from seqlab.models.search import Decoded, beam_search, greedy_decode, hypotheses

STRATEGIES = ("greedy", "beam")


@dataclass
class DecoderSettings:
    cell: str = "lstm"  # lstm | gru | ligru
    hidden_size: int = 256  # decoder state width
    embedding_dim: int = 64  # width of the previous-symbol embedding
    dropout: float = 0.0  # on the symbol embedding and before the output layer


@dataclass
class AttentionSettings:
    kind: str = "additive"  # additive (Bahdanau) | dot | general (Luong)
    size: int = 128  # additive: width of the scoring layer


@dataclass
class DecodingSettings:
    val: str = "greedy"  # how validation outputs are decoded: greedy | beam
    test: str = "beam"  # how test outputs are decoded: greedy | beam
    beam_size: int = 5  # hypotheses kept per sequence
    max_length: int = 40  # symbols emitted at most (<eos> included)
    length_penalty: float = 0.0  # beam ranking: log-prob / length ** this

    def __post_init__(self) -> None:
        for stage in ("val", "test"):
            if getattr(self, stage) not in STRATEGIES:
                raise ValueError(
                    f"decoding.{stage} must be one of {STRATEGIES}, got {getattr(self, stage)!r}"
                )
        for key in ("beam_size", "max_length"):
            if getattr(self, key) < 1:
                raise ValueError(f"decoding.{key} must be >= 1, got {getattr(self, key)}")
        if self.length_penalty < 0:
            raise ValueError(f"decoding.length_penalty must be >= 0, got {self.length_penalty}")


class Seq2SeqHead(DecodingHead):
    """Cross-entropy at every real output step; PER / WER of decoded outputs at val and test.

    Training feeds the gold previous symbol with probability `teacher_forcing` per step and
    sequence, the model's own argmax otherwise; validation and test losses are fully
    teacher-forced, their PER/WER come from free decoding (`decoding.val` / `decoding.test`)
    against every acceptable reference of an item.
    """

    def __init__(
        self,
        spec: DataSpec,
        input_size: int,
        teacher_forcing: float = 1.0,
        decoder: DecoderSettings = DecoderSettings(),
        attention: AttentionSettings = AttentionSettings(),
        decoding: DecodingSettings = DecodingSettings(),
        **head_args,
    ) -> None:
        super().__init__(spec, input_size, **head_args)
        if not 0.0 <= teacher_forcing <= 1.0:
            raise ValueError(f"teacher_forcing must be in [0, 1], got {teacher_forcing}")
        self.teacher_forcing = teacher_forcing
        self.decoding = settings(DecodingSettings, decoding)
        attention = settings(AttentionSettings, attention)
        self.decoder = AttentionDecoder(
            vocab_size=len(spec.target_vocab),
            encoder_size=input_size,
            attention=attention.kind,
            attention_size=attention.size,
            **asdict(settings(DecoderSettings, decoder)),
        )

    def forward(self, encoded: EncoderOutput, batch: Batch, stage: str = "test") -> Tensor:
        """Logits [B, T', V] of the target steps, teacher-forced."""
        ratio = self.teacher_forcing if stage == "train" else 1.0
        targets = batch.targets
        memory, state = self.decoder.start(encoded)
        previous = targets.new_full((targets.shape[0],), Vocabulary.bos_id)
        logits = []
        for t in range(targets.shape[1]):
            out = self.decoder.step(previous, state, memory)
            logits.append(out.logits)
            previous = targets[:, t]
            if ratio < 1.0:
                own = out.logits.detach().argmax(-1)
                gold = torch.rand(previous.shape, device=previous.device) < ratio
                previous = torch.where(gold, previous, own)
            state = out.state
        return torch.stack(logits, dim=1)

    def loss(
        self, outputs: Tensor, batch: Batch, smoothing: float = 0.0, weights: Tensor | None = None
    ) -> Tensor:
        """Mean cross-entropy over the real target steps of the batch (padding excluded)."""
        mask = batch.target_mask
        per_step = F.cross_entropy(
            outputs[mask], batch.targets[mask], label_smoothing=smoothing, reduction="none"
        )
        if weights is not None:
            per_step = per_step * weights.repeat_interleave(batch.target_lengths.to(weights.device))
        return per_step.mean()

    def metrics(self) -> dict[str, Metric]:
        return error_rate_metrics()

    def update(self, metrics, outputs, encoded, batch, stage, references=None) -> None:
        if stage == "train":
            return
        decoded = self.decode(encoded, getattr(self.decoding, stage, "greedy"))
        if references is None:
            references = [[tuple(h)] for h in hypotheses(batch.targets)]
        update_error_rates(metrics, hypotheses(decoded.tokens), references)

    def decode(self, encoded: EncoderOutput, strategy: str = "greedy") -> Decoded:
        """Symbols [B, L] (and, greedy, attention weights) by free decoding."""
        memory, state = self.decoder.start(encoded)
        limit = self.decoding.max_length
        if strategy == "greedy":
            return greedy_decode(self.decoder, memory, state, limit)
        return beam_search(
            self.decoder,
            memory,
            state,
            limit,
            self.decoding.beam_size,
            self.decoding.length_penalty,
        )

    def predict(self, encoded: EncoderOutput, batch: Batch) -> list[Symbols]:
        """Decoded symbol ids of each item (the test decoding strategy, `<eos>` removed)."""
        return hypotheses(self.decode(encoded, self.decoding.test).tokens)


def settings(kind: type, value: object) -> object:
    """A settings dataclass from itself or from a config dict."""
    return value if isinstance(value, kind) else kind(**value)
