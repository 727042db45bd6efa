"""The CTC head: padding-free loss, decoding, refusals, learning a copy task, multitask."""

import pytest
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader

from seqlab.data.batch import Batch
from seqlab.data.collate import pad_collate
from seqlab.data.multitarget import MultiTargetDataset
from seqlab.data.sources.synthetic_seq2seq import SyntheticSeq2SeqDataModule
from seqlab.data.spec import DataSpec
from seqlab.heads.ctc import CTCHead, frame_lengths
from seqlab.heads.ctc_decoding import greedy, prefix_beam_search
from seqlab.models.base import EncoderOutput
from seqlab.tasks.module import SequenceTask
from seqlab.train import train

VOCAB = ("<pad>", "<bos>", "<eos>", "a", "b", "c")
SPEC = DataSpec(input_size=6, num_classes=6, input_vocab=VOCAB, target_vocab=VOCAB)


def encoded_items(lengths: list[int], width: int = 4) -> list[EncoderOutput]:
    generator = torch.Generator().manual_seed(0)
    return [
        EncoderOutput(torch.randn(1, n, width, generator=generator), torch.tensor([n]), None)
        for n in lengths
    ]


def padded(items: list[EncoderOutput], extra: int = 3) -> EncoderOutput:
    longest = max(e.outputs.shape[1] for e in items) + extra
    outputs = torch.zeros(len(items), longest, items[0].outputs.shape[-1])
    for i, e in enumerate(items):
        outputs[i, : e.outputs.shape[1]] = e.outputs[0]
    return EncoderOutput(outputs, torch.cat([e.lengths for e in items]), None)


def target_batch(targets: list[list[int]]) -> Batch:
    items = [(torch.zeros(1), torch.tensor([*t, 2]), i) for i, t in enumerate(targets)]
    return pad_collate(items)


def test_padded_batch_loss_is_the_mean_of_the_items_alone() -> None:
    head = CTCHead(SPEC, input_size=4, upsample=2)
    items, targets = encoded_items([5, 2, 4]), [[3, 4, 4, 5], [3], [5, 3]]
    batch = target_batch(targets)
    together = head.loss(head(padded(items), batch), batch)
    alone = [
        head.loss(head(e, target_batch([t])), target_batch([t]))
        for e, t in zip(items, targets, strict=True)
    ]
    torch.testing.assert_close(together, torch.stack(alone).mean())
    smoothed = head.loss(head(padded(items), batch), batch, smoothing=0.1)
    alone = [
        head.loss(head(e, target_batch([t])), target_batch([t]), smoothing=0.1)
        for e, t in zip(items, targets, strict=True)
    ]
    torch.testing.assert_close(smoothed, torch.stack(alone).mean())
    assert torch.isfinite(smoothed) and smoothed != together
    assert frame_lengths(head(padded(items), batch)).tolist() == [10, 4, 8]


def test_eos_is_stripped_and_a_too_long_target_is_refused_by_item() -> None:
    head = CTCHead(SPEC, input_size=4, upsample=1)
    item = encoded_items([3])[0]
    fits = target_batch([[3, 4, 5]])  # three symbols in three frames; <eos> is not one
    assert torch.isfinite(head.loss(head(item, fits), fits))
    repeat = target_batch([[3, 3, 5]])  # the repeat needs a blank: four frames
    repeat.indices[0] = 17
    with pytest.raises(ValueError, match="item 17 of the dataset needs 4 output frames"):
        head.loss(head(item, repeat), repeat)
    skipping = CTCHead(SPEC, input_size=4, upsample=1, too_long="skip")
    assert skipping.loss(skipping(item, repeat), repeat) == 0.0


def frames(*ids: int) -> torch.Tensor:
    """Log-probabilities [1, T, 6] peaked on the given ids."""
    return torch.nn.functional.one_hot(torch.tensor([ids]), 6).float().mul(8).log_softmax(-1)


def test_greedy_collapses_repeats_and_removes_blanks() -> None:
    log_probs = frames(3, 3, 0, 3, 4, 4, 0, 0, 5, 2)  # <eos> (2) is never emitted
    assert greedy(log_probs, torch.tensor([10])) == [(3, 3, 4, 5)]
    assert greedy(log_probs, torch.tensor([5])) == [(3, 3, 4)]


def test_beam_of_one_is_greedy_and_wider_beams_find_likelier_outputs() -> None:
    """Beam 1 keeps the likeliest prefix, summed over its alignments: the best path wherever
    frames are peaked, as trained CTC outputs are (on flat frames the sums may differ)."""
    torch.manual_seed(0)
    ids = torch.tensor([0, 3, 4, 5])[torch.randint(0, 4, (16, 12))]
    log_probs = torch.nn.functional.one_hot(ids, 6).mul(6.0).add(torch.randn(16, 12, 6))
    log_probs = log_probs.log_softmax(-1)
    lengths = torch.randint(1, 13, (16,))
    best_path = greedy(log_probs, lengths)
    assert prefix_beam_search(log_probs, lengths, 1) == best_path
    flat = torch.randn(16, 12, 6).log_softmax(-1)
    for b, (g, w) in enumerate(
        zip(greedy(flat, lengths), prefix_beam_search(flat, lengths, 8), strict=True)
    ):
        scores = [sequence_log_prob(flat[b, : lengths[b]], s) for s in (g, w)]
        assert scores[1] >= scores[0] - 1e-5


def sequence_log_prob(log_probs: torch.Tensor, symbols: tuple[int, ...]) -> float:
    """log p(symbols) under CTC, summed over every alignment (torch's ctc_loss)."""
    loss = torch.nn.functional.ctc_loss(
        log_probs[:, None],
        torch.tensor([symbols or (3,)]),
        [len(log_probs)],
        [len(symbols)],
        reduction="sum",
    )
    return -float(loss) if symbols else float(log_probs[:, 0].sum())


COPY = [
    "data=synthetic_seq2seq",
    "data.num_items=512",
    "data.batch_size=32",
    "data.alphabet_size=5",
    "task=ctc",
    "model=lstm",
    "model.hidden_size=48",
    "model.bidirectional=true",
    "optimizer.lr=0.01",
    "trainer.max_epochs=12",
    "callbacks.rich_progress_bar=null",
]


def test_learns_the_copy_task_in_seconds(tiny_config) -> None:
    metrics = train(tiny_config(*COPY))
    assert metrics["test/per"] < 0.05, metrics


def test_ctc_and_attention_heads_share_one_encoder() -> None:
    """A hybrid: the same phoneme target under two names, one CTC head and one seq2seq."""
    source = SyntheticSeq2SeqDataModule(num_items=64, batch_size=16)
    splits = source.load_splits()
    vocab = splits.spec.target_vocab
    spec = DataSpec(
        input_size=splits.spec.input_size,
        input_vocab=splits.spec.input_vocab,
        targets={n: {"num_classes": len(vocab), "target_vocab": vocab} for n in ("ctc", "att")},
    )
    items = [splits.train[i] for i in range(len(splits.train))]
    data = MultiTargetDataset(
        "hybrid", [x for x, _, _ in items], [{"ctc": y, "att": y} for _, y, _ in items]
    )
    heads = {
        "ctc": {"_target_": "seqlab.heads.ctc.CTCHead", "weight": 0.3},
        "att": {
            "_target_": "seqlab.heads.seq2seq.Seq2SeqHead",
            "weight": 0.7,
            "decoder": {"hidden_size": 16, "embedding_dim": 8},
            "attention": {"size": 8},
            "decoding": {"test": "greedy", "max_length": 10},
        },
    }
    task = SequenceTask(
        spec,
        model={"_target_": "seqlab.models.rnn.RecurrentEncoder", "hidden_size": 8},
        heads=heads,
        regularizer={},
        init={"scheme": "default"},
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True, "lr": 0.01},
        embedding_dim=8,
    )
    loader = DataLoader(data, batch_size=16, collate_fn=pad_collate)
    trainer = pl.Trainer(
        accelerator="cpu",
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(task, loader)
    (metrics,) = trainer.test(task, loader, verbose=False)
    assert {"test/ctc/per", "test/att/per", "test/ctc/loss", "test/att/loss"} <= set(metrics)
    batch = next(iter(loader))
    losses = task.head_losses(task.model, task(batch), batch)
    total = task.total(task.model, losses)
    torch.testing.assert_close(total, 0.3 * losses["ctc"] + 0.7 * losses["att"])


def test_downsampling_crdnn_trains_with_upsampled_frames(tiny_config, tmp_path) -> None:
    """CRDNN pools time by 2: four frames per encoder step fit every copy target; one does not."""
    common = ["data=synthetic_seq2seq", "task=ctc", "model=crdnn", "model.pool_sizes=[2,1,1]"]
    common += ["test=false"]
    metrics = train(tiny_config(*common, "task.heads.main.upsample=4"))
    assert torch.isfinite(torch.tensor(metrics["val/loss"]))
    with pytest.raises(ValueError, match="item .* needs .* output frames"):
        train(tiny_config(*common, "task.heads.main.upsample=1", f"paths.output_dir={tmp_path}/1"))
