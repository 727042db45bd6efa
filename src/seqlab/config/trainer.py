"""Schema of the `trainer` group: the Lightning Trainer arguments seqlab exposes."""

from dataclasses import dataclass
from typing import Any


@dataclass
class TrainerConfig:
    _target_: str = "pytorch_lightning.Trainer"
    default_root_dir: str = "${paths.output_dir}"
    accelerator: str = "auto"
    devices: Any = 1
    num_nodes: int = 1
    strategy: Any = "auto"
    precision: Any = "32-true"
    min_epochs: int = 1
    max_epochs: int = 10
    max_steps: int = -1
    max_time: str | None = None
    gradient_clip_val: float | None = None
    gradient_clip_algorithm: str = "norm"
    accumulate_grad_batches: int = 1
    log_every_n_steps: int = 50
    check_val_every_n_epoch: int = 1
    num_sanity_val_steps: int = 2
    fast_dev_run: Any = False
    overfit_batches: Any = 0.0
    limit_train_batches: Any = None
    limit_val_batches: Any = None
    limit_test_batches: Any = None
    deterministic: Any = False
    enable_progress_bar: bool = True
    enable_model_summary: bool = True
    use_distributed_sampler: bool = False
