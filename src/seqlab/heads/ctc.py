"""Connectionist temporal classification: per-frame symbol probabilities plus a blank,
trained on every alignment of the target (Graves et al. 2006); no decoder, no attention."""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics import Metric

from seqlab.data.batch import Batch, length_mask
from seqlab.data.spec import DataSpec
from seqlab.data.vocab import Vocabulary
from seqlab.heads.base import DecodingHead
from seqlab.heads.ctc_decoding import BLANK, greedy, prefix_beam_search
from seqlab.heads.seq2seq import settings
from seqlab.heads.sequence_metrics import Symbols, error_rate_metrics, update_error_rates
from seqlab.models.base import EncoderOutput

STRATEGIES = ("greedy", "beam")
TOO_LONG = ("error", "skip")


@dataclass
class CTCDecodingSettings:
    val: str = "greedy"  # how validation outputs are decoded: greedy | beam
    test: str = "beam"  # how test outputs are decoded: greedy | beam
    beam_size: int = 5  # prefixes kept per frame (beam search)

    def __post_init__(self) -> None:
        for stage in ("val", "test"):
            if getattr(self, stage) not in STRATEGIES:
                raise ValueError(
                    f"decoding.{stage} must be one of {STRATEGIES}, got {getattr(self, stage)!r}"
                )
        if self.beam_size < 1:
            raise ValueError(f"decoding.beam_size must be >= 1, got {self.beam_size}")


class CTCHead(DecodingHead):
    """CTC loss over the encoder's real output frames; PER / WER of decoded outputs.

    - Blank: id 0, the vocabulary's `<pad>` (never a target), so decoded ids are vocabulary
      ids and the PER / WER are computed exactly as the seq2seq head does.
    - `<eos>`: seqlab's token targets end with it; CTC needs no end marker (the frames end),
      so a final `<eos>` is stripped from every target before the loss and the metrics.
    - `upsample`: each encoder step emits k frames, each from its own slice of the output
      layer (not k copies of one distribution, which could only emit one symbol per step).
      CTC needs target length + adjacent repeats <= frames; k=2 makes every target up to
      as long as the input feasible (copy tasks, most G2P words); a downsampling encoder
      (CRDNN pooling) needs k >= its factor.
    - `too_long`: an item that needs more frames than it has is refused with its dataset
      index (`error`), or left out of the loss only (`skip`; its PER / WER still count).
    - Outputs are log-probabilities [B, T*k, V]; padded frames are a certain blank (log-prob
      0 for blank, -inf for every symbol): neutral for decoding, and they carry the lengths.
    Ensembles are refused: members trained apart put their spikes at different frames, so a
    per-frame average of their distributions is not a distribution of one alignment.
    """

    def __init__(
        self,
        spec: DataSpec,
        input_size: int,
        upsample: int = 2,
        too_long: str = "error",
        decoding: CTCDecodingSettings = CTCDecodingSettings(),
        **head_args,
    ) -> None:
        super().__init__(spec, input_size, **head_args)
        if upsample < 1:
            raise ValueError(f"upsample must be >= 1, got {upsample}")
        if too_long not in TOO_LONG:
            raise ValueError(f"too_long must be one of {TOO_LONG}, got {too_long!r}")
        self.upsample, self.too_long = upsample, too_long
        self.decoding = settings(CTCDecodingSettings, decoding)
        self.vocab_size = len(spec.target_vocab)
        self.out = nn.Linear(input_size, upsample * self.vocab_size)

    def forward(self, encoded: EncoderOutput, batch: Batch, stage: str = "test") -> Tensor:
        """Log-probabilities [B, T*k, V] of every frame; padded frames are a certain blank."""
        outputs = encoded.outputs
        frames = outputs.shape[1] * self.upsample
        logits = self.out(outputs).reshape(outputs.shape[0], frames, self.vocab_size)
        log_probs = logits.float().log_softmax(-1)
        real = length_mask(encoded.lengths * self.upsample, frames, outputs.device)
        padded = torch.full_like(log_probs[0, 0], float("-inf"))
        padded[BLANK] = 0.0
        return torch.where(real[..., None], log_probs, padded)

    def loss(
        self, outputs: Tensor, batch: Batch, smoothing: float = 0.0, weights: Tensor | None = None
    ) -> Tensor:
        """Mean over items of each item's CTC loss / its target length (torch's `mean`).

        `smoothing` ε (label smoothing) mixes in ε x the cross-entropy of every real frame
        to the uniform distribution (a confidence penalty; CTC has no per-symbol targets to
        smooth): (1 - ε) CTC + ε uniform-CE, per item.
        """
        frames = frame_lengths(outputs)
        targets, lengths = stripped_targets(batch)
        fits = self.check_fit(targets, lengths, frames, batch)
        per_item = F.ctc_loss(
            outputs.transpose(0, 1),
            targets,
            frames,
            lengths,
            blank=BLANK,
            reduction="none",
            zero_infinity=True,  # only skipped items can be infinite (check_fit)
        )
        per_item = per_item / lengths.clamp(min=1).to(per_item.device)
        if smoothing > 0:
            real = (outputs[..., BLANK + 1] > float("-inf")).to(outputs.dtype)
            uniform = -(outputs.clamp(min=-1e4).mean(-1) * real).sum(1) / real.sum(1)
            per_item = (1.0 - smoothing) * per_item + smoothing * uniform
        if weights is not None:
            per_item = per_item * weights
        fits = fits.to(per_item.device)
        return (per_item * fits).sum() / fits.sum().clamp(min=1)

    def check_fit(self, targets: Tensor, lengths: Tensor, frames: Tensor, batch: Batch) -> Tensor:
        """[B] bool: the item's target fits its frames (symbols + a blank between repeats)."""
        mask = length_mask(lengths, targets.shape[1], targets.device)
        repeats = ((targets[:, 1:] == targets[:, :-1]) & mask[:, 1:]).sum(1).cpu()
        needed = lengths.cpu() + repeats
        fits = needed <= frames.cpu()
        if self.too_long == "error" and not fits.all():
            i = int((~fits).nonzero()[0])
            raise ValueError(
                f"ctc head: item {int(batch.indices[i])} of the dataset needs {int(needed[i])} "
                f"output frames ({int(lengths[i])} symbols + {int(repeats[i])} repeats, each "
                f"needing a blank between) but has {int(frames[i])} (encoder steps x upsample "
                f"{self.upsample}): raise task.heads.<name>.upsample, or set too_long=skip"
            )
        return fits

    def metrics(self) -> dict[str, Metric]:
        return error_rate_metrics()

    def update(self, metrics, outputs, encoded, batch, stage, references=None) -> None:
        if stage == "train":
            return
        decoded = self.decode(outputs.detach(), getattr(self.decoding, stage, "greedy"))
        if references is None:
            targets, lengths = stripped_targets(batch)
            references = [
                [tuple(t[:n].tolist())] for t, n in zip(targets, lengths.tolist(), strict=True)
            ]
        update_error_rates(metrics, decoded, references)

    def decode(self, log_probs: Tensor, strategy: str = "greedy") -> list[Symbols]:
        """Symbol ids of each item (blanks and repeats collapsed)."""
        frames = frame_lengths(log_probs)
        if strategy == "greedy":
            return greedy(log_probs, frames)
        return prefix_beam_search(log_probs, frames, self.decoding.beam_size)

    def predict(self, encoded: EncoderOutput, batch: Batch) -> list[Symbols]:
        """Decoded symbol ids of each item (the test decoding strategy)."""
        return self.decode(self(encoded, batch), self.decoding.test)


def frame_lengths(log_probs: Tensor) -> Tensor:
    """[B] real frames of CTC outputs, read from them: padded frames give symbols -inf."""
    return (log_probs[..., BLANK + 1] > float("-inf")).sum(1).cpu()


def stripped_targets(batch: Batch) -> tuple[Tensor, Tensor]:
    """Targets and their lengths without the final `<eos>` (CTC ends with the frames)."""
    lengths = batch.target_lengths
    targets = batch.targets
    last = targets.gather(1, (lengths.clamp(min=1) - 1).to(targets.device)[:, None])[:, 0]
    ends_with_eos = (last == Vocabulary.eos_id).cpu() & (lengths > 0)
    return targets, lengths - ends_with_eos.long()
