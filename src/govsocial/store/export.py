"""Warehouse relations → Parquet files, for engines that cannot read the DuckDB file (Spark).

Each relation is written with DuckDB's ``COPY (SELECT ...) TO 'file.parquet'``. Column types
Spark reads as they are (whole numbers, floats, decimals, text, booleans, blobs, dates,
``TIMESTAMPTZ`` and lists/structs/maps of these) are kept; the others are converted so that
every exported file is readable by Spark:

- ``TIMESTAMP`` without time zone (any precision) and ``TIMESTAMP_NS`` → ``TIMESTAMPTZ``
  (the warehouse session is UTC, so the values are read as UTC); Parquet stores them as
  microsecond UTC instants (``isAdjustedToUTC=true``);
- unsigned whole numbers → the next wider signed type (``UBIGINT`` → ``DECIMAL(20,0)``);
  ``HUGEINT``/``UHUGEINT`` → ``DOUBLE``;
- everything else (``JSON``, ``UUID``, ``ENUM``, ``INTERVAL``, ``TIME``, ``UNION``, ``BIT``, and
  lists/structs/maps holding any of these) → ``VARCHAR``, their text form.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from govsocial.errors import StoreError
from govsocial.store.warehouse import Warehouse

# DuckDBPyType.id values Spark reads from DuckDB's Parquet files as they are.
_AS_IS = {
    "boolean",
    "tinyint",
    "smallint",
    "integer",
    "bigint",
    "float",
    "double",
    "decimal",
    "varchar",
    "blob",
    "date",
    "timestamp with time zone",
}
_NESTED = {"list", "struct", "map"}
_TO_TIMESTAMPTZ = {"timestamp", "timestamp_s", "timestamp_ms", "timestamp_ns"}
_WIDER = {
    "utinyint": "SMALLINT",
    "usmallint": "INTEGER",
    "uinteger": "BIGINT",
    "ubigint": "DECIMAL(20,0)",
    "hugeint": "DOUBLE",  # what DuckDB itself writes for them, which Spark reads
    "uhugeint": "DOUBLE",
}


def _readable_as_is(typ: Any) -> bool:
    if str(typ) == "JSON":  # its id is 'varchar'; kept as plain text, not Parquet's JSON type
        return False
    if typ.id in _NESTED:
        return all(_readable_as_is(child) for _, child in typ.children)
    return typ.id in _AS_IS


def _column(name: str, typ: Any) -> str:
    ident = '"' + name.replace('"', '""') + '"'
    if _readable_as_is(typ):
        return ident
    if typ.id in _TO_TIMESTAMPTZ:
        return f"CAST({ident} AS TIMESTAMPTZ) AS {ident}"
    if typ.id in _WIDER:
        return f"CAST({ident} AS {_WIDER[typ.id]}) AS {ident}"
    return f"CAST({ident} AS VARCHAR) AS {ident}"


def spark_select(wh: Warehouse, name: str) -> str:
    """The SELECT that gives relation ``name`` with only Spark-readable column types."""
    ident = '"' + name.replace('"', '""') + '"'
    try:  # execute, not sql(): DuckDB 2 refuses sql() while an execute() result is unread
        cursor = wh.con.execute(f"SELECT * FROM {ident} LIMIT 0")
        described = [(d[0], d[1]) for d in cursor.description or []]
        cursor.fetchall()
    except duckdb.CatalogException as exc:
        raise StoreError(
            f"The warehouse {wh.path} has no table or view named {name!r} to export. "
            f"Its relations are listed in docs/schema.md."
        ) from exc
    columns = ", ".join(_column(column, typ) for column, typ in described)
    return f"SELECT {columns} FROM {ident}"


def export_relations(
    wh: Warehouse, folder: Path, names: list[str] | tuple[str, ...]
) -> dict[str, Path]:
    """Write each relation in ``names`` to ``folder/<name>.parquet``; return name → file.

    The folder must exist. Existing files of the same names are replaced.
    """
    files: dict[str, Path] = {}
    for name in names:
        path = folder / f"{name}.parquet"
        target = str(path).replace("'", "''")
        try:
            wh.con.execute(f"COPY ({spark_select(wh, name)}) TO '{target}' (FORMAT parquet)")
        except duckdb.IOException as exc:
            raise StoreError(
                f"Cannot write {path} while exporting {name!r} to Parquet: {exc}. "
                f"Check that the folder exists, is writable and has free space."
            ) from exc
        files[name] = path
    return files
