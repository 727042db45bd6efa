"""Schema of the `regularizer` group: one optional field per regularizer, so several compose."""

from dataclasses import dataclass, field


@dataclass
class DropoutConfig:
    """Dropout on the encoder inputs, between its layers and before the heads; `mode`:
    inverted | scale_at_test; `variational`: one mask per sequence for every step."""

    p: float = 0.2
    mode: str = "inverted"
    variational: bool = False
    inputs: bool = False
    layers: bool = True
    head: bool = True


@dataclass
class PenaltyConfig:
    """`weight` * sum of |W| (l1) or W^2 (l2) over weight matrices; `modules` maps a
    parameter-name prefix to its own lambda."""

    weight: float = 1e-4
    modules: dict[str, float] = field(default_factory=dict)
    exclude_biases: bool = True
    exclude_norms: bool = True


@dataclass
class LabelSmoothingConfig:
    """Training targets 1 - epsilon + epsilon/K on the true class, epsilon/K elsewhere."""

    epsilon: float = 0.1


@dataclass
class NoiseConfig:
    """Gaussian noise of `std` on the encoder inputs and/or its outputs, in training."""

    std: float = 0.1
    inputs: bool = False
    outputs: bool = True


@dataclass
class AugmentationConfig:
    """One augmentation, applied to each training sequence with probability `p`."""

    p: float = 0.5


@dataclass
class MaskConfig(AugmentationConfig):
    """Zero one contiguous span (of steps, or of features) of at most `max_fraction`."""

    max_fraction: float = 0.2


@dataclass
class AdditiveNoiseConfig(AugmentationConfig):
    """Add N(0, std^2) to the real steps of a sequence."""

    std: float = 0.1


@dataclass
class TimeStretchConfig(AugmentationConfig):
    """Resample a sequence to round(length / rate) steps, rate in [min_rate, max_rate]."""

    min_rate: float = 0.8
    max_rate: float = 1.25


@dataclass
class RandomCropConfig(AugmentationConfig):
    """Keep a random window of at least `min_fraction` of the steps."""

    min_fraction: float = 0.8


@dataclass
class AugmentConfig:
    """Label-preserving augmentations of training batches: time stretch, random crop, time
    mask, feature mask, then noise (each with its own probability `p`)."""

    time_mask: MaskConfig = field(default_factory=MaskConfig)
    feature_mask: MaskConfig = field(default_factory=MaskConfig)
    noise: AdditiveNoiseConfig = field(default_factory=AdditiveNoiseConfig)
    time_stretch: TimeStretchConfig = field(default_factory=TimeStretchConfig)
    random_crop: RandomCropConfig = field(default_factory=RandomCropConfig)


@dataclass
class RegularizerConfig:
    dropout: DropoutConfig | None = None
    l2: PenaltyConfig | None = None
    l1: PenaltyConfig | None = None
    label_smoothing: LabelSmoothingConfig | None = None
    noise: NoiseConfig | None = None
    augment: AugmentConfig | None = None
