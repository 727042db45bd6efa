"""Typed schemas for every config group, registered with Hydra's ConfigStore.

Hydra merges each YAML option onto its schema at compose time, so an unknown key or a value
of the wrong type is rejected with the key's full name before any data is loaded. One module
per config group; YAML options name their schema in `defaults: [/schema/<group>/<name>@_here_]`
or, for groups typed once for all options, through `entry.TrainConfig`.
"""

from hydra.core.config_store import ConfigStore

from seqlab.config.data import (
    CMUDictG2PDataConfig,
    CmudictLMDataConfig,
    CMUDictMultitaskDataConfig,
    FilesDataConfig,
    ForecastDataConfig,
    SyntheticDataConfig,
    SyntheticMultitaskDataConfig,
    SyntheticSeq2SeqDataConfig,
    UEADataConfig,
)
from seqlab.config.entry import EvalConfig, TrainConfig
from seqlab.config.model import CRDNNModelConfig, LiGRUModelConfig, RecurrentModelConfig
from seqlab.config.resolvers import register_resolvers
from seqlab.config.task import (
    ManyToManyTaskConfig,
    MultitaskTaskConfig,
    Seq2SeqTaskConfig,
    TaskConfig,
)

SCHEMAS = {
    "schema/data": {
        "uea": UEADataConfig,
        "synthetic": SyntheticDataConfig,
        "forecast": ForecastDataConfig,
        "cmudict_lm": CmudictLMDataConfig,
        "synthetic_seq2seq": SyntheticSeq2SeqDataConfig,
        "cmudict_g2p": CMUDictG2PDataConfig,
        "synthetic_multitask": SyntheticMultitaskDataConfig,
        "cmudict_multitask": CMUDictMultitaskDataConfig,
        "files": FilesDataConfig,
    },
    "schema/model": {
        "recurrent": RecurrentModelConfig,
        "crdnn": CRDNNModelConfig,
        "ligru": LiGRUModelConfig,
    },
    "schema/task": {
        "task": TaskConfig,
        "many_to_many": ManyToManyTaskConfig,
        "seq2seq": Seq2SeqTaskConfig,
        "multitask": MultitaskTaskConfig,
    },
}


def register_schemas() -> None:
    """Make the schemas (and seqlab's resolvers) available to the YAML files."""
    register_resolvers()
    store = ConfigStore.instance()
    store.store(name="train_schema", node=TrainConfig)
    store.store(name="eval_schema", node=EvalConfig)
    for group, nodes in SCHEMAS.items():
        for name, node in nodes.items():
            store.store(group=group, name=name, node=node)
