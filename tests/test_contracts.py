"""The contracts every registered encoder, head and data source keeps.

Registries are found by discovery (`seqlab.discovery`): a new file under `seqlab/models/`,
`seqlab/heads/` or `seqlab/data/sources/` is tested here without a line of test code.
"""

import copy
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from seqlab.build import build_datamodule
from seqlab.config.signature import schema
from seqlab.data.collate import pad_collate
from seqlab.data.datamodule import SequenceDataModule
from seqlab.data.sources.uea import shipped_uea_datasets
from seqlab.discovery import discover
from seqlab.heads import registered_heads
from seqlab.models.base import Encoder
from seqlab.tasks.model import SequenceModel, construct
from seqlab.train import CONFIG_DIR
from tests.conftest import compose_config
from tests.padding_checks import assert_same_alone_and_batched

ENCODERS = discover("seqlab.models", Encoder)
SOURCES = discover("seqlab.data.sources", SequenceDataModule)
SHRINK = {"hidden_size": 8, "conv_channels": [4, 4, 4], "dnn_sizes": [8], "num_items": 32}
SIZE_LIMITS = {"max_words": 300}  # CMUdict sources: a few hundred words are enough here
BASIC_MOTIONS = shipped_uea_datasets()["BasicMotions"]
USER_FILES = {  # sources of the user's own files read a UEA pair shipped by aeon here
    "files": [
        f"data.train={BASIC_MOTIONS / 'BasicMotions_TRAIN.ts'}",
        f"data.test={BASIC_MOTIONS / 'BasicMotions_TEST.ts'}",
    ]
}
TINY_DATA = {  # one small data option per kind of target, for the head contracts
    "classes": ["data=synthetic"],
    "steps": ["data=synthetic", "data.per_step=true"],
    "tokens": ["data=synthetic_seq2seq"],
}


def presets(group: str, schema_name: str) -> list[str]:
    """Options of `group` whose YAML file types itself with `schema/<group>/<schema_name>`."""
    marker = f"/schema/{group}/{schema_name}@"
    return sorted(
        p.stem for p in (Path(CONFIG_DIR) / group).glob("*.yaml") if marker in p.read_text()
    )


def shrunk(config: dict) -> dict:
    """`config` with every size key it has made tiny (nested configs too)."""
    out = {}
    for key, value in config.items():
        out[key] = shrunk(value) if isinstance(value, dict) else SHRINK.get(key, value)
    return out


def encoder_config(name: str) -> dict:
    """A tiny config of encoder `name`: its first YAML preset, else its signature defaults."""
    options = presets("model", name)
    if options:
        node = compose_config([f"model={options[0]}", "paths.output_dir=/tmp/x"]).model
    else:
        node = OmegaConf.structured(schema(ENCODERS[name], skip=("input_size", "dropout")))
    return shrunk(OmegaConf.to_container(node, resolve=True))


def encoder_variants() -> list[tuple[str, dict]]:
    """Every registered encoder, and its bidirectional form where it has one."""
    variants = []
    for name in ENCODERS:
        config = encoder_config(name)
        variants.append((name, config))
        if "bidirectional" in config:
            variants.append((f"{name}-bidirectional", {**config, "bidirectional": True}))
    return variants


VARIANT_IDS = [name for name, _ in encoder_variants()]


def sequences(input_size: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return [torch.randn(n, input_size, generator=generator) for n in (9, 4, 1, 6)]


@pytest.mark.parametrize(("name", "config"), encoder_variants(), ids=VARIANT_IDS)
def test_encoder_ignores_padding_and_trains_every_parameter(name: str, config: dict) -> None:
    torch.manual_seed(0)
    encoder = construct(config, input_size=5, dropout=None).eval()
    together = assert_same_alone_and_batched(encoder, sequences(5))
    if together.states is not None:
        assert together.states.shape[:2] == together.outputs.shape[:2]
    encoder.train()
    batch = pad_collate([(x, torch.tensor(0), i) for i, x in enumerate(sequences(5))])
    encoded = encoder(batch.inputs, batch.lengths)
    (encoded.outputs.sum() + encoded.final.sum()).backward()
    missing = [n for n, p in encoder.named_parameters() if p.grad is None]
    assert not missing, f"parameters without a gradient: {missing}"


@pytest.mark.parametrize(("name", "config"), encoder_variants(), ids=VARIANT_IDS)
def test_encoder_state_dict_round_trip(name: str, config: dict) -> None:
    first = construct(config, input_size=5, dropout=None).eval()
    second = construct(config, input_size=5, dropout=None).eval()
    second.load_state_dict(copy.deepcopy(first.state_dict()))
    x, lengths = torch.randn(2, 7, 5), torch.tensor([7, 3])
    torch.testing.assert_close(first(x, lengths).outputs, second(x, lengths).outputs)


def head_cases() -> list[tuple[str, str]]:
    return [(head, data) for head in registered_heads() for data in TINY_DATA]


def tiny_model(head: str, data: str) -> tuple[SequenceModel, list] | None:
    """A one-head model on tiny data, or None where the head refuses that kind of target
    (at construction or on the first batch)."""
    cfg = compose_config([*TINY_DATA[data], "data.num_items=16", "paths.output_dir=/tmp/x"])
    datamodule = build_datamodule(cfg)
    spec = datamodule.spec
    embedding = (
        torch.nn.Embedding(spec.input_size, 6, padding_idx=0) if spec.input_is_tokens else None
    )
    encoder = construct(
        encoder_config("rnn"), input_size=6 if embedding else spec.input_size, dropout=None
    )
    config = {
        "_target_": f"{registered_heads()[head].__module__}.{registered_heads()[head].__name__}"
    }
    items = [datamodule.splits.train[i] for i in range(4)]
    try:  # a head refuses data it cannot predict with a ValueError that says why
        built = construct(config, spec=spec, input_size=encoder.output_size)
        model = SequenceModel(spec, embedding, encoder, {"main": built}).eval()
        model(pad_collate(items))
    except ValueError:
        return None
    return model, items


@pytest.mark.parametrize(("head", "data"), head_cases())
def test_head_loss_ignores_padding_and_trains_every_parameter(head: str, data: str) -> None:
    torch.manual_seed(0)
    made = tiny_model(head, data)
    if made is None:  # this head refuses this kind of target; another data kind covers it
        assert any(tiny_model(head, other) for other in TINY_DATA if other != data)
        return
    model, items = made
    batch = pad_collate(items)
    padded = replace(batch, inputs=torch.nn.functional.pad(batch.inputs, pad_for(batch.inputs)))
    head_module = model.heads["main"]
    losses = [head_module.loss(model(b)["main"], b) for b in (batch, padded)]
    torch.testing.assert_close(losses[0], losses[1], atol=1e-6, rtol=0)
    metrics = torch.nn.ModuleDict(head_module.metrics())
    head_module.update(metrics, model(batch, "val")["main"], model.encode(batch), batch, "val")
    assert all(torch.isfinite(m.compute()).all() for m in metrics.values() if m.update_called)
    model.train()
    loss, _ = model.data_loss(batch)
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, f"parameters without a gradient: {missing}"


def pad_for(inputs: torch.Tensor) -> tuple[int, ...]:
    """F.pad widths adding five padded steps to [B, T] tokens or [B, T, D] features."""
    return (0, 5) if inputs.dim() == 2 else (0, 0, 0, 5)


def source_config(name: str) -> list[str]:
    options = presets("data", name)
    cfg = compose_config([f"data={options[0]}", "paths.output_dir=/tmp/x"])
    limits = {**SHRINK, **SIZE_LIMITS}
    shrunk = [f"data.{k}={v}" for k, v in limits.items() if k in cfg.data]
    return [f"data={options[0]}", *shrunk, *USER_FILES.get(name, [])]


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_data_source_items_match_their_spec(name: str) -> None:
    assert presets("data", name), f"data source {name} has no conf/data preset"
    cfg = compose_config([*source_config(name), "paths.output_dir=/tmp/x"])
    datamodule = build_datamodule(cfg)
    datamodule.setup("fit")
    spec = datamodule.spec
    batch = next(iter(datamodule.train_dataloader()))
    assert (batch.lengths > 0).all() and batch.lengths.max() == batch.inputs.shape[1]
    padding = ~batch.mask
    if spec.input_is_tokens:
        assert int(batch.inputs.max()) < spec.input_size and (batch.inputs[padding] == 0).all()
    else:
        assert batch.inputs.shape[-1] == spec.input_size and (batch.inputs[padding] == 0).all()
    for split in (datamodule.splits.train, datamodule.splits.val, datamodule.splits.test):
        assert len(split) > 0
