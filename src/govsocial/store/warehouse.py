"""Opening the DuckDB warehouse: creation, migration, locks and damaged files.

The store package is the only place that holds a DuckDB connection. Everything else gets a
:class:`Warehouse` and calls functions of this package with it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

from govsocial import __version__
from govsocial.config import SETTINGS, resolve
from govsocial.errors import ConfigError, SchemaVersionError, StoreError
from govsocial.store.failures import refuse_foreign_file, warehouse_failure
from govsocial.store.schema import MIGRATIONS, SCHEMA_VERSION

_DB_WAYS = SETTINGS["db"].ways_to_set()
_NO_EXTENSION_LOADING = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


class Warehouse:
    """An open warehouse file. Use as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        path: Path,
        read_only: bool,
        config: dict[str, Any] | None = None,
    ):
        self.con = con
        self.path = path
        self.read_only = read_only
        self.config = config or {}  # DuckDB settings, kept for reopening

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        create: bool = False,
        read_only: bool = False,
        threads: int | None = None,
        memory_limit: str | None = None,
    ) -> Warehouse:
        """Open (and if needed create or migrate) the warehouse at ``path``.

        ``threads`` and ``memory_limit`` default to the settings (``GOVSOCIAL_THREADS``,
        ``GOVSOCIAL_MEMORY_LIMIT``, govsocial.toml); DuckDB spills to disk beyond the limit.
        """
        path = Path(path)
        if path.is_dir():
            raise ConfigError(
                f"The warehouse path {path} is a folder, not a file. "
                f"Give a file path such as {path / 'govsocial.duckdb'} with {_DB_WAYS}."
            )
        is_new = not path.exists()
        if is_new and not create:
            raise StoreError(
                f"No warehouse at {path}. Create one with `govsocial demo` (a ready-made "
                f"synthetic world), `govsocial synth` or `govsocial registry load FILE`, "
                f"or point to an existing one with {_DB_WAYS}."
            )
        if is_new and not path.parent.is_dir():
            what = "is a file, not a folder" if path.parent.exists() else "does not exist"
            raise ConfigError(
                f"Cannot create the warehouse {path}: the folder {path.parent} {what}. "
                f"Create the folder first or choose another path with {_DB_WAYS}."
            )
        if not is_new:
            # DuckDB would open a CSV, Parquet or JSON file as a view (and keep nothing
            # written to it) and try to download an extension for a SQLite file.
            refuse_foreign_file(path)
        config: dict[str, Any] = {}
        threads = int(resolve("threads").value) if threads is None else threads
        memory_limit = str(resolve("memory_limit").value) if memory_limit is None else memory_limit
        if threads:
            config["threads"] = threads
        if memory_limit:
            config["memory_limit"] = memory_limit
        con = _connect(path, read_only=read_only and not is_new, config=config)
        wh = cls(con, path, read_only, config)
        try:
            wh.con.execute("SET TimeZone = 'UTC'")
            wh._ensure_schema(is_new=is_new)
        except BaseException as exc:
            with contextlib.suppress(duckdb.Error):
                wh.con.close()
            if is_new:
                _remove_database_files(path)
            doing = "creating it" if is_new else "opening it"
            failure = warehouse_failure(path, exc, doing)
            if failure is not None and failure is not exc:
                raise failure from exc
            raise
        return wh

    def _ensure_schema(self, *, is_new: bool) -> None:
        version = self.schema_version()
        if version is None:
            tables = self.con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"
            ).fetchone()
            if tables and tables[0] and not is_new:
                raise StoreError(
                    f"{self.path} is a DuckDB file but not a govsocial warehouse (it has tables "
                    f"but no schema_migrations). Point to a govsocial warehouse with {_DB_WAYS}, "
                    f"or use a new file name to create one."
                )
            version = 0
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{self.path} has warehouse schema version {version}, written by a newer "
                f"govsocial; this govsocial ({__version__}) knows versions up to "
                f"{SCHEMA_VERSION}. Upgrade govsocial (pip install -U govsocial) to open it."
            )
        if version < SCHEMA_VERSION:
            if self.read_only and not is_new:
                # A read-only connection cannot migrate: reopen for writing just long enough.
                self.con.close()
                self.con = _connect(
                    self.path,
                    read_only=False,
                    config=self.config,
                    doing=f"upgrading it from schema version {version} to {SCHEMA_VERSION} "
                    "(which this govsocial needs, even to read it)",
                )
                self.con.execute("SET TimeZone = 'UTC'")
                self._migrate(version)
                self.con.close()
                self.con = _connect(self.path, read_only=True, config=self.config)
                self.con.execute("SET TimeZone = 'UTC'")
            else:
                self._migrate(version)

    def _migrate(self, from_version: int) -> None:
        for migration in MIGRATIONS:
            if migration.version <= from_version:
                continue
            doing = (
                "creating it"
                if from_version == 0
                else f"upgrading it to schema version {migration.version} ({migration.name})"
            )
            with self.transaction(doing):
                self.con.execute(migration.sql)
                self.con.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?, ?)",
                    [migration.version, migration.name, datetime.now(UTC), __version__],
                )

    def schema_version(self) -> int | None:
        exists = self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_migrations' "
            "AND database_name = current_database()"
        ).fetchone()
        if not exists or not exists[0]:
            return None
        row = self.con.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    # -- use ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self, doing: str = "writing to it") -> Iterator[None]:
        """One all-or-nothing unit of work: commits on success, rolls back on any error.

        A fault of the warehouse itself (full disk, damaged file; see store/failures.py) is
        raised as a StoreError that says so, with ``doing`` (e.g. "importing posts.csv");
        any other error is raised as it is.
        """
        with self.faults(doing):
            self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException as exc:
            # After a failed write DuckDB may have rolled back already, or refuse everything.
            with contextlib.suppress(duckdb.Error):
                self.con.execute("ROLLBACK")
            failure = warehouse_failure(self.path, exc, doing)
            if failure is not None and failure is not exc:
                raise failure from exc
            raise
        try:
            self.con.execute("COMMIT")
        except duckdb.Error as exc:
            with contextlib.suppress(duckdb.Error):
                self.con.execute("ROLLBACK")
            failure = warehouse_failure(self.path, exc, doing)
            if failure is not None:
                raise failure from exc
            raise

    def sibling(self) -> Warehouse:
        """A second connection to this warehouse, for another thread (DuckDB connections are
        not shared between threads): its own transactions, the same database. Close it
        before this one."""
        with self.faults("opening a second connection"):
            return Warehouse(self.con.cursor(), self.path, self.read_only, self.config)

    def checkpoint(self) -> None:
        """Write everything committed into the warehouse file itself (and empty its .wal)."""
        with self.faults("saving it to its file (checkpoint)"):
            self.con.execute("CHECKPOINT")

    @contextlib.contextmanager
    def faults(self, doing: str) -> Iterator[None]:
        """Raise a fault of the warehouse met in the block (store/failures.py) as a
        StoreError that names it and says ``doing``; other errors pass as they are."""
        try:
            yield
        except (duckdb.Error, OSError) as exc:
            failure = warehouse_failure(self.path, exc, doing)
            if failure is not None:
                raise failure from exc
            raise

    def close(self) -> None:
        with self.faults("closing it"):
            self.con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close; a fault of the warehouse met inside the ``with`` block (a damaged block
        read by a query, a full disk) leaves it as a StoreError that says so."""
        if exc is None:
            self.close()
            return
        with contextlib.suppress(duckdb.Error, OSError):
            self.con.close()
        if isinstance(exc, Exception) and not isinstance(exc, StoreError):
            doing = "reading it" if self.read_only else "reading or writing it"
            failure = warehouse_failure(self.path, exc, doing)
            if failure is not None:
                raise failure from exc


def _connect(
    path: Path, *, read_only: bool, config: dict[str, Any], doing: str = "opening it"
) -> duckdb.DuckDBPyConnection:
    # Never fetch or load an extension behind the user's back (parquet, json and icu are
    # built in); an extension download is a network access no command asked for.
    config = {**config, **_NO_EXTENSION_LOADING}
    try:
        return duckdb.connect(str(path), read_only=read_only, config=config)
    except (duckdb.Error, OSError) as exc:
        failure = warehouse_failure(path, exc, doing)
        raise failure or StoreError(
            f"Cannot open the warehouse {path}: {str(exc).strip().splitlines()[0]}. Check the "
            f"file, or point to another one with {_DB_WAYS}."
        ) from exc
    except RuntimeError as exc:
        raise StoreError(
            f"Cannot open the warehouse {path}: {exc}. Check the file, or point to another one "
            f"with {_DB_WAYS}."
        ) from exc


def _remove_database_files(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()
