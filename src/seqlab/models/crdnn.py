"""CRDNN: convolutional front end -> any recurrent encoder -> per-step fully connected blocks."""

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from hydra.utils import instantiate
from torch import Tensor, nn

from seqlab.data.batch import length_mask
from seqlab.models.base import Encoder, EncoderOutput, dropout_probability
from seqlab.models.norm import MaskedBatchNorm
from seqlab.regularization.dropout import SequenceDropout

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "gelu": nn.GELU, "tanh": nn.Tanh}
NORMS = ("batchnorm", "layernorm", "none")


def conv_length(length: Any, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1):
    """Frames out of a convolution over `length` frames (int or tensor), floor mode."""
    return (length + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def pool_length(length: Any, size: int):
    """Frames out of a max pool of kernel = stride = `size` in ceil mode (keeps a partial tail)."""
    return -(-length // size)


class MaskedNorm(nn.Module):
    """Per-frame normalisation of [B, T, C]: BatchNorm over real frames only, LayerNorm, or none."""

    def __init__(self, kind: str, size: int) -> None:
        super().__init__()
        self.kind = kind
        if kind == "batchnorm":
            self.norm: nn.Module = MaskedBatchNorm(size)
        elif kind == "layernorm":
            self.norm = nn.LayerNorm(size)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        if self.kind == "batchnorm":
            return self.norm(x, mask)
        return self.norm(x) if self.kind == "layernorm" else x


class ConvBlock(nn.Module):
    """Conv (1-D over time, or 2-D over time x features) -> norm -> activation -> pool -> dropout.

    Works on [B, C, T] (1-D) or [B, C, T, F] (2-D) with padded frames exactly zero on entry and
    exit, so a convolution reads the same zeros past a sequence's end whether it is batched
    or alone. Pooling runs in ceil mode with padded frames at -inf, so a partial last window
    sees only real frames and no sequence shorter than the pool disappears.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int,
        stride: int,
        dilation: int,
        pool: int,
        feature_pool: int,
        conv2d: bool,
        norm: str,
        activation: str,
        dropout: SequenceDropout | None,
    ) -> None:
        super().__init__()
        self.kernel, self.stride, self.dilation, self.pool = kernel, stride, dilation, pool
        self.padding = (dilation * (kernel - 1) + 1) // 2  # ceil: no sequence shrinks to 0
        if conv2d:
            self.conv: nn.Module = nn.Conv2d(
                in_channels,
                out_channels,
                (kernel, kernel),
                stride=(stride, 1),
                padding=(self.padding, kernel // 2),
                dilation=(dilation, 1),
            )
            self.pooling: nn.Module = nn.MaxPool2d((pool, feature_pool), ceil_mode=True)
        else:
            self.conv = nn.Conv1d(in_channels, out_channels, kernel, stride, self.padding, dilation)
            self.pooling = nn.MaxPool1d(pool, ceil_mode=True)
        self.norm = MaskedNorm(norm, out_channels)
        self.activation = ACTIVATIONS[activation]()
        self.dropout = dropout

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        x = self.conv(x)
        conv_lengths = conv_length(lengths, self.kernel, self.stride, self.padding, self.dilation)
        x = self.activation(self.normalize(x, length_mask(conv_lengths, x.shape[2], x.device)))
        x = self.pooling(x.masked_fill(~time_mask(conv_lengths, x), float("-inf")))
        lengths = pool_length(conv_lengths, self.pool)
        return self.drop(x.masked_fill(~time_mask(lengths, x), 0.0)), lengths

    def drop(self, x: Tensor) -> Tensor:
        """The dropout module on [B, T, C(*F)] frames, so a variational mask holds over time."""
        if self.dropout is None:
            return x
        channels_last = x.movedim(1, -1)  # [B, T, C] or [B, T, F, C]
        shape = channels_last.shape
        dropped = self.dropout(channels_last.reshape(shape[0], shape[1], -1))
        return dropped.reshape(shape).movedim(-1, 1)

    def normalize(self, x: Tensor, mask: Tensor) -> Tensor:
        """Apply the norm over channels at every real frame (and feature bin, for 2-D)."""
        channels_last = x.movedim(1, -1)  # [B, T, C] or [B, T, F, C]
        shape = channels_last.shape
        if x.dim() == 4:
            mask = mask[:, :, None].expand(shape[:3])
        flat = channels_last.reshape(shape[0], -1, shape[-1])
        return self.norm(flat, mask.reshape(shape[0], -1)).reshape(shape).movedim(-1, 1)


def time_mask(lengths: Tensor, x: Tensor) -> Tensor:
    """Bool mask broadcastable to x [B, C, T(, F)], True at real frames."""
    mask = length_mask(lengths, x.shape[2], x.device)[:, None]
    return mask[..., None] if x.dim() == 4 else mask


class DNNBlock(nn.Module):
    """Linear -> norm -> activation -> dropout, applied per step."""

    def __init__(
        self,
        in_size: int,
        out_size: int,
        norm: str,
        activation: str,
        dropout: SequenceDropout | None,
    ) -> None:
        super().__init__()
        self.linear = nn.Linear(in_size, out_size)
        self.norm = MaskedNorm(norm, out_size)
        self.activation = ACTIVATIONS[activation]()
        self.dropout = dropout

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        x = self.activation(self.norm(self.linear(x), mask))
        return (x if self.dropout is None else self.dropout(x)) * mask[..., None]


class CRDNN(Encoder):
    """Convolutional, recurrent and dense lobes in a row, all length-aware.

    The CNN downsamples time by its strides and pools (lengths follow exactly), the recurrent
    encoder (any `Encoder`, from its own config with `_target_`) reads the CNN features, and
    the DNN blocks transform every step. The final vector is the recurrent encoder's final
    vector passed through the same DNN blocks (normalised in the same batch as the frames),
    so a bidirectional encoder's backward half is the one that has read the whole sequence.
    `states` are the recurrent encoder's, at the CRDNN's output time resolution.
    `dropout` (None: off) follows every CNN and DNN block and goes to the recurrent encoder
    too (between its layers); the blocks apply it with its mode and variational masks.
    """

    builds_own_parts = True  # instantiates its `rnn` config itself (Hydra: _recursive_=false)

    def __init__(
        self,
        input_size: int,
        rnn: Mapping[str, Any],
        conv_channels: Sequence[int] = (64, 64, 64),
        conv_kernel_size: int = 5,
        conv_strides: Sequence[int] = (1, 1, 1),
        conv_dilation: int = 1,
        pool_sizes: Sequence[int] = (2, 2, 2),
        conv2d: bool = False,
        feature_pool: int = 1,
        dnn_sizes: Sequence[int] = (128,),
        normalization: str = "batchnorm",
        activation: str = "leaky_relu",
        dropout: SequenceDropout | None = None,
    ) -> None:
        super().__init__()
        check_cnn_options(
            input_size, conv_channels, conv_kernel_size, conv_strides, conv_dilation, pool_sizes
        )
        check_block_options(feature_pool, conv2d, dnn_sizes, normalization, activation)
        dropout_probability(dropout)
        self.input_size, self.conv2d = input_size, conv2d
        channels = [1 if conv2d else input_size, *conv_channels]
        self.cnn = nn.ModuleList(
            ConvBlock(
                channels[i],
                channels[i + 1],
                conv_kernel_size,
                conv_strides[i],
                conv_dilation,
                pool_sizes[i],
                feature_pool,
                conv2d,
                normalization,
                activation,
                dropout,
            )
            for i in range(len(conv_channels))
        )
        self.features = self._features_after_cnn(input_size, conv_kernel_size, feature_pool)
        cnn_width = channels[-1] * self.features if conv2d else channels[-1]
        try:
            self.rnn = instantiate(rnn, input_size=cnn_width, dropout=dropout)
        except Exception as error:
            raise ValueError(f"model.rnn could not be built: {error}") from error
        sizes = [self.rnn.output_size, *dnn_sizes]
        self.dnn = nn.ModuleList(
            DNNBlock(sizes[i], sizes[i + 1], normalization, activation, dropout)
            for i in range(len(dnn_sizes))
        )
        self.output_size = sizes[-1]

    def _features_after_cnn(self, features: int, kernel: int, pool: int) -> int:
        """Feature bins left after the 2-D blocks (1 for 1-D convolutions: channels only)."""
        if not self.conv2d:
            return 1
        for _ in self.cnn:
            features = pool_length(conv_length(features, kernel, padding=kernel // 2), pool)
        return features

    def forward(self, inputs: Tensor, lengths: Tensor) -> EncoderOutput:
        if inputs.shape[-1] != self.input_size:
            raise ValueError(
                f"model=crdnn was built for {self.input_size} input features per step, "
                f"got inputs of shape {tuple(inputs.shape)}"
            )
        real = length_mask(lengths, inputs.shape[1], inputs.device)[..., None]
        x = inputs.masked_fill(~real, 0.0)
        x = x[:, None] if self.conv2d else x.transpose(1, 2)  # [B, 1, T, F] or [B, D, T]
        for block in self.cnn:
            x, lengths = block(x, lengths)
        x = x.transpose(1, 2).flatten(2)  # [B, T', C] or [B, T', C * F']
        encoded = self.rnn(x, lengths)
        steps = torch.cat([encoded.outputs, encoded.final[:, None]], dim=1)
        mask = length_mask(lengths, encoded.outputs.shape[1], inputs.device)
        mask = torch.cat([mask, mask.new_ones(mask.shape[0], 1)], dim=1)
        for block in self.dnn:
            steps = block(steps, mask)
        return EncoderOutput(steps[:, :-1], lengths, steps[:, -1], encoded.states)


def check_cnn_options(
    input_size: int,
    channels: Sequence[int],
    kernel: int,
    strides: Sequence[int],
    dilation: int,
    pools: Sequence[int],
) -> None:
    """Reject bad CNN options before any weight is built, naming the config key."""
    if input_size <= 0:
        raise ValueError(f"the encoder's input_size must be > 0, got {input_size}")
    if any(c <= 0 for c in channels):
        raise ValueError(f"model.conv_channels must all be > 0, got {list(channels)}")
    for key, value in (("conv_kernel_size", kernel), ("conv_dilation", dilation)):
        if value <= 0:
            raise ValueError(f"model.{key} must be > 0, got {value}")
    for key, values in (("conv_strides", strides), ("pool_sizes", pools)):
        if len(values) != len(channels):
            raise ValueError(
                f"model.{key} needs one entry per CNN block (model.conv_channels has "
                f"{len(channels)}), got {list(values)}"
            )
        if any(v <= 0 for v in values):
            raise ValueError(f"model.{key} must all be > 0, got {list(values)}")


def check_block_options(
    feature_pool: int,
    conv2d: bool,
    dnn_sizes: Sequence[int],
    normalization: str,
    activation: str,
) -> None:
    """Reject bad feature-pool, dense-block, norm and activation options."""
    if feature_pool <= 0:
        raise ValueError(f"model.feature_pool must be > 0, got {feature_pool}")
    if feature_pool > 1 and not conv2d:
        raise ValueError("model.feature_pool pools feature bins: it needs model.conv2d=true")
    if any(size <= 0 for size in dnn_sizes):
        raise ValueError(f"model.dnn_sizes must all be > 0, got {list(dnn_sizes)}")
    if normalization not in NORMS:
        raise ValueError(f"model.normalization must be one of {NORMS}, got {normalization!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"model.activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}"
        )
