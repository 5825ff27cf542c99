"""The process's Apache Spark: started once, on first use, shared, stopped at exit.

Starting Spark (a JVM, ``local[2]``, UTC) takes several seconds, so one Spark application is
started per process and every :func:`new_session` is a session of it: its own temporary views
and SQL settings, nothing shared. The JVM's console output goes to a file in a scratch folder
(removed at exit), not to the user's terminal. PySpark is imported only here, and only when a
session is asked for: it is an optional dependency (``govsocial[spark]``).
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
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from govsocial.config import SETTINGS
from govsocial.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_ENGINE_WAYS = SETTINGS["engine"].ways_to_set()

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
_spark: SparkSession | None = None  # the process's base SparkSession, started on first use
_spark_dir: Path | None = None  # its scratch folder: JVM log, log4j settings, spark-warehouse
_atexit_registered = False


def new_session() -> SparkSession:
    """A fresh session of the process's Spark (its own temporary views and SQL settings),
    with our SQL settings (UTC, ...) set, also when Spark was started by someone else."""
    session = _spark_base_session().newSession()
    for key, value in _SPARK_CONF.items():
        if key.startswith("spark.sql."):
            session.conf.set(key, value)
    return session


def spark_arrow(session: SparkSession, sql: str) -> pa.Table:
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


def drop_temporary_views(session: SparkSession) -> None:
    """Drop every temporary view of ``session`` (ours, and any made through Ibis)."""
    with contextlib.suppress(Exception):
        for view in session.catalog.listTables():
            if view.isTemporary:
                session.catalog.dropTempView(view.name)


def _spark_base_session() -> SparkSession:
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
