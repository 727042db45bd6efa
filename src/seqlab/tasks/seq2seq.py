"""Encoder -> attention -> recurrent decoder, one output symbol per step (G2P, ASR, MT)."""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.data.batch import Batch
from seqlab.data.spec import DataSpec
from seqlab.data.vocab import Vocabulary
from seqlab.models.base import EncoderOutput
from seqlab.models.decoder import AttentionDecoder
from seqlab.models.search import Decoded, beam_search, greedy_decode, hypotheses
from seqlab.tasks.base import SequenceTask
from seqlab.tasks.sequence_metrics import SequenceErrorRates, Symbols

STRATEGIES = ("greedy", "beam")


class Seq2SeqTask(SequenceTask):
    """Cross-entropy at every real output step; PER / WER of decoded outputs at val and test.

    Training feeds the gold previous symbol with probability `teacher_forcing` per step and
    sequence, the model's own argmax otherwise. Validation loss is fully teacher-forced;
    validation and test metrics come from free decoding (`decoding.val` / `decoding.test`).
    """

    def __init__(
        self,
        spec: DataSpec | dict,
        model: dict,
        regularizer: dict,
        init: dict,
        optim: dict,
        decoder: dict,
        attention: dict,
        decoding: dict,
        teacher_forcing: float = 1.0,
        monitor: str = "val/per",
        monitor_mode: str = "min",
        embedding_dim: int = 64,
    ) -> None:
        if not 0.0 <= teacher_forcing <= 1.0:
            raise ValueError(f"task.teacher_forcing must be in [0, 1], got {teacher_forcing}")
        _check_decoding(decoding)
        self.decoder_args, self.attention_args = dict(decoder), dict(attention)
        self.decoding, self.teacher_forcing = dict(decoding), teacher_forcing
        super().__init__(
            spec, model, regularizer, init, optim, monitor, monitor_mode, embedding_dim
        )

    def build_heads(self, encoder_size: int) -> None:
        if not self.spec.target_vocab:
            raise ValueError(
                "task=seq2seq needs token target sequences: the data's DataSpec has no "
                "target_vocab (pick a seq2seq data source, e.g. data=cmudict_g2p)"
            )
        self.decoder = AttentionDecoder(
            vocab_size=len(self.spec.target_vocab),
            encoder_size=encoder_size,
            attention=self.attention_args["kind"],
            attention_size=self.attention_args["size"],
            **self.decoder_args,
        )
        self.error_rates = nn.ModuleDict({s: SequenceErrorRates() for s in ("val", "test")})

    def teacher_forced(self, encoded: EncoderOutput, targets: Tensor, ratio: float) -> Tensor:
        """Logits [B, T', V] for targets [B, T'], feeding gold symbols with probability `ratio`."""
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

    def sequence_loss(self, logits: Tensor, batch: Batch) -> Tensor:
        """Mean cross-entropy over the real target steps of the batch (padding excluded)."""
        mask = batch.target_mask
        return F.cross_entropy(
            logits[mask], batch.targets[mask], label_smoothing=self.label_smoothing
        )

    def decode(self, encoded: EncoderOutput, strategy: str = "greedy") -> Decoded:
        memory, state = self.decoder.start(encoded)
        limit = self.decoding["max_length"]
        if strategy == "greedy":
            return greedy_decode(self.decoder, memory, state, limit)
        return beam_search(
            self.decoder,
            memory,
            state,
            limit,
            self.decoding["beam_size"],
            self.decoding["length_penalty"],
        )

    @torch.no_grad()
    def decode_batch(self, batch: Batch, strategy: str = "greedy") -> Decoded:
        """Decoded symbols (and greedy attention weights) for a batch, in eval mode."""
        return self.decode(self.encode(batch), strategy)

    def head_step(self, encoded: EncoderOutput, batch: Batch, stage: str) -> Tensor:
        ratio = self.teacher_forcing if stage == "train" else 1.0
        loss = self.sequence_loss(self.teacher_forced(encoded, batch.targets, ratio), batch)
        if stage in self.error_rates:
            decoded = self.decode(encoded, self.decoding[stage])
            rates = self.error_rates[stage]
            rates.update(hypotheses(decoded.tokens), self.references(batch, stage))
            self.log(f"{stage}/per", rates.per, prog_bar=True, batch_size=len(batch))
            self.log(f"{stage}/wer", rates.wer, prog_bar=True, batch_size=len(batch))
        return loss

    def references(self, batch: Batch, stage: str) -> list[list[Symbols]]:
        """Every acceptable output of each item: the dataset's `references` when it has them
        (looked up by item index), else the batch's own target without `<eos>`."""
        references = getattr(self._stage_dataset(stage), "references", None)
        if isinstance(references, dict):  # multi-target data: one list per target (head)
            references = references.get(self.head_name)
        if references is not None:
            return [references[i] for i in batch.indices.tolist()]
        return [[tuple(h)] for h in hypotheses(batch.targets)]

    def _stage_dataset(self, stage: str):
        if self._trainer is None:
            return None
        loader = self.trainer.val_dataloaders if stage == "val" else self.trainer.test_dataloaders
        return getattr(loader, "dataset", None)


def _check_decoding(decoding: dict) -> None:
    for stage in ("val", "test"):
        if decoding[stage] not in STRATEGIES:
            raise ValueError(
                f"task.decoding.{stage} must be one of {STRATEGIES}, got {decoding[stage]!r}"
            )
    if decoding["beam_size"] < 1:
        raise ValueError(f"task.decoding.beam_size must be >= 1, got {decoding['beam_size']}")
    if decoding["max_length"] < 1:
        raise ValueError(f"task.decoding.max_length must be >= 1, got {decoding['max_length']}")
    if decoding["length_penalty"] < 0:
        raise ValueError(
            f"task.decoding.length_penalty must be >= 0, got {decoding['length_penalty']}"
        )
