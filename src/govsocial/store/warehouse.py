"""Opening the DuckDB warehouse: creation, migration, locks and damaged files.

The store package is the only place that holds a DuckDB connection. Everything else gets a
:class:`Warehouse` and calls functions of this package with it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

from govsocial import __version__
from govsocial.config import SETTINGS, resolve
from govsocial.errors import ConfigError, SchemaVersionError, StoreError, WarehouseLockedError
from govsocial.store.schema import MIGRATIONS, SCHEMA_VERSION

_DB_WAYS = SETTINGS["db"].ways_to_set()


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
        if is_new and not path.parent.exists():
            raise ConfigError(
                f"Cannot create the warehouse {path}: the folder {path.parent} does not exist. "
                f"Create the folder first or choose another path with {_DB_WAYS}."
            )
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
            con.execute("SET TimeZone = 'UTC'")
            wh._ensure_schema(is_new=is_new)
        except BaseException:
            con.close()
            if is_new:
                _remove_database_files(path)
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
                self.con = _connect(self.path, read_only=False, config=self.config)
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
            with self.transaction():
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
    def transaction(self) -> Iterator[None]:
        """One all-or-nothing unit of work: commits on success, rolls back on any error."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _connect(path: Path, *, read_only: bool, config: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            pid = re.search(r"PID (\d+)", text)
            who = f"process {pid.group(1)}" if pid else "another process"
            raise WarehouseLockedError(
                f"The warehouse {path} is in use by {who}, which holds its write lock "
                f"(only one process can write a DuckDB file at a time). Wait for that command to "
                f"finish or stop it, then try again; or work on a copy with {_DB_WAYS}."
            ) from exc
        if "not a valid DuckDB database file" in text or "corrupt" in text.lower():
            raise StoreError(
                f"{path} is not a readable DuckDB warehouse (the file is damaged or is another "
                f"kind of file). Point to the right file with {_DB_WAYS}; if the warehouse is "
                f"damaged, restore it from a backup or move it away and rebuild it "
                f"(`govsocial demo`, or `govsocial registry load` + `govsocial import`)."
            ) from exc
        raise StoreError(f"Cannot open the warehouse {path}: {text}") from exc
    except (duckdb.Error, RuntimeError) as exc:
        raise StoreError(
            f"Cannot open the warehouse {path}: {exc}. Check the file, or point to another one "
            f"with {_DB_WAYS}."
        ) from exc


def _remove_database_files(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()
