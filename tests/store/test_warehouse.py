import contextlib
import gzip
import json
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import scalar
from govsocial.errors import (
    ConfigError,
    InputError,
    SchemaVersionError,
    StoreError,
    WarehouseLockedError,
)
from govsocial.sources.generic import stage
from govsocial.store import PUBLIC_RELATIONS, SCHEMA_VERSION, Warehouse, load_file
from govsocial.store.failures import warehouse_failure
from govsocial.store.schema import MIGRATIONS

HEADER = "platform,account_handle,post_id,posted_at,captured_at,media_type,likes,text\n"


def posts_csv(path: Path, rows: int, start: int = 0) -> Path:
    """Generic posts whose texts do not compress much (so a file takes room)."""
    noise = random.Random(start)
    lines = [
        f"instagram,@humas_jabar,p{i},2025-03-0{1 + i % 9}T10:00:00+07:00,"
        f"2025-03-10T10:00:00+07:00,image,{i},{noise.randbytes(24).hex()}\n"
        for i in range(start, start + rows)
    ]
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def warehouse_with_posts(path: Path, rows: int) -> None:
    with Warehouse.open(path, create=True) as wh:
        load_file(wh, posts_csv(path.with_name("first.csv"), rows), lambda p: stage(p))
        wh.checkpoint()


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
    with pytest.raises(StoreError, match="not a DuckDB warehouse.*restore it from a backup"):
        Warehouse.open(path)
    assert path.read_bytes().startswith(b"this is not a database")


def test_foreign_duckdb_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE sales (x INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="not a govsocial warehouse"):
        Warehouse.open(path)


def test_transaction_rolls_back_on_error(warehouse: Warehouse) -> None:
    with pytest.raises(RuntimeError), warehouse.transaction():
        warehouse.con.execute("INSERT INTO clusters VALUES ('c', 'C', NULL, [])")
        raise RuntimeError("boom")
    assert scalar(warehouse, "SELECT count(*) FROM clusters") == 0


def test_checkpoint_writes_what_was_committed_into_the_file(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    wal = tmp_path / "w.duckdb.wal"
    with Warehouse.open(path, create=True) as wh:
        wh.con.execute("INSERT INTO clusters VALUES ('c', 'C', NULL, [])")
        assert wal.exists() and wal.stat().st_size > 0
        wh.checkpoint()
        assert not wal.exists() or wal.stat().st_size == 0
    with Warehouse.open(path, read_only=True) as wh:
        assert scalar(wh, "SELECT name FROM clusters") == "C"


# -- a --db that is not a warehouse ----------------------------------------------------------
def _csv(path: Path) -> None:
    posts_csv(path, 3)


def _json(path: Path) -> None:
    path.write_text(json.dumps([{"platform": "instagram", "post_id": "p1"}]), encoding="utf-8")


def _parquet(path: Path) -> None:
    pq.write_table(pa.table({"platform": ["instagram"], "post_id": ["p1"]}), path)


def _sqlite(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as con:
        con.execute("CREATE TABLE posts (post_id TEXT)")
        con.commit()


def _gzip(path: Path) -> None:
    path.write_bytes(gzip.compress(posts_csv(path.with_suffix(".plain"), 3).read_bytes()))


@pytest.mark.parametrize(
    ("name", "write", "kind", "importable"),
    [
        ("posts.csv", _csv, "a CSV file", True),
        ("posts.json", _json, "a JSON file", True),
        ("posts.parquet", _parquet, "a Parquet file", True),
        ("posts.sqlite", _sqlite, "a SQLite database", False),
        ("posts.csv.gz", _gzip, "a gzip-compressed file", True),
    ],
)
def test_a_data_file_given_as_the_warehouse_is_refused_and_left_alone(
    tmp_path: Path, name: str, write: Callable[[Path], None], kind: str, importable: bool
) -> None:
    # Today DuckDB opens a CSV, Parquet or JSON file as a view (an import "succeeds" and
    # keeps nothing) and tries to download an extension for a SQLite file.
    path = tmp_path / name
    write(path)
    before = path.read_bytes()
    for read_only in (False, True):
        with pytest.raises(StoreError) as caught:
            Warehouse.open(path, create=True, read_only=read_only)
        message = str(caught.value)
        assert message.startswith(f"{path} is not a DuckDB warehouse: it looks like {kind}.")
        assert ("`govsocial import " + str(path) + "`" in message) == importable
        assert "--db" in message and "new path to create one" in message
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(name)) == [name]


def test_an_empty_file_is_not_taken_for_a_warehouse(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    path.touch()
    with pytest.raises(StoreError, match=r"empty file \(0 bytes\).*delete the empty file first"):
        Warehouse.open(path, create=True)
    assert path.read_bytes() == b""


def test_no_extension_is_installed_or_loaded_behind_the_users_back(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    settings = warehouse.con.execute(
        "SELECT current_setting('autoinstall_known_extensions'),"
        " current_setting('autoload_known_extensions')"
    ).fetchone()
    assert settings == (False, False)
    # parquet, json and icu are built in: they still work.
    target = tmp_path / "x.parquet"
    warehouse.con.execute(f"COPY (SELECT 1 AS x) TO '{target}' (FORMAT parquet)")
    assert scalar(warehouse, f"SELECT x FROM read_parquet('{target}')") == 1
    assert scalar(warehouse, """SELECT json_extract_string('{"a": "b"}', '$.a')""") == "b"
    assert (
        scalar(
            warehouse,
            "SELECT strftime(TIMESTAMPTZ '2025-03-01 00:00:00+00' AT TIME ZONE 'Asia/Jakarta',"
            " '%H')",
        )
        == "07"
    )
    with pytest.raises(duckdb.Error):  # refused here, not fetched from the network
        warehouse.con.execute(f"SELECT * FROM sqlite_scan('{tmp_path / 'x.db'}', 't')")


# -- damaged warehouses, full disks, places that cannot be written ------------------------------
@pytest.mark.parametrize("kept", [5000, 0.5])
def test_a_truncated_warehouse_is_named_as_damaged(tmp_path: Path, kept: float) -> None:
    path = tmp_path / "w.duckdb"
    warehouse_with_posts(path, 3000)
    data = path.read_bytes()
    path.write_bytes(data[: int(kept if kept > 1 else len(data) * kept)])
    # Cut in its header, it fails to open; cut later, it fails when the lost part is read.
    with pytest.raises(StoreError) as caught, Warehouse.open(path, read_only=True) as wh:
        for table in PUBLIC_RELATIONS:
            wh.con.execute(f"SELECT * FROM {table}").fetchall()
    message = str(caught.value)
    assert message.startswith(f"The warehouse {path} is damaged: it is shorter than")
    assert "truncated" in message and "backup" in message and "govsocial demo" in message


def test_a_bit_rotted_warehouse_is_named_as_damaged_and_not_blamed_on_the_input(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.duckdb"
    warehouse_with_posts(path, 3000)
    with Warehouse.open(path, read_only=True) as wh:
        block = scalar(
            wh,
            "SELECT min(block_id) FROM pragma_storage_info('posts')"
            " WHERE column_name = 'platform_post_id' AND block_id >= 0",
        )
    # A DuckDB file: three 4 KiB headers, then 256 KiB blocks, each starting with its checksum.
    offset = 3 * 4096 + block * 256 * 1024 + 512
    data = bytearray(path.read_bytes())
    data[offset : offset + 16] = bytes(b ^ 0xFF for b in data[offset : offset + 16])
    path.write_bytes(bytes(data))
    damaged = rf"^The warehouse {re.escape(str(path))} is damaged: .*checksum.*backup"
    # It opens (the catalog is intact): the damage shows when the block is read.
    with pytest.raises(StoreError, match=damaged), Warehouse.open(path, read_only=True) as wh:
        wh.con.execute("SELECT count(DISTINCT platform_post_id) FROM posts").fetchall()
    more = posts_csv(tmp_path / "more.csv", 20, start=10_000)
    with Warehouse.open(path) as wh:
        with pytest.raises(StoreError, match=damaged) as caught:
            load_file(wh, more, lambda p: stage(p))
        assert not isinstance(caught.value, InputError)
        assert "importing " + str(more) in str(caught.value)


FULL_DISK_IMPORT = textwrap.dedent("""
    import resource, signal, sys
    from pathlib import Path
    from govsocial.errors import GovsocialError
    from govsocial.sources.generic import stage
    from govsocial.store import Warehouse, load_file
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, not kills
    db, path, limit = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        with Warehouse.open(db) as wh:
            load_file(wh, path, lambda p: stage(p))
    except GovsocialError as exc:
        print(type(exc).__name__, exc)
        sys.exit(1)
""")


def test_a_full_disk_during_an_import_names_the_warehouse_and_keeps_what_was_there(
    tmp_path: Path,
) -> None:
    # We run as root, so a full disk is a file-size limit (RLIMIT_FSIZE) on the importing
    # process: the warehouse (and its .wal) cannot grow past its present size.
    db = tmp_path / "w.duckdb"
    warehouse_with_posts(db, 200)
    big = posts_csv(tmp_path / "big.csv", 40_000, start=1_000)
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK_IMPORT, str(db), str(big), str(db.stat().st_size)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith(f"StoreError The warehouse {db} could not grow while importing")
    assert "Data committed before is intact" in done.stdout
    assert "check the file" not in done.stdout and "Traceback" not in done.stderr
    with Warehouse.open(db) as wh:  # the limit lifted: the earlier data, and room for more
        assert scalar(wh, "SELECT count(*) FROM posts") == 200
        assert load_file(wh, big, lambda p: stage(p)).posts_new == 40_000
        assert scalar(wh, "SELECT count(*) FROM posts") == 40_200


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """Make ``path`` unwritable even for root (chattr +i), or skip the test."""
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], check=False).returncode:
        pytest.skip("chattr +i is not available here (needed to refuse writes to root)")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


def test_a_warehouse_that_cannot_be_written_is_named_and_can_still_be_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.duckdb"
    warehouse_with_posts(path, 10)
    with immutable(path):
        with pytest.raises(StoreError) as caught:
            Warehouse.open(path)
        message = str(caught.value)
        assert message.startswith(f"The warehouse {path} cannot be written")
        assert "Copy it to a writable folder and point --db" in message
        with Warehouse.open(path, read_only=True) as wh:
            assert scalar(wh, "SELECT count(*) FROM posts") == 10


def test_a_warehouse_cannot_be_created_in_a_folder_that_refuses_files(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    with immutable(folder), pytest.raises(StoreError) as caught:
        Warehouse.open(folder / "w.duckdb", create=True)
    assert str(caught.value).startswith(f"Cannot create the warehouse {folder / 'w.duckdb'}:")
    assert "Choose a writable folder with --db" in str(caught.value)
    assert list(folder.iterdir()) == []


def test_a_warehouse_cannot_be_created_in_a_read_only_system_folder(tmp_path: Path) -> None:
    target = Path("/sys/govsocial-test.duckdb")
    try:
        target.open("xb").close()
    except OSError:
        pass
    else:
        target.unlink()
        pytest.skip("/sys accepts new files here")
    with pytest.raises(StoreError, match=r"^Cannot create the warehouse /sys/govsocial-test"):
        Warehouse.open(target, create=True)


# -- another process has the file --------------------------------------------------------------
HOLDER = """\
import sys, time, duckdb
con = duckdb.connect(sys.argv[-1], read_only=sys.argv[-2] == "read")
print("ready", flush=True)
time.sleep(120)
"""


@contextlib.contextmanager
def holder(tmp_path: Path, path: Path, *args: str) -> Iterator[int]:
    """A process started as `govsocial ARGS` (an entry-point script run by Python, as pip
    installs it) that has the warehouse open until it is killed; yields its pid."""
    script = tmp_path / "govsocial"
    script.write_text(HOLDER, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, str(script), *args, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        yield process.pid
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_a_warehouse_open_for_writing_elsewhere_names_that_command(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    Warehouse.open(path, create=True).close()
    with holder(tmp_path, path, "import", "write") as pid:
        for read_only in (True, False):
            with pytest.raises(WarehouseLockedError) as caught:
                Warehouse.open(path, read_only=read_only)
            message = str(caught.value)
            assert re.search(
                rf"in use by process {pid} \(`govsocial import write [^`]+`\),"
                r" running for [^,]+, which has it open for writing",
                message,
            ), message
            assert "not even to read" in message and "when that command finishes" in message
            assert "query a copy" in message


def test_a_warehouse_open_for_reading_elsewhere_can_be_read_but_not_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.duckdb"
    Warehouse.open(path, create=True).close()
    with holder(tmp_path, path, "sql", "read") as pid:
        with Warehouse.open(path, read_only=True) as wh:  # readers share the file
            assert wh.schema_version() == SCHEMA_VERSION
        with pytest.raises(WarehouseLockedError) as caught:
            Warehouse.open(path)
        message = str(caught.value)
        assert f"is open for reading in process {pid} (`govsocial sql read" in message
        assert "write lock" not in message and "when that command finishes" in message


# -- the one mapping, for faults a test cannot cause here ---------------------------------------
@pytest.mark.parametrize(
    ("make", "says"),
    [
        (
            lambda w: duckdb.IOException(
                f'IO Error: Could not write file "{w}.wal": No space left on device'
            ),
            r"^The warehouse {w} could not be written while importing a.csv: no space left.*"
            r"Data committed before is intact.*Free space in {folder}",
        ),
        (
            lambda w: duckdb.IOException(
                f'IO Error: Could not write file "{w}.tmp/x.block": Disk quota exceeded'
            ),
            r"^The warehouse {w} could not be written.*no space left",
        ),
        (
            lambda w: duckdb.TransactionException(
                f'Failed to commit: Could not write file "{w}": Read-only file system'
            ),
            r"^The warehouse {w} cannot be written \(read-only file system.*importing a.csv.*"
            r"Copy it to a writable folder",
        ),
        (
            lambda w: duckdb.IOException(f'Could not read from file "{w}": Input/output error'),
            r"^The disk holding the warehouse {w} reported an input/output error",
        ),
        (
            lambda w: duckdb.FatalException(
                "FATAL Error: Failed: database has been invalidated because of a previous fatal"
                " error. The database must be restarted prior to being used again."
            ),
            r"stopped using the warehouse {w}.*Data committed before is intact.*Run the command",
        ),
        (
            lambda w: duckdb.OutOfMemoryException("Out of Memory Error: could not allocate"),
            r"ran out of memory while importing a.csv with the warehouse {w}.*memory limit",
        ),
        (
            lambda w: OSError(28, "No space left on device", f"{w}.wal"),
            r"^The warehouse {w} could not be written.*no space left",
        ),
    ],
)
def test_each_warehouse_fault_is_named_with_its_fix(
    tmp_path: Path, make: Callable[[Path], BaseException], says: str
) -> None:
    w = tmp_path / "w.duckdb"
    w.touch()
    failure = warehouse_failure(w, make(w), "importing a.csv")
    expected = says.format(w=re.escape(str(w)), folder=re.escape(str(tmp_path)))
    assert failure is not None and re.search(expected, str(failure)), failure


@pytest.mark.parametrize(
    "error",
    [
        duckdb.ConversionException("Could not convert string 'Permission denied' to INT32"),
        duckdb.ConstraintException("Constraint Error: Duplicate key"),
        duckdb.IOException('IO Error: No files found that match the pattern "/data/x.csv"'),
        duckdb.IOException('IO Error: Could not write file "/tmp/o.csv": No space left on device'),
        OSError(28, "No space left on device", "/tmp/out.csv"),
        ValueError("not a warehouse fault"),
    ],
)
def test_what_is_not_the_warehouses_fault_is_left_to_its_caller(error: BaseException) -> None:
    assert warehouse_failure(Path("/data/w.duckdb"), error, "importing a.csv") is None
