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
  fresh Spark session (``local[2]``, UTC) and removes the folder on close. Starting Spark (a
  JVM) takes several seconds, so one Spark application is started per process, on first use,
  and shared by every ``open_backend`` call (each gets its own session: views and settings are
  not shared); it is stopped when the process exits.

Both engines give tables the same Ibis types (timestamps are ``timestamp('UTC')``), and
:meth:`Backend.to_arrow` gives the same Arrow types: timestamps ``timestamp[us, tz=UTC]``, other
types as the expression's Ibis schema says, every field nullable. Operations known not to
port are listed in tests/metrics/test_backend.py.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa

from govsocial.config import SETTINGS
from govsocial.errors import ConfigError, UsageError
from govsocial.store.compute import arrow, duckdb_session
from govsocial.store.export import export_relations
from govsocial.store.warehouse import Warehouse

ENGINES = ("duckdb", "spark")
RELATIONS = ("institutions", "accounts", "account_snapshots", "posts", "post_metrics_latest")

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
        con: Any,
        tables: dict[str, Any],
        run_sql: Callable[[str], pa.Table] | None,
    ):
        self.engine = engine
        self.con = con  # the ibis backend (ibis.BaseBackend)
        self._tables = tables
        self._run_sql = run_sql

    def table(self, name: str) -> Any:
        """The Ibis table of relation ``name`` (one of :data:`RELATIONS`)."""
        try:
            return self._tables[name]
        except KeyError:
            raise ValueError(
                f"{name!r} is not a relation metrics can read; use one of {', '.join(RELATIONS)}"
            ) from None

    def to_arrow(self, expr: Any) -> pa.Table:
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


def _portable(con: Any, name: str) -> Any:
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


def _arrow_schema(schema: Any) -> pa.Schema:
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


# -- DuckDB ------------------------------------------------------------------------------------
@contextlib.contextmanager
def _duckdb_backend(wh: Warehouse) -> Iterator[Backend]:
    with duckdb_session(wh, _DUCKDB_SETTINGS) as con:
        tables = {name: _portable(con, name) for name in RELATIONS}
        yield Backend("duckdb", con, tables, lambda sql: arrow(wh, sql))


# -- Spark -------------------------------------------------------------------------------------
_LOG4J = """\
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex
# Harmless start-up warnings on every run.
logger.hadoop.name = org.apache.hadoop
logger.hadoop.level = error
logger.utils.name = org.apache.spark.util.Utils
logger.utils.level = error
"""

_SPARK_CONF = {
    "spark.master": "local[2]",
    "spark.app.name": "govsocial",
    "spark.driver.memory": "2g",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.parquet.datetimeRebaseModeInRead": "CORRECTED",
    "spark.sql.parquet.int96RebaseModeInRead": "CORRECTED",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}

_lock = threading.Lock()
_spark: Any = None  # the process's base SparkSession, started on first use
_spark_dir: Path | None = None  # its scratch folder: JVM log, log4j settings, spark-warehouse
_atexit_registered = False


def _spark_base_session() -> Any:
    """The process's SparkSession: started once (slow: a JVM), reused, stopped at exit."""
    global _spark, _spark_dir, _atexit_registered
    with _lock:
        if _spark is not None and _spark.sparkContext._jsc is not None:
            return _spark
        try:
            from pyspark import SparkConf, SparkContext
            from pyspark.java_gateway import launch_gateway
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise ConfigError(
                "The spark engine needs PySpark, which is not installed. Install it with "
                f"pip install 'govsocial[spark]', or use the duckdb engine ({_ENGINE_WAYS})."
            ) from exc
        java = _java()
        if java is None:
            raise ConfigError(
                "The spark engine needs Java 17 or newer, and no `java` was found (on PATH or in "
                "JAVA_HOME). Install it, e.g. `apt-get install openjdk-17-jre-headless`, or use "
                f"the duckdb engine ({_ENGINE_WAYS})."
            )
        if _spark_dir is None:
            _spark_dir = Path(tempfile.mkdtemp(prefix="govsocial-spark-"))
        if not _atexit_registered:
            atexit.register(_stop_spark)
            _atexit_registered = True
        log4j = _spark_dir / "log4j2.properties"
        log4j.write_text(_LOG4J, encoding="utf-8")
        jvm_log = _spark_dir / "jvm.log"
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        conf = SparkConf()
        for key, value in _SPARK_CONF.items():
            conf.set(key, value)
        conf.set("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={log4j}")
        conf.set("spark.sql.warehouse.dir", str(_spark_dir / "spark-warehouse"))
        try:
            gateway = None
            if SparkContext._gateway is None:
                # The JVM's own console output (start-up notices, log4j) goes to a file, not
                # to the user's terminal; errors still reach Python as exceptions.
                launch: Any = launch_gateway  # untyped in pyspark
                with jvm_log.open("ab") as log:
                    gateway = launch(conf, popen_kwargs={"stdout": log, "stderr": log})
            context = SparkContext.getOrCreate(conf) if gateway is None else None
            if context is None:
                context = SparkContext(conf=conf, gateway=gateway)
            session = SparkSession(context)
        except Exception as exc:
            tail = _tail(jvm_log)
            raise ConfigError(
                f"Spark could not start ({type(exc).__name__}: {exc}). It needs Java 17 or newer "
                f"(found {java}); install it, e.g. `apt-get install openjdk-17-jre-headless`, or "
                f"point JAVA_HOME to one. Or use the duckdb engine ({_ENGINE_WAYS})."
                + (f" The JVM said:\n{tail}" if tail else "")
            ) from exc
        context.setLogLevel("ERROR")
        _quiet_python_loggers()
        _spark = session
        return session


def _quiet_python_loggers() -> None:
    """PySpark >= 4 also logs every failed query as JSON to stderr; the exception says it all."""
    try:
        from pyspark.logger import PySparkLogger
    except ImportError:  # pyspark < 4
        return
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)


def _spark_arrow(session: Any, sql: str) -> pa.Table:
    """Run ``sql`` on Spark and collect the result as Arrow.

    PySpark reads results through a local socket it leaves for the garbage collector to close,
    which warns (ResourceWarning) as it goes; that happens here, under a filter. On an error,
    the exception's Python frames (which hold the socket) are dropped for the same reason; its
    message carries Spark's error.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            return session.sql(sql).toArrow()
        except Exception as exc:
            error: BaseException | None = exc
            while error is not None:
                error.__traceback__ = None
                error = error.__cause__ or error.__context__
            raise


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        return str(candidate) if candidate.is_file() else None
    return shutil.which("java")


def _stop_spark() -> None:
    """Stop the process's Spark application and remove its scratch folder (at exit)."""
    global _spark, _spark_dir
    with _lock:
        if _spark is not None:
            with contextlib.suppress(Exception):
                _spark.stop()
            _spark = None
        if _spark_dir is not None:
            shutil.rmtree(_spark_dir, ignore_errors=True)
            _spark_dir = None


@contextlib.contextmanager
def _spark_backend(wh: Warehouse) -> Iterator[Backend]:
    session = _spark_base_session().newSession()  # own temporary views and SQL settings
    for key, value in _SPARK_CONF.items():
        if key.startswith("spark.sql."):  # also when Spark was started by someone else
            session.conf.set(key, value)
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
            "spark", con, tables, (lambda sql: _spark_arrow(session, sql)) if direct else None
        )
    finally:
        with contextlib.suppress(Exception):  # the views, and any made with con.read_parquet ...
            for view in session.catalog.listTables():
                if view.isTemporary:
                    session.catalog.dropTempView(view.name)
        shutil.rmtree(folder, ignore_errors=True)
