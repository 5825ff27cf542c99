import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import scalar
from govsocial.errors import ConfigError, SchemaVersionError, StoreError, WarehouseLockedError
from govsocial.store import PUBLIC_RELATIONS, SCHEMA_VERSION, Warehouse
from govsocial.store.schema import MIGRATIONS


def test_new_warehouse_has_every_public_relation(tmp_path: Path) -> None:
    with Warehouse.open(tmp_path / "w.duckdb", create=True) as wh:
        names = {
            r[0]
            for r in wh.con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
        assert set(PUBLIC_RELATIONS) <= names
        assert wh.schema_version() == SCHEMA_VERSION


def test_missing_warehouse_is_not_created_by_readers(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"No warehouse at .*govsocial demo.*--db.*GOVSOCIAL_DB"):
        Warehouse.open(tmp_path / "none.duckdb")
    assert not (tmp_path / "none.duckdb").exists()
    with pytest.raises(ConfigError, match="folder .* does not exist"):
        Warehouse.open(tmp_path / "no" / "w.duckdb", create=True)
    with pytest.raises(ConfigError, match="is a folder"):
        Warehouse.open(tmp_path, create=True)


def test_older_warehouse_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(MIGRATIONS[0].sql)  # a warehouse as version 1 left it
    con.execute("INSERT INTO schema_migrations VALUES (1, 'core tables', now(), '0.0.1')")
    con.execute("INSERT INTO institutions VALUES ('x', 'X', 'lembaga', NULL, NULL, false, 1)")
    con.close()
    with Warehouse.open(path, read_only=True) as wh:  # even a reader migrates it
        assert wh.schema_version() == SCHEMA_VERSION
        assert scalar(wh, "SELECT count(*) FROM post_metrics_latest") == 0
        assert scalar(wh, "SELECT name FROM institutions") == "X"
        versions = [
            r[0]
            for r in wh.con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()
        ]
        assert versions == [m.version for m in MIGRATIONS]


def test_newer_warehouse_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    with Warehouse.open(path, create=True) as wh:
        wh.con.execute("INSERT INTO schema_migrations VALUES (999, 'future', now(), '9.0')")
    with pytest.raises(SchemaVersionError, match="schema version 999.*newer.*Upgrade govsocial"):
        Warehouse.open(path)


def test_corrupt_file_is_explained_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "broken.duckdb"
    path.write_bytes(b"this is not a database" * 500)
    with pytest.raises(
        StoreError, match="not a readable DuckDB warehouse.*restore it from a backup"
    ):
        Warehouse.open(path)
    assert path.read_bytes().startswith(b"this is not a database")


def test_foreign_duckdb_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE sales (x INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="not a govsocial warehouse"):
        Warehouse.open(path)


def test_locked_warehouse_names_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    Warehouse.open(path, create=True).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
            " time.sleep(60)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseLockedError, match=f"in use by process {holder.pid}"):
            Warehouse.open(path)
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


def test_transaction_rolls_back_on_error(warehouse: Warehouse) -> None:
    with pytest.raises(RuntimeError), warehouse.transaction():
        warehouse.con.execute("INSERT INTO clusters VALUES ('c', 'C', NULL, [])")
        raise RuntimeError("boom")
    assert scalar(warehouse, "SELECT count(*) FROM clusters") == 0
