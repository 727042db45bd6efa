"""Pictures of where the decoder looks: attention alignments of a few validation items."""

from pathlib import Path

import pytorch_lightning as pl
import torch
from matplotlib.figure import Figure
from pytorch_lightning.loggers import WandbLogger

from seqlab.data.collate import pad_collate
from seqlab.data.vocab import Vocabulary
from seqlab.heads.seq2seq import Seq2SeqHead


class AttentionPlot(pl.Callback):
    """After validation, greedy-decodes the first `num_items` validation items and draws each
    attention matrix (output symbols x input steps), saved as PNG under `dirpath` and logged
    as a W&B image when a W&B logger is attached. Needs a seq2seq head (the first one is drawn)."""

    def __init__(self, dirpath: str, num_items: int = 4, every_n_epochs: int = 1) -> None:
        if num_items <= 0:
            raise ValueError(f"callbacks.attention_plot.num_items must be > 0, got {num_items}")
        if every_n_epochs <= 0:
            raise ValueError(
                f"callbacks.attention_plot.every_n_epochs must be > 0, got {every_n_epochs}"
            )
        self.dirpath, self.num_items, self.every_n_epochs = Path(dirpath), num_items, every_n_epochs

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self.head_name = next(
            (n for n, h in pl_module.model.heads.items() if isinstance(h, Seq2SeqHead)), None
        )
        if self.head_name is None:
            raise TypeError(
                "callbacks.attention_plot needs a head with attention (task=seq2seq), "
                f"got heads {dict(pl_module.model.heads)}"
            )

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        if trainer.current_epoch % self.every_n_epochs:
            return
        path = self.plot(
            trainer, pl_module, self.dirpath / f"epoch_{trainer.current_epoch:03d}.png"
        )
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                logger.log_image(key="val/attention", images=[str(path)], step=trainer.global_step)

    def plot(self, trainer: pl.Trainer, pl_module: pl.LightningModule, path: Path) -> Path:
        dataset = trainer.val_dataloaders.dataset
        items = [dataset[i] for i in range(min(self.num_items, len(dataset)))]
        batch = pad_collate(items).to(pl_module.device)
        was_training = pl_module.training
        pl_module.eval()
        head = pl_module.model.heads[self.head_name]
        with torch.no_grad():
            decoded = head.decode(pl_module.model.encode(batch), "greedy")
        pl_module.train(was_training)
        spec = head.spec
        figure = Figure(figsize=(3.2 * len(items), 3.4))  # no pyplot: no GUI backend, no globals
        axes = figure.subplots(1, len(items), squeeze=False)
        for row, axis in enumerate(axes[0]):
            inputs = [spec.input_vocab[i] for i in batch.inputs[row, : batch.lengths[row]].tolist()]
            outputs = _output_symbols(decoded.tokens[row].tolist(), spec.target_vocab)
            weights = decoded.weights[row, : len(outputs), : len(inputs)].float().cpu()
            axis.imshow(weights.numpy(), aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0)
            axis.set_xticks(range(len(inputs)), inputs, fontsize=8)
            axis.set_yticks(range(len(outputs)), outputs, fontsize=7)
            axis.set_title("".join(inputs) if all(len(s) == 1 for s in inputs) else "", fontsize=9)
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=100)
        return path


def _output_symbols(tokens: list[int], vocab: tuple[str, ...]) -> list[str]:
    """Emitted symbols up to and including `<eos>` (the decoder attends for that step too)."""
    out = []
    for i in tokens:
        if i == Vocabulary.pad_id:
            break
        out.append(vocab[i])
        if i == Vocabulary.eos_id:
            break
    return out or [vocab[Vocabulary.eos_id]]
