"""Predict with a checkpoint: its data source's test split, or new items (`data.predict`).

`python predict.py ckpt_path=... [data=files data.predict=new.csv] [format=jsonl]` rebuilds
the data the checkpoint was trained on (keys given on the command line replace the stored
ones), checks that it still describes the model (the same `DataSpec`), and streams one record
per item into one file.
"""

from collections.abc import Sequence
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from seqlab.build import build_trainer
from seqlab.data.datamodule import SequenceDataModule
from seqlab.eval import training_config
from seqlab.prediction.task import PredictingTask
from seqlab.prediction.writer import PredictionWriter


def predict(cfg: DictConfig, overrides: Sequence[str] = ()) -> Path:
    """Write the predictions of `cfg.ckpt_path`; returns the output file.

    `overrides`: the command line; its `data.<key>=...` entries replace the checkpoint's.
    """
    trained = training_config(cfg.ckpt_path)
    datamodule = prediction_data(cfg, trained, overrides)
    task = PredictingTask.load_from_checkpoint(cfg.ckpt_path, map_location="cpu")
    if datamodule.spec != task.spec:
        raise ValueError(
            f"ckpt_path={cfg.ckpt_path!r}: the data now gives {datamodule.spec}, but the model "
            f"was trained on {task.spec}: did the training file change?"
        )
    output = Path(cfg.output or Path(cfg.paths.output_dir) / f"predictions.{cfg.format}")
    writer = PredictionWriter(str(output), cfg.format)
    trainer = build_trainer(cfg, callbacks=[writer], loggers=[])
    trainer.predict(task, datamodule=datamodule, return_predictions=False)
    return output


def prediction_data(
    cfg: DictConfig, trained: DictConfig, overrides: Sequence[str]
) -> SequenceDataModule:
    """The checkpoint's data source, with the data keys this command line sets."""
    data = trained.data
    if cfg.get("data") is not None and cfg.data.get("_target_") != data._target_:
        raise ValueError(
            f"data: the checkpoint was trained on {data._target_}, not {cfg.data._target_}; "
            "predict with its own data source (data=files data.predict=<file> for files)"
        )
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        if key.startswith("data."):
            OmegaConf.update(data, key[len("data.") :], OmegaConf.select(cfg, key), merge=False)
    return instantiate(data)


def main(cfg: DictConfig) -> None:
    """`python predict.py`, once `seqlab.cli` has composed and checked conf/predict.yaml."""
    output = predict(cfg, HydraConfig.get().overrides.task)
    print(f"Predictions: {output}")
