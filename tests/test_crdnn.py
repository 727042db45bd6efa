"""CRDNN: lengths follow the conv arithmetic, and padding never reaches outputs or statistics."""

import pytest
import torch
from torch import Tensor, nn

from seqlab.data.collate import pad_collate
from seqlab.models.base import Encoder, EncoderOutput
from seqlab.models.crdnn import CRDNN
from seqlab.models.norm import MaskedBatchNorm

LSTM = {"_target_": "seqlab.models.rnn.RecurrentEncoder", "cell": "lstm", "hidden_size": 5}
BIGRU = {**LSTM, "cell": "gru", "bidirectional": True, "merge": "sum"}
SHARED = {**LSTM, "bidirectional": True, "shared_directions": True, "num_layers": 2}

VARIANTS = {
    "1d-pool": {"rnn": LSTM},
    "1d-stride-dilation": {
        "rnn": BIGRU,
        "conv_strides": [2, 3],
        "pool_sizes": [1, 1],
        "conv_dilation": 2,
    },
    "1d-stride-pool-even-kernel": {
        "rnn": SHARED,
        "conv_kernel_size": 4,
        "conv_strides": [2, 1],
        "pool_sizes": [3, 2],
    },
    "2d-pool-features": {"rnn": BIGRU, "conv2d": True, "feature_pool": 2, "pool_sizes": [2, 3]},
    "2d-stride-layernorm": {
        "rnn": LSTM,
        "conv2d": True,
        "conv_strides": [2, 2],
        "normalization": "layernorm",
    },
    "no-norm-no-dnn": {"rnn": SHARED, "normalization": "none", "dnn_sizes": []},
    "no-cnn": {"rnn": BIGRU, "conv_channels": [], "conv_strides": [], "pool_sizes": []},
}
LENGTHS = (9, 17, 1, 6, 2)


def build(options: dict, input_size: int = 5) -> CRDNN:
    torch.manual_seed(0)
    defaults = {"conv_channels": [3, 4], "conv_strides": [1, 1], "pool_sizes": [2, 1]}
    return CRDNN(input_size, **{**defaults, "dnn_sizes": [6, 4], **options}).double()


def batch_of(lengths: tuple[int, ...], size: int = 5):
    sequences = [torch.randn(n, size, dtype=torch.float64) for n in lengths]
    return sequences, pad_collate([(x, torch.tensor(0), i) for i, x in enumerate(sequences)])


def expected_length(length: int, model: CRDNN, options: dict) -> int:
    """Independent conv arithmetic: floor((L + 2p - d(k-1) - 1) / s) + 1, then ceil(L / pool)."""
    kernel = options.get("conv_kernel_size", 3)
    dilation = options.get("conv_dilation", 1)
    padding = (dilation * (kernel - 1) + 1) // 2
    strides = options.get("conv_strides", [1, 1])
    pools = options.get("pool_sizes", [2, 1])[: len(strides)]
    for stride, pool in zip(strides, pools, strict=True):
        length = (length + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
        length = (length + pool - 1) // pool
    return length


@pytest.mark.parametrize("name", VARIANTS)
def test_lengths_follow_the_conv_arithmetic(name: str) -> None:
    options = VARIANTS[name]
    model = build(options).eval()
    sequences, batch = batch_of(LENGTHS)
    out = model(batch.inputs, batch.lengths)
    expected = [expected_length(n, model, options) for n in LENGTHS]
    assert out.lengths.tolist() == expected
    assert out.outputs.shape[1] == expected_length(max(LENGTHS), model, options)
    for x, n in zip(sequences, expected, strict=True):
        assert model(x[None], torch.tensor([len(x)])).outputs.shape[1] == n


@pytest.mark.parametrize("name", VARIANTS)
def test_padding_invariance(name: str) -> None:
    model = build(VARIANTS[name]).eval()
    sequences, batch = batch_of(LENGTHS)
    together = model(batch.inputs, batch.lengths)
    assert together.outputs.shape[-1] == together.final.shape[-1] == model.output_size
    for row, x in enumerate(sequences):
        alone = model(x[None], torch.tensor([len(x)]))
        n = int(alone.lengths[0])
        assert together.lengths[row] == n
        torch.testing.assert_close(together.outputs[row, :n], alone.outputs[0], atol=1e-6, rtol=0)
        torch.testing.assert_close(together.final[row], alone.final[0], atol=1e-6, rtol=0)
        assert (together.outputs[row, n:] == 0).all()


@pytest.mark.parametrize("name", VARIANTS)
def test_batchnorm_statistics_ignore_padding(name: str) -> None:
    """Extra padding full of garbage changes no output, gradient or running statistic."""
    sequences, batch = batch_of(LENGTHS)
    longer = torch.full((len(LENGTHS), max(LENGTHS) + 7, 5), 1e3, dtype=torch.float64)
    longer[:, : batch.inputs.shape[1]] = batch.inputs
    longer[~nn.functional.pad(batch.mask, (0, 7))] = 1e3
    results = []
    for inputs in (batch.inputs, longer):
        model = build(VARIANTS[name]).train()
        out = model(inputs, batch.lengths)
        out.final.sum().backward()
        norms = [m for m in model.modules() if isinstance(m, MaskedBatchNorm)]
        stats = [torch.cat([m.running_mean, m.running_var]) for m in norms]
        grads = [p.grad for p in model.parameters()]
        results.append((out, stats, grads))
    (short, short_stats, short_grads), (long, long_stats, long_grads) = results
    width = short.outputs.shape[1]
    torch.testing.assert_close(long.outputs[:, :width], short.outputs, atol=1e-6, rtol=0)
    assert (long.outputs[:, width:] == 0).all()
    torch.testing.assert_close(long.final, short.final, atol=1e-6, rtol=0)
    torch.testing.assert_close(long_stats, short_stats, atol=1e-6, rtol=0)
    torch.testing.assert_close(long_grads, short_grads, atol=1e-6, rtol=0)


class MeanEncoder(Encoder):
    """A non-recurrent encoder keeping the Encoder contract: running mean of a projection."""

    def __init__(self, input_size: int, width: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.input_size, self.output_size = input_size, width
        self.linear = nn.Linear(input_size, width)

    def forward(self, inputs: Tensor, lengths: Tensor) -> EncoderOutput:
        steps = torch.arange(1, inputs.shape[1] + 1, dtype=inputs.dtype)[None, :, None]
        outputs = self.linear(inputs).cumsum(1) / steps
        mask = torch.arange(inputs.shape[1])[None] < lengths[:, None]
        outputs = outputs * mask[..., None]
        return EncoderOutput(outputs, lengths, outputs[torch.arange(len(lengths)), lengths - 1])


def test_any_encoder_can_be_the_recurrent_lobe() -> None:
    rnn = {"_target_": "tests.test_crdnn.MeanEncoder", "width": 7}
    model = build({"rnn": rnn, "dnn_sizes": []}, input_size=5)
    assert isinstance(model.rnn, MeanEncoder) and model.rnn.input_size == 4
    _, batch = batch_of((4, 8))
    assert model(batch.inputs, batch.lengths).outputs.shape == (2, 4, 7)


def test_2d_width_is_channels_times_feature_bins() -> None:
    model = build({"rnn": LSTM, "conv2d": True, "feature_pool": 2}, input_size=5)
    assert model.rnn.input_size == 4 * 2  # 5 features -> ceil(5/2)=3 -> ceil(3/2)=2 bins


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"conv_strides": [1]}, "model.conv_strides"),
        ({"pool_sizes": [1, 0]}, "model.pool_sizes"),
        ({"conv_channels": [3, 0]}, "model.conv_channels"),
        ({"conv_kernel_size": 0}, "model.conv_kernel_size"),
        ({"dnn_sizes": [0]}, "model.dnn_sizes"),
        ({"normalization": "group"}, "model.normalization"),
        ({"activation": "swish"}, "model.activation"),
        ({"feature_pool": 2}, "model.feature_pool"),
        ({"rnn": {**LSTM, "hidden_size": 0}}, "model.hidden_size"),
        ({"rnn": {**LSTM, "merge": "max"}}, "model.merge"),
    ],
)
def test_bad_options_name_the_key(options: dict, key: str) -> None:
    with pytest.raises(ValueError, match=key):
        build({"rnn": LSTM, **options})


def test_wrong_feature_count_is_named() -> None:
    model = build({"rnn": LSTM, "conv2d": True}, input_size=5)
    with pytest.raises(ValueError, match="model=crdnn was built for 5 input features"):
        model(torch.randn(2, 6, 4, dtype=torch.float64), torch.tensor([6, 3]))
