"""Li-GRU: hand-written BPTT equals autograd on the equations, and padding never leaks."""

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.data.collate import pad_collate
from seqlab.models.ligru import GateLayerNorm, LiGRU, LiGRUCell
from seqlab.models.ligru_scan import LiGRUScan
from seqlab.train import train
from tests.conftest import compose_config
from tests.padding_checks import assert_same_alone_and_batched

ACT = {"relu": torch.relu, "tanh": torch.tanh}


def naive_scan(wx, u, pad, drop, activation, ln_weight, ln_bias, eps) -> Tensor:
    """The recurrence step by step through autograd: the reference for `LiGRUScan`."""
    dirs, batch, steps, width = wx.shape
    hidden = width // 2
    h = wx.new_zeros(dirs, batch, hidden)
    states = []
    for t in range(steps):
        uh = torch.bmm(h, u.transpose(1, 2))
        if ln_weight is not None:
            blocks = uh.view(dirs, batch, 2, hidden)
            mean = blocks.mean(-1, keepdim=True)
            var = blocks.var(-1, unbiased=False, keepdim=True)
            uh = ((blocks - mean) / torch.sqrt(var + eps)).view(dirs, batch, width)
            uh = uh * ln_weight[:, None] + ln_bias[:, None]
        g = wx[:, :, t] + uh
        z = torch.sigmoid(g[..., :hidden])
        c = ACT[activation](g[..., hidden:])
        if drop is not None:
            c = c * drop
        new = z * h + (1 - z) * c
        h = torch.where(pad[:, t][None, :, None], h, new)
        states.append(h)
    return torch.stack(states, 2)


def scan_inputs(dirs: int, drop: bool, layer_norm: bool, seed: int = 0) -> tuple:
    generator = torch.Generator().manual_seed(seed)
    steps, batch, hidden = 5, 3, 4

    def randn(*shape: int) -> Tensor:
        return torch.randn(*shape, generator=generator, dtype=torch.float64)

    lengths = torch.tensor([5, 3, 1])
    pad = torch.arange(steps)[None] >= lengths[:, None]
    wx = randn(dirs, batch, steps, 2 * hidden).requires_grad_()
    u = (randn(dirs, 2 * hidden, hidden) * 0.5).requires_grad_()
    mask = (torch.rand(dirs, batch, hidden, generator=generator) > 0.3).double() / 0.7
    ln_w = (1 + 0.1 * randn(dirs, 2 * hidden)).requires_grad_() if layer_norm else None
    ln_b = (0.1 * randn(dirs, 2 * hidden)).requires_grad_() if layer_norm else None
    return wx, u, pad, mask if drop else None, ln_w, ln_b


SCAN_CASES = [
    (dirs, drop, ln, act)
    for dirs in (1, 2)
    for drop in (False, True)
    for ln in (False, True)
    for act in ("relu", "tanh")
]


@pytest.mark.parametrize(("dirs", "drop", "ln", "act"), SCAN_CASES)
def test_scan_gradcheck(dirs: int, drop: bool, ln: bool, act: str) -> None:
    wx, u, pad, mask, ln_w, ln_b = scan_inputs(dirs, drop, ln)
    assert torch.autograd.gradcheck(
        lambda *a: LiGRUScan.apply(a[0], a[1], pad, mask, act, *a[2:], 1e-5),
        (wx, u, ln_w, ln_b),
    )


@pytest.mark.parametrize(("dirs", "drop", "ln", "act"), SCAN_CASES)
def test_scan_matches_naive_reference(dirs: int, drop: bool, ln: bool, act: str) -> None:
    wx, u, pad, mask, ln_w, ln_b = scan_inputs(dirs, drop, ln)
    leaves = [p for p in (wx, u, ln_w, ln_b) if p is not None]
    weights = torch.randn(dirs, 3, 5, 4, dtype=torch.float64)
    fast = LiGRUScan.apply(wx, u, pad, mask, act, ln_w, ln_b, 1e-5)
    fast_grads = torch.autograd.grad((fast * weights).sum(), leaves)
    slow = naive_scan(wx, u, pad, mask, act, ln_w, ln_b, 1e-5)
    slow_grads = torch.autograd.grad((slow * weights).sum(), leaves)
    torch.testing.assert_close(fast, slow, atol=1e-12, rtol=1e-10)
    for fast_grad, slow_grad in zip(fast_grads, slow_grads, strict=True):
        torch.testing.assert_close(fast_grad, slow_grad, atol=1e-12, rtol=1e-10)


def per_gate_layer_norm(x: Tensor, hidden: int, weight: Tensor, bias: Tensor, eps: float) -> Tensor:
    blocks = x.unflatten(-1, (-1, hidden))
    mean = blocks.mean(-1, keepdim=True)
    var = blocks.var(-1, unbiased=False, keepdim=True)
    return ((blocks - mean) / torch.sqrt(var + eps)).flatten(-2) * weight + bias


def reference_encoder(encoder: LiGRU, inputs: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
    """The Li-GRU equations sequence by sequence, step by step, through autograd."""
    batch, steps, _ = inputs.shape
    mask = torch.arange(steps)[None] < lengths[:, None]
    x = inputs
    for layer in encoder.layers:
        hidden, dirs = layer.hidden_size, layer.directions
        outputs, finals = [], []
        for d in range(dirs):
            proj = layer.input_projections[d]
            a = x @ proj.weight.T + (0 if proj.bias is None else proj.bias)
            cols = slice(d * 2 * hidden, (d + 1) * 2 * hidden)
            if isinstance(layer.norm, nn.BatchNorm1d):
                frames = a[mask]
                mean, var = frames.mean(0), frames.var(0, unbiased=False)
                a = (a - mean) / torch.sqrt(var + layer.norm.eps)
                a = a * layer.norm.weight[cols] + layer.norm.bias[cols]
            elif isinstance(layer.norm, GateLayerNorm):
                a = per_gate_layer_norm(
                    a, hidden, layer.norm.weight[cols], layer.norm.bias[cols], layer.norm.eps
                )
            u = layer.recurrent[d].weight
            rows, last = [], []
            for i, n in enumerate(lengths.tolist()):
                seq = a[i, :n].flip(0) if d == 1 else a[i, :n]
                h = a.new_zeros(hidden)
                states = []
                for t in range(n):
                    uh = u @ h
                    if layer.recurrent_norm is not None:
                        rn = layer.recurrent_norm
                        uh = per_gate_layer_norm(uh, hidden, rn.weight[cols], rn.bias[cols], rn.eps)
                    z = torch.sigmoid(seq[t, :hidden] + uh[:hidden])
                    c = ACT[layer.nonlinearity](seq[t, hidden:] + uh[hidden:])
                    h = z * h + (1 - z) * c
                    states.append(h)
                out = torch.stack(states)
                rows.append(F.pad(out.flip(0) if d == 1 else out, (0, 0, 0, steps - n)))
                last.append(h)
            outputs.append(torch.stack(rows))
            finals.append(torch.stack(last))
        x = torch.cat(outputs, -1)
    return x, torch.cat(finals, -1)


ENCODER_CASES = [
    {"normalization": norm, "bidirectional": bidir, "num_layers": layers, **extra}
    for norm in ("batchnorm", "layernorm", "none")
    for bidir, layers in ((False, 1), (True, 1), (True, 2))
    for extra in ({}, {"recurrent_layernorm": True, "nonlinearity": "tanh"})
]


def case_id(options: dict) -> str:
    return "-".join(f"{k}={v}" for k, v in options.items())


def batch_of(*lengths: int, size: int = 3) -> tuple[list[Tensor], Tensor, Tensor]:
    sequences = [torch.randn(n, size, dtype=torch.float64) for n in lengths]
    batch = pad_collate([(x, torch.tensor(0), i) for i, x in enumerate(sequences)])
    return sequences, batch.inputs, batch.lengths


@pytest.mark.parametrize("options", ENCODER_CASES, ids=case_id)
def test_encoder_matches_the_equations(options: dict) -> None:
    torch.manual_seed(0)
    encoder = LiGRU(input_size=3, hidden_size=4, **options).double().train()
    _, inputs, lengths = batch_of(6, 2, 4)
    inputs.requires_grad_()
    leaves = [inputs, *encoder.parameters()]
    out = encoder(inputs, lengths)
    loss_weights = torch.randn_like(out.outputs), torch.randn_like(out.final)
    loss = (out.outputs * loss_weights[0]).sum() + (out.final * loss_weights[1]).sum()
    grads = torch.autograd.grad(loss, leaves)
    ref_outputs, ref_final = reference_encoder(encoder, inputs, lengths)
    ref_loss = (ref_outputs * loss_weights[0]).sum() + (ref_final * loss_weights[1]).sum()
    ref_grads = torch.autograd.grad(ref_loss, leaves)
    torch.testing.assert_close(out.outputs, ref_outputs, atol=1e-10, rtol=1e-8)
    torch.testing.assert_close(out.final, ref_final, atol=1e-10, rtol=1e-8)
    for grad, ref_grad in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(grad, ref_grad, atol=1e-9, rtol=1e-7)


@pytest.mark.parametrize("options", ENCODER_CASES, ids=case_id)
def test_padding_invariance(options: dict) -> None:
    torch.manual_seed(0)
    encoder = LiGRU(input_size=3, hidden_size=5, **options).double()
    sequences, inputs, lengths = batch_of(4, 9, 6)
    encoder.train()(inputs, lengths)  # non-trivial running statistics for eval
    assert_same_alone_and_batched(encoder.eval(), sequences)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_batchnorm_statistics_ignore_padding(bidirectional: bool) -> None:
    torch.manual_seed(0)
    encoder = LiGRU(input_size=3, hidden_size=5, num_layers=2, bidirectional=bidirectional)
    clean = encoder.double().train()
    garbage_encoder = LiGRU(input_size=3, hidden_size=5, num_layers=2, bidirectional=bidirectional)
    garbage_encoder.load_state_dict(clean.state_dict())
    garbage_encoder.double().train()
    _, inputs, lengths = batch_of(4, 9, 6)
    garbage = inputs.clone()
    garbage[0, 4:] = 1000.0
    garbage[2, 6:] = -1000.0
    a, b = clean(inputs, lengths), garbage_encoder(garbage, lengths)
    torch.testing.assert_close(a.outputs, b.outputs, atol=0, rtol=0)
    torch.testing.assert_close(a.final, b.final, atol=0, rtol=0)
    for layer_a, layer_b in zip(clean.layers, garbage_encoder.layers, strict=True):
        torch.testing.assert_close(layer_a.norm.running_mean, layer_b.norm.running_mean)
        torch.testing.assert_close(layer_a.norm.running_var, layer_b.norm.running_var)


def test_normalization_none_has_no_norm_module() -> None:
    encoder = LiGRU(input_size=3, hidden_size=4, num_layers=2, normalization="none")
    norms = (nn.BatchNorm1d, nn.LayerNorm, nn.GroupNorm, GateLayerNorm)
    assert not [m for m in encoder.modules() if isinstance(m, norms)]
    assert all(layer.norm is None for layer in encoder.layers)
    assert all(p.bias is not None for layer in encoder.layers for p in layer.input_projections)
    batchnorm = LiGRU(input_size=3, hidden_size=4)
    assert isinstance(batchnorm.layers[0].norm, nn.BatchNorm1d)
    assert batchnorm.layers[0].input_projections[0].bias is None


def test_recurrent_dropout_mask_is_constant_over_time() -> None:
    """With W = U = 0, a unit whose candidate is dropped stays exactly zero at every step."""
    torch.manual_seed(0)
    encoder = LiGRU(
        input_size=2, hidden_size=64, normalization="none", recurrent_dropout=0.5
    ).train()
    layer = encoder.layers[0]
    with torch.no_grad():
        for linear in (*layer.input_projections, *layer.recurrent):
            linear.weight.zero_()
        layer.input_projections[0].bias.fill_(1.0)
    out = encoder(torch.randn(4, 12, 2), torch.tensor([12, 12, 12, 12])).outputs
    dropped = out == 0
    assert (dropped == dropped[:, :1]).all()
    assert 0.3 < dropped[:, 0].double().mean() < 0.7
    assert not (dropped[0, 0] == dropped[1, 0]).all()
    assert (encoder.eval()(torch.randn(4, 12, 2), torch.full((4,), 12)).outputs != 0).all()


@pytest.mark.parametrize("bidirectional", [False, True])
def test_mixed_precision_autocast_runs_the_loop_in_float32(bidirectional: bool) -> None:
    torch.manual_seed(0)
    encoder = LiGRU(input_size=3, hidden_size=4, bidirectional=bidirectional, num_layers=2)
    inputs = torch.randn(2, 5, 3, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = encoder(inputs, torch.tensor([5, 3]))
    out.outputs.sum().backward()
    assert out.outputs.dtype == torch.float32
    assert torch.isfinite(inputs.grad).all() and inputs.grad.abs().sum() > 0


def test_cell_steps_like_the_encoder() -> None:
    torch.manual_seed(0)
    encoder = LiGRU(input_size=3, hidden_size=4, normalization="none").double()
    cell = LiGRUCell(3, 4, normalization="none").double()
    layer = encoder.layers[0]
    cell.input_projection.load_state_dict(layer.input_projections[0].state_dict())
    cell.recurrent.load_state_dict(layer.recurrent[0].state_dict())
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    h = x.new_zeros(2, 4)
    for t in range(5):
        h = cell(x[:, t], h)
        torch.testing.assert_close(h, encoder(x, torch.tensor([5, 5])).outputs[:, t])


def test_gate_blocks_are_marked_and_orthogonal() -> None:
    encoder = LiGRU(input_size=3, hidden_size=6, bidirectional=True)
    layer = encoder.layers[0]
    for linear in (*layer.input_projections, *layer.recurrent, LiGRUCell(3, 6).recurrent):
        assert linear.gates_per_weight == 2
    for block in layer.recurrent[1].weight.detach().chunk(2):
        torch.testing.assert_close(block @ block.T, torch.eye(6), atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"hidden_size": 0}, "model.hidden_size"),
        ({"num_layers": 0}, "model.num_layers"),
        ({"normalization": "group"}, "model.normalization"),
        ({"recurrent_dropout": 1.0}, "model.recurrent_dropout"),
        ({"nonlinearity": "gelu"}, "model.nonlinearity"),
    ],
)
def test_bad_options_name_the_key(kwargs: dict, key: str) -> None:
    with pytest.raises(ValueError, match=key):
        LiGRU(input_size=3, **kwargs)


def test_cell_refuses_batchnorm() -> None:
    with pytest.raises(ValueError, match="normalization"):
        LiGRUCell(3, 4, normalization="batchnorm")


def test_config_types_are_checked_at_compose() -> None:
    with pytest.raises(Exception, match="recurrent_dropout"):
        compose_config(["model=ligru", "model.recurrent_dropout=much"])


@pytest.mark.parametrize(
    "overrides",
    [
        [],
        [
            "model.bidirectional=true",
            "model.num_layers=2",
            "model.normalization=layernorm",
            "model.recurrent_layernorm=true",
            "model.recurrent_dropout=0.2",
            "regularizer=dropout",
        ],
    ],
)
def test_trains_a_step(tiny_config, overrides: list[str]) -> None:
    cfg = tiny_config("model=ligru", *overrides, "trainer.limit_train_batches=2", "test=false")
    metrics = train(cfg)
    assert metrics["train/loss"] > 0
