"""Typed schemas for every config group, registered with Hydra's ConfigStore.

Hydra merges each YAML option onto its schema at compose time, so an unknown key or a value
of the wrong type is rejected with the key's full name before any data is loaded. The
schemas are generated from the signatures of the classes the options build
(`seqlab.config.signature`), so each default is written once, in the code; start-up reads
them from a cache (`seqlab.config.cache`) so a bad override is refused before torch loads.
"""

from pathlib import Path

from hydra.core.config_store import ConfigStore

CONFIG_DIR = str(Path(__file__).resolve().parents[3] / "conf")  # the repository's conf/


def register_schemas() -> None:
    """Make the schemas (and seqlab's resolvers) available to the YAML files."""
    from seqlab.config.cache import cached_schemas
    from seqlab.config.resolvers import register_resolvers

    register_resolvers()
    store = ConfigStore.instance()
    for (group, name), node in cached_schemas().items():
        store.store(group=group, name=name, node=node)
