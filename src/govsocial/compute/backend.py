"""Where metric expressions run: DuckDB on the warehouse file (default) or Apache Spark.

Metrics are Ibis expressions built from :meth:`Backend.table` and executed with
:meth:`Backend.to_arrow`; the same expression runs unchanged on both engines::

    with open_backend(wh, "spark") as backend:
        posts = backend.table("posts")
        result = backend.to_arrow(posts.group_by("account_id").aggregate(n=posts.count()))

- ``duckdb`` runs on the warehouse's own connection (read-only ones too), through
  :func:`govsocial.store.compute.duckdb_session`: DuckDB settings Ibis (or this module) changes
  on that connection are put back when the backend closes.
- ``spark`` exports the :data:`RELATIONS` to Parquet in a temporary folder
  (:func:`govsocial.store.export.export_relations`), registers them as temporary views of a
  fresh session of the process's Spark (:mod:`govsocial.compute.spark`: started once, on first
  use, shared by every ``open_backend`` call, stopped when the process exits) and removes the
  folder on close.

Both engines give tables the same Ibis types (timestamps are ``timestamp('UTC')``), and
:meth:`Backend.to_arrow` gives the same Arrow types: timestamps ``timestamp[us, tz=UTC]``, other
types as the expression's Ibis schema says, every field nullable. Operations known not to
port are listed in tests/compute/test_backend.py.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeAlias

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from govsocial.compute import spark
from govsocial.config import SETTINGS
from govsocial.errors import UsageError
from govsocial.store.compute import arrow, duckdb_session
from govsocial.store.export import export_relations
from govsocial.store.warehouse import Warehouse

# The kinds of Ibis expression, named for signatures. Ibis ships no type information (no
# py.typed), so mypy sees each of these as Any and checks nothing through them: they say what
# a function takes and gives, for the reader.
Table: TypeAlias = ir.Table  # rows with named columns
Column: TypeAlias = ir.Column  # one value per row of a table (posts.likes, a comparison ...)
Scalar: TypeAlias = ir.Scalar  # one value: a literal, or a reduction such as column.sum()
Value: TypeAlias = ir.Value  # a column or a scalar
Expr: TypeAlias = ir.Expr  # a table or a value
IbisBackend: TypeAlias = ibis.BaseBackend  # an Ibis connection (DuckDB or PySpark)

ENGINES = ("duckdb", "spark")
RELATIONS = (
    "institutions",
    "accounts",
    "account_snapshots",
    "posts",
    "post_metrics_latest",
    "post_themes",
)

_ENGINE_WAYS = SETTINGS["engine"].ways_to_set()
_UTC = dt.Timestamp(timezone="UTC", scale=6)  # warehouse timestamps, as Ibis types them

# DuckDB settings Ibis (or this module) changes on the connection, restored on close.
# lambda_syntax: Ibis 12 writes list lambdas as `x -> ...`, which DuckDB 1.4+ refuses by default.
_DUCKDB_SETTINGS: dict[str, str | bool] = {
    "TimeZone": "UTC",
    "python_enable_replacements": False,
    "lambda_syntax": "ENABLE_SINGLE_ARROW",
}


class Backend:
    """An engine ready to run metric expressions over one warehouse's :data:`RELATIONS`."""

    def __init__(
        self,
        engine: str,
        con: IbisBackend,
        tables: dict[str, Table],
        run_sql: Callable[[str], pa.Table] | None,
    ):
        self.engine = engine
        self.con = con
        self._tables = tables
        self._run_sql = run_sql

    def table(self, name: str) -> Table:
        """The Ibis table of relation ``name`` (one of :data:`RELATIONS`)."""
        try:
            return self._tables[name]
        except KeyError:
            raise ValueError(
                f"{name!r} is not a relation metrics can read; use one of {', '.join(RELATIONS)}"
            ) from None

    def with_tables(self, tables: dict[str, Table]) -> Backend:
        """The same engine over other relations in place of some (e.g. some weeks' posts)."""
        return Backend(self.engine, self.con, {**self._tables, **tables}, self._run_sql)

    @property
    def engine_version(self) -> str:
        """The engine's version, as its Ibis backend says it."""
        return str(getattr(self.con, "version", ""))

    def post_readings(self) -> Table:
        """Every count reading of every post (``post_metrics``), not one of the
        :data:`RELATIONS` (their ``post_metrics_latest`` ranks every reading: seconds at 10M
        posts). DuckDB only: the cube cache's use."""
        table: Table = self.con.table("post_metrics")
        return table

    def to_arrow(self, expr: Expr) -> pa.Table:
        """Run ``expr`` (a table, column or scalar expression) and return its rows as Arrow."""
        table_expr = expr.as_table()
        schema = _arrow_schema(table_expr.schema())
        if self._run_sql is None:
            result = self.con.to_pyarrow(table_expr)
        else:
            # The engine's own Arrow export. Ibis's to_pyarrow goes through pandas on Spark
            # (slow, whole numbers with NULLs become floats on the way) and through
            # DuckDB's con.sql(), which DuckDB >= 2.0 refuses while another result of the
            # warehouse connection is partly read.
            self.con._run_pre_execute_hooks(table_expr)
            result = self._run_sql(self.con.compile(table_expr))
        return _conform(result, schema)


def _portable(con: IbisBackend, name: str) -> Table:
    """Relation ``name`` with the same Ibis types on every engine: timestamps
    ``timestamp('UTC', 6)``, every column nullable.

    Spark's TIMESTAMP is an instant shown in the session zone (UTC) but reaches Ibis without a
    zone; Spark's Parquet reader makes every column nullable while DuckDB keeps NOT NULL, and
    Ibis refuses set operations (union) between columns that differ only in that. The table is
    declared with these types (a plain ``SELECT *``), not cast: casts would be no-ops for the
    engines, but sqlglot refuses EXTRACT (week_of_year, hour ...) from a cast to TIMESTAMPTZ.
    """
    table = con.table(name)
    schema = {
        column: _UTC if dtype.is_timestamp() else dtype.copy(nullable=True)
        for column, dtype in table.schema().items()
    }
    return con.sql(con.compile(table), schema=schema)


def _arrow_schema(schema: ibis.Schema) -> pa.Schema:
    """The Arrow schema results conform to: the same whatever the engine."""
    return pa.schema(
        [
            pa.field(name, _loose(dtype.to_pyarrow()), nullable=True)
            for name, dtype in schema.items()
        ]
    )


def _loose(typ: pa.DataType) -> pa.DataType:
    """``typ`` with timestamps as UTC microseconds and every nested field nullable.

    Engines differ in what they know to be non-NULL (DuckDB keeps NOT NULL, Spark's Parquet
    reader does not), and Spark's timestamps reach Ibis without a time zone.
    """
    if pa.types.is_timestamp(typ):
        return pa.timestamp("us", tz="UTC")
    if pa.types.is_large_list(typ):
        return pa.large_list(_loose(typ.value_type))
    if pa.types.is_list(typ):
        return pa.list_(_loose(typ.value_type))
    if pa.types.is_map(typ):
        return pa.map_(_loose(typ.key_type), _loose(typ.item_type))
    if pa.types.is_struct(typ):
        return pa.struct([pa.field(f.name, _loose(f.type), nullable=True) for f in typ])
    return typ


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    # Arrow reads a timestamp without time zone as UTC when casting it to one with UTC.
    columns = [column.cast(field.type) for field, column in zip(schema, table.columns, strict=True)]
    return pa.Table.from_arrays(columns, schema=schema)


@contextlib.contextmanager
def open_backend(wh: Warehouse, engine: str = "duckdb") -> Iterator[Backend]:
    """The warehouse as an Ibis backend on ``engine`` (one of :data:`ENGINES`)."""
    if engine == "duckdb":
        with _duckdb_backend(wh) as backend:
            yield backend
    elif engine == "spark":
        with _spark_backend(wh) as backend:
            yield backend
    else:  # settings refuse an unknown engine already; a library caller may pass anything
        raise UsageError(
            f"Unknown engine {engine!r}: choose one of {', '.join(ENGINES)} "
            f"(set it with {_ENGINE_WAYS})."
        )


@contextlib.contextmanager
def _duckdb_backend(wh: Warehouse) -> Iterator[Backend]:
    with duckdb_session(wh, _DUCKDB_SETTINGS) as con:
        tables = {name: _portable(con, name) for name in RELATIONS}
        yield Backend("duckdb", con, tables, lambda sql: arrow(wh, sql))


@contextlib.contextmanager
def _spark_backend(wh: Warehouse) -> Iterator[Backend]:
    session = spark.new_session()  # own temporary views and SQL settings
    folder = Path(tempfile.mkdtemp(prefix="govsocial-parquet-"))
    try:
        files = export_relations(wh, folder, RELATIONS)
        for name, path in files.items():
            session.read.parquet(str(path)).createOrReplaceTempView(name)
        con = ibis.pyspark.connect(session)
        tables = {name: _portable(con, name) for name in RELATIONS}
        from pyspark.sql import DataFrame

        direct = hasattr(DataFrame, "toArrow")  # pyspark >= 4.0
        yield Backend(
            "spark", con, tables, (lambda sql: spark.spark_arrow(session, sql)) if direct else None
        )
    finally:
        spark.drop_temporary_views(session)  # ours, and any made with con.read_parquet ...
        shutil.rmtree(folder, ignore_errors=True)
