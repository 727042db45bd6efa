"""CMUdict language modelling: item layout, leak-free split, exact perplexity, bad items."""

import math
import warnings

import pytest
import pytorch_lightning as pl
import torch
import torch.nn.functional as F

from seqlab.data.collate import pad_collate
from seqlab.data.datamodule import SequenceDataModule
from seqlab.data.sources.cmudict_lm import CmudictLMDataModule, lm_splits
from seqlab.data.splitting import hash_split
from seqlab.data.vocab import Vocabulary
from tests.test_many_to_many import make_task

WORDS = [f"w{i}" for i in range(60)]


def entries() -> list:
    """Two pronunciations for every word, lengths 1-5, over symbols a-e."""
    symbols = "abcde"
    return [
        (w, [symbols[(i + k + j) % 5] for j in range(1 + (i + k) % 5)])
        for i, w in enumerate(WORDS)
        for k in range(2)
    ]


def test_items_are_bos_symbols_then_symbols_eos() -> None:
    splits = lm_splits("toy", entries(), 0.2, 0.2)
    vocab = Vocabulary(splits.spec.input_vocab)
    train_words = [w for w, _ in entries() if hash_split(w, 0.2, 0.2) == "train"]
    x, y, _ = splits.train[0]
    symbols = next(s for w, s in entries() if w == train_words[0])
    assert x.tolist() == [vocab.bos_id, *vocab.encode(symbols)]
    assert y.tolist() == [*vocab.encode(symbols), vocab.eos_id]
    assert splits.spec.num_classes == len(vocab) == 3 + 5
    assert splits.spec.next_step


def test_split_is_by_word_and_deterministic() -> None:
    first, second = lm_splits("toy", entries(), 0.2, 0.2), lm_splits("toy", entries(), 0.2, 0.2)
    sizes = [len(first.train), len(first.val), len(first.test)]
    assert sum(sizes) == len(entries()) and all(n % 2 == 0 for n in sizes)  # pairs stay together
    assert all(torch.equal(a[0], b[0]) for a, b in zip(first.val, second.val, strict=True))


def test_unseen_symbol_and_empty_sequence_name_the_word() -> None:
    held_out = next(w for w in WORDS if hash_split(w, 0.2, 0.2) == "val")
    bad = [(w, ["z"] if w == held_out else s) for w, s in entries()]
    with pytest.raises(ValueError, match=f"toy/val: word '{held_out}': symbol 'z' is not in"):
        lm_splits("toy", bad, 0.2, 0.2)
    with pytest.raises(ValueError, match="toy: word 'w7' has an empty symbol sequence"):
        lm_splits("toy", [(w, [] if w == "w7" else s) for w, s in entries()], 0.2, 0.2)


class ToyLM(SequenceDataModule):
    def load_splits(self):
        return lm_splits("toy", entries(), 0.2, 0.2)


def test_perplexity_is_exp_of_total_ce_over_total_tokens() -> None:
    dm = ToyLM(batch_size=3)  # uneven batches of uneven lengths
    task = make_task(dm.spec)
    trainer = pl.Trainer(
        accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (logged,) = trainer.test(task, datamodule=dm, verbose=False)
    total, tokens, batch_ppl = 0.0, 0, []
    with torch.no_grad():
        for item in dm.splits.test:
            logits = task(pad_collate([item]))["main"][0]
            total += float(F.cross_entropy(logits, item[1], reduction="sum"))
            tokens += len(item[1])
        for batch in dm.test_dataloader():
            mask = batch.target_mask
            batch_ce = F.cross_entropy(task(batch)["main"][mask], batch.targets[mask])
            batch_ppl.append(math.exp(float(batch_ce)))
    assert logged["test/ce"] == pytest.approx(total / tokens, rel=1e-5)
    assert logged["test/ppl"] == pytest.approx(math.exp(total / tokens), rel=1e-5)
    assert abs(logged["test/ppl"] - sum(batch_ppl) / len(batch_ppl)) > 1e-4


def test_shipped_dictionary_letters_and_phonemes() -> None:
    letters = CmudictLMDataModule(symbols="letters", max_words=2000)
    assert set("abcxyz'") <= set(letters.spec.input_vocab)
    assert len(letters.splits.train) + len(letters.splits.val) + len(letters.splits.test) == 2000
    phonemes = CmudictLMDataModule(symbols="phonemes", stress=False, max_words=2000)
    vocab = set(phonemes.spec.input_vocab)
    assert {"AH", "K", "T"} <= vocab and not any(s[-1].isdigit() for s in vocab)
    with pytest.raises(ValueError, match="data.symbols"):
        CmudictLMDataModule(symbols="words")
