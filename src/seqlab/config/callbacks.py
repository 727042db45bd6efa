"""Schema of the `callbacks` group: one optional field per callback."""

from dataclasses import dataclass


@dataclass
class ModelCheckpointConfig:
    _target_: str = "pytorch_lightning.callbacks.ModelCheckpoint"
    dirpath: str = "${paths.output_dir}/checkpoints"
    filename: str = "epoch_{epoch:03d}"
    monitor: str = "${task.monitor}"
    mode: str = "${task.monitor_mode}"
    save_last: bool = False
    save_top_k: int = 1
    auto_insert_metric_name: bool = False


@dataclass
class LastCheckpointConfig:
    _target_: str = "seqlab.callbacks.checkpointing.LastCheckpoint"
    dirpath: str = "${paths.output_dir}/checkpoints"
    every_n_train_steps: int = 0


@dataclass
class EarlyStoppingConfig:
    _target_: str = "pytorch_lightning.callbacks.EarlyStopping"
    monitor: str = "${task.monitor}"
    mode: str = "${task.monitor_mode}"
    patience: int = 20
    min_delta: float = 0.0
    strict: bool = False


@dataclass
class LearningRateMonitorConfig:
    _target_: str = "pytorch_lightning.callbacks.LearningRateMonitor"
    logging_interval: str = "epoch"


@dataclass
class RichProgressBarConfig:
    _target_: str = "pytorch_lightning.callbacks.RichProgressBar"


@dataclass
class GradNormsConfig:
    _target_: str = "seqlab.callbacks.grad_norms.GradNorms"
    log_every_n_steps: int = "${trainer.log_every_n_steps}"  # type: ignore[assignment]


@dataclass
class GradFlowConfig:
    _target_: str = "seqlab.callbacks.grad_flow.GradFlow"
    every_n_steps: int = 200
    max_sequences: int = 32
    min_ratio: float = 1e-3
    max_ratio: float = 1e3
    plot_dir: str = "${paths.output_dir}/grad_flow"


@dataclass
class AttentionPlotConfig:
    _target_: str = "seqlab.callbacks.attention_plot.AttentionPlot"
    dirpath: str = "${paths.output_dir}/attention"
    num_items: int = 4
    every_n_epochs: int = 1


@dataclass
class PaddingFractionConfig:
    _target_: str = "seqlab.callbacks.padding.PaddingFraction"


@dataclass
class CallbacksConfig:
    model_checkpoint: ModelCheckpointConfig | None = None
    last_checkpoint: LastCheckpointConfig | None = None
    early_stopping: EarlyStoppingConfig | None = None
    lr_monitor: LearningRateMonitorConfig | None = None
    rich_progress_bar: RichProgressBarConfig | None = None
    grad_norms: GradNormsConfig | None = None
    grad_flow: GradFlowConfig | None = None
    attention_plot: AttentionPlotConfig | None = None
    padding_fraction: PaddingFractionConfig | None = None
