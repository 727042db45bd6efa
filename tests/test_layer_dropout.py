"""Between-layer dropout: seqlab's own layers apply the configured SequenceDropout (its mode
and variational masks); torch's fused stacks take its p."""

import copy

import pytest
import torch
from torch import Tensor, nn

from seqlab.build import build_datamodule, build_task
from seqlab.models.crdnn import CRDNN, ConvBlock
from seqlab.models.ligru import LiGRU
from seqlab.models.rnn import RecurrentEncoder
from seqlab.regularization.dropout import SequenceDropout

LENGTHS = torch.tensor([8, 5, 3, 8])
LOBE = {"_target_": "seqlab.models.rnn.RecurrentEncoder", "cell": "gru", "hidden_size": 6}


def ligru(dropout: SequenceDropout | None) -> LiGRU:
    torch.manual_seed(0)
    return LiGRU(3, hidden_size=6, num_layers=2, normalization="none", dropout=dropout)


def crdnn(dropout: SequenceDropout | None) -> CRDNN:
    torch.manual_seed(0)
    options = {"conv_channels": [5, 5], "conv_strides": [1, 1], "pool_sizes": [1, 1]}
    options["normalization"] = "none"
    return CRDNN(3, LOBE, **options, dropout=dropout)


def dense(dropout: SequenceDropout | None) -> CRDNN:
    """A CRDNN without CNN blocks, so the dense blocks' inputs are alike with and without."""
    torch.manual_seed(0)
    options = {"conv_channels": [], "conv_strides": [], "pool_sizes": [], "dnn_sizes": [6, 6]}
    return CRDNN(3, LOBE, **options, normalization="none", dropout=dropout)


def shared(dropout: SequenceDropout | None) -> RecurrentEncoder:
    torch.manual_seed(0)
    return RecurrentEncoder(
        3, "gru", 6, num_layers=2, bidirectional=True, shared_directions=True, dropout=dropout
    )


# encoder builder -> the module whose input is the output of a dropout between layers
SITES = {
    "ligru": (ligru, lambda m: m.layers[1]),
    "crdnn-cnn": (crdnn, lambda m: m.cnn[1]),
    "crdnn-dnn": (dense, lambda m: m.dnn[1]),
    "shared-directions": (shared, lambda m: m.layers[1]),
}


def dropped_over_kept(build, site, dropout: SequenceDropout, training: bool) -> Tensor:
    """What a dropout between layers did: the input of `site` with dropout over without."""
    inputs = torch.randn(4, 8, 3)
    seen = []
    for model in (build(dropout), build(None)):
        site(model).register_forward_pre_hook(lambda module, args: seen.append(args[0]))
        model.train(training)(inputs, LENGTHS)
    dropped, kept = (x[: len(LENGTHS)] for x in seen)  # shared directions: [x; reversed x]
    if isinstance(site(build(None)), ConvBlock):  # [B, C, T] -> [B, T, C]
        dropped, kept = dropped.transpose(1, 2), kept.transpose(1, 2)
    dropped, kept = dropped[:, :8], kept[:, :8]  # dense blocks: the final vector comes last
    real = (torch.arange(dropped.shape[1])[None, :] < LENGTHS[:, None])[..., None] & (kept != 0)
    return torch.where(real, dropped / kept.where(kept != 0, 1.0), torch.nan)


@pytest.mark.parametrize("name", SITES)
def test_scale_at_test_scales_by_one_minus_p_at_eval(name: str) -> None:
    build, site = SITES[name]
    ratio = dropped_over_kept(build, site, SequenceDropout(0.4, mode="scale_at_test"), False)
    real = ~ratio.isnan()
    assert real.any()
    torch.testing.assert_close(ratio[real], torch.full_like(ratio[real], 0.6))
    inverted = dropped_over_kept(build, site, SequenceDropout(0.4), False)
    inverted = inverted[~inverted.isnan()]
    torch.testing.assert_close(inverted, torch.ones_like(inverted))


@pytest.mark.parametrize("name", SITES)
def test_variational_masks_are_constant_over_time(name: str) -> None:
    build, site = SITES[name]
    ratio = dropped_over_kept(build, site, SequenceDropout(0.5, variational=True), True)
    values = ratio[~ratio.isnan()]
    assert ((values == 0) | torch.isclose(values, torch.tensor(2.0))).all()
    assert (values == 0).any() and (values != 0).any()
    first = ratio[:, :1].expand_as(ratio)
    both = ~ratio.isnan() & ~first.isnan()
    assert torch.equal(ratio[both] == 0, first[both] == 0)


def test_per_step_masks_change_over_time() -> None:
    build, site = SITES["ligru"]
    ratio = dropped_over_kept(build, site, SequenceDropout(0.5), True)
    first = ratio[:, :1].expand_as(ratio)
    both = ~ratio.isnan() & ~first.isnan()
    assert not torch.equal(ratio[both] == 0, first[both] == 0)


def test_fused_stacks_take_p_and_the_crdnn_lobe_gets_the_same_module() -> None:
    dropout = SequenceDropout(0.3, variational=True, mode="scale_at_test")
    assert RecurrentEncoder(3, num_layers=2, dropout=dropout).rnn.dropout == 0.3
    lobe = {**LOBE, "num_layers": 2, "shared_directions": True, "bidirectional": True}
    model = CRDNN(3, lobe, dropout=dropout)
    assert model.rnn.dropout is dropout and model.cnn[0].dropout is dropout
    assert copy.deepcopy(model).rnn.dropout is not dropout


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["regularizer=none"], None),
        (["regularizer=dropout", "regularizer.dropout.layers=false"], None),
        (
            ["regularizer=dropout", "regularizer.dropout.mode=scale_at_test"],
            {"p": 0.2, "mode": "scale_at_test", "variational": False},
        ),
        (
            ["regularizer=dropout", "regularizer.dropout.variational=true"],
            {"p": 0.2, "mode": "inverted", "variational": True},
        ),
    ],
)
def test_the_task_hands_its_encoder_the_configured_dropout(
    tiny_config, overrides: list[str], expected: dict | None
) -> None:
    cfg = tiny_config("model=ligru", "model.num_layers=2", *overrides)
    datamodule = build_datamodule(cfg)
    datamodule.setup("fit")
    dropout = build_task(cfg, datamodule).model.encoder.dropout
    if expected is None:
        assert dropout is None
        return
    assert isinstance(dropout, nn.Module)
    assert {key: getattr(dropout, key) for key in expected} == expected
