"""The DuckDB warehouse: the only package that holds a connection or writes SQL DDL."""

from govsocial.store.ingest import ImportSummary, load_file
from govsocial.store.query import QueryResult, run_read_only
from govsocial.store.registry import RegistryLoadSummary, apply_registry, known_clusters
from govsocial.store.schema import PUBLIC_RELATIONS, SCHEMA_VERSION
from govsocial.store.summary import WarehouseSummary, summarise
from govsocial.store.warehouse import Warehouse

__all__ = [
    "PUBLIC_RELATIONS",
    "SCHEMA_VERSION",
    "ImportSummary",
    "QueryResult",
    "RegistryLoadSummary",
    "Warehouse",
    "WarehouseSummary",
    "apply_registry",
    "known_clusters",
    "load_file",
    "run_read_only",
    "summarise",
]
