"""Typed schemas for every config group, registered with Hydra's ConfigStore.

Hydra merges each YAML option onto its schema at compose time, so an unknown key or a value
of the wrong type is rejected with the key's full name before any data is loaded. The
schemas are generated from the signatures of the classes the options build
(`seqlab.config.signature`), so each default is written once, in the code.
"""

from hydra.core.config_store import ConfigStore


def register_schemas() -> None:
    """Make the schemas (and seqlab's resolvers) available to the YAML files."""
    from seqlab.config.entry import eval_config, export_config, predict_config, train_config
    from seqlab.config.groups import option_schemas, task_schema
    from seqlab.config.resolvers import register_resolvers

    register_resolvers()
    store = ConfigStore.instance()
    store.store(name="train_schema", node=train_config())
    store.store(name="eval_schema", node=eval_config())
    store.store(name="predict_schema", node=predict_config())
    store.store(name="export_schema", node=export_config())
    store.store(group="schema", name="task", node=task_schema())
    for group, nodes in option_schemas().items():
        for name, node in nodes.items():
            store.store(group=group, name=name, node=node)
