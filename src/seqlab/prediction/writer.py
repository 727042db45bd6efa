"""Stream predictions to one CSV or JSONL file, batch by batch, never all in memory.

Each rank appends its batches' records to its own part file (the samplers give every item to
exactly one rank); when the loop ends, rank 0 joins the parts into the output file.
"""

import csv
import json
from pathlib import Path
from typing import Any, TextIO

import pytorch_lightning as pl
from pytorch_lightning.callbacks import BasePredictionWriter

from seqlab.data.batch import Batch
from seqlab.prediction.rows import records

FORMATS = ("csv", "jsonl")


class PredictionWriter(BasePredictionWriter):
    """Writes `records` of every predicted batch to `path` as `format` (csv | jsonl).

    CSV cells of per-step outputs hold the steps' values separated by spaces.
    """

    def __init__(self, path: str, format: str = "csv") -> None:
        super().__init__(write_interval="batch")
        if format not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
        self.path, self.format = Path(path), format
        self._file: TextIO | None = None
        self._csv: csv.DictWriter | None = None

    def part(self, rank: int) -> Path:
        return self.path.with_name(f"{self.path.name}.part{rank}")

    def on_predict_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.part(trainer.global_rank).open("w", newline="")
        self._csv = None

    def write_on_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        prediction: Any,
        batch_indices: Any,
        batch: Batch,
        batch_idx: int,
        dataloader_idx: int,
    ) -> None:
        for record in records(dict(pl_module.model.heads), prediction, batch):
            self._write(record)

    def on_predict_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._file is not None:
            self._file.close()
        trainer.strategy.barrier()
        if trainer.global_rank == 0:
            self._join(trainer.world_size)
        trainer.strategy.barrier()

    def _write(self, record: dict) -> None:
        if self.format == "jsonl":
            self._file.write(json.dumps(record) + "\n")
            return
        if self._csv is None:
            self._csv = csv.DictWriter(self._file, fieldnames=list(record))
            self._csv.writeheader()
        self._csv.writerow({k: _cell(v) for k, v in record.items()})

    def _join(self, world_size: int) -> None:
        """Parts in rank order into the output file (CSV: one header), then removed."""
        with self.path.open("w", newline="") as out:
            for rank in range(world_size):
                part = self.part(rank)
                with part.open(newline="") as lines:
                    if self.format == "csv" and rank > 0:
                        next(lines, None)
                    for line in lines:
                        out.write(line)
                part.unlink()


def _cell(value: Any) -> Any:
    """Lists (per-step outputs) as space-separated values, a step's K values joined by commas;
    a row per step would repeat the columns of every other head."""
    if isinstance(value, list):
        return " ".join(",".join(map(str, v)) if isinstance(v, list) else str(v) for v in value)
    return value
