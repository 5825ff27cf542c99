"""The DuckDB warehouse: the only package that holds a connection or writes SQL DDL.

Names are imported on first use, so that opening a warehouse (``govsocial info``) does not load
the importers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # `X as X`: re-exported names, for type checkers
    from govsocial.store.ingest import ImportSummary as ImportSummary
    from govsocial.store.ingest import load_file as load_file
    from govsocial.store.query import QueryError as QueryError
    from govsocial.store.query import QueryStream as QueryStream
    from govsocial.store.query import open_query as open_query
    from govsocial.store.registry import RegistryLoadSummary as RegistryLoadSummary
    from govsocial.store.registry import apply_registry as apply_registry
    from govsocial.store.registry import known_clusters as known_clusters
    from govsocial.store.schema import PUBLIC_RELATIONS as PUBLIC_RELATIONS
    from govsocial.store.schema import SCHEMA_VERSION as SCHEMA_VERSION
    from govsocial.store.summary import WarehouseSummary as WarehouseSummary
    from govsocial.store.summary import summarise as summarise
    from govsocial.store.warehouse import Warehouse as Warehouse

_HOMES = {
    "ImportSummary": "ingest",
    "load_file": "ingest",
    "QueryError": "query",
    "QueryStream": "query",
    "open_query": "query",
    "RegistryLoadSummary": "registry",
    "apply_registry": "registry",
    "known_clusters": "registry",
    "PUBLIC_RELATIONS": "schema",
    "SCHEMA_VERSION": "schema",
    "WarehouseSummary": "summary",
    "summarise": "summary",
    "Warehouse": "warehouse",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'govsocial.store' has no attribute {name!r}")
    return getattr(importlib.import_module(f"govsocial.store.{_HOMES[name]}"), name)


__all__ = sorted(_HOMES)
