"""`govsocial sql`'s library side: only reads pass the guard, the connection can neither write
nor reach out even if the guard let something through, results stream, errors explain."""

import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from conftest import scalar
from govsocial.errors import StoreError
from govsocial.store import Warehouse
from govsocial.store import query as query_module
from govsocial.store.query import (
    QueryError,
    QueryRefusedError,
    ReadStatement,
    check_read_only,
    open_query,
)


@pytest.fixture
def db(registered: Warehouse) -> Path:
    """The registered warehouse's file, closed (a query opens its own connection)."""
    registered.close()
    return registered.path


def rows(db: Path, sql: str, **options: bool) -> tuple[list[str], list[tuple[object, ...]]]:
    with open_query(db, sql, **options) as result:
        table = result.reader.read_all()
        return result.columns, [tuple(row.values()) for row in table.to_pylist()]


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.rglob("*")}


# -- reads --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sql", "columns", "first"),
    [
        ("SELECT institution_id FROM institutions ORDER BY 1", ["institution_id"], ("jabarprov",)),
        ("FROM institutions SELECT count(*) AS n", ["n"], (2,)),
        ("WITH i AS (SELECT * FROM institutions) SELECT count(*) AS n FROM i", ["n"], (2,)),
        ("VALUES (1), (2)", ["col0"], (1,)),
        ("SELECT 1 AS a UNION ALL SELECT 2 ORDER BY a", ["a"], (1,)),
        # PIVOT without an IN list is a MULTI statement: refused by the old guard
        (
            "PIVOT (SELECT cluster_id FROM institutions) ON cluster_id USING count(*)",
            ["kementerian", "pemda"],
            (1, 1),
        ),
        ("UNPIVOT (SELECT 1 AS a, 2 AS b) ON a, b INTO NAME k VALUE v", ["k", "v"], ("a", 1)),
        ("-- a comment first\nPIVOT (FROM clusters SELECT cluster_id) ON cluster_id;", None, None),
        ("SUMMARIZE institutions", None, ("institution_id",)),
        ("DESCRIBE institutions", None, ("institution_id",)),
        ("SHOW TABLES", ["name"], ("account_snapshots",)),
        ("EXPLAIN SELECT 1", ["explain_key", "explain_value"], None),
        ("EXPLAIN ANALYZE SELECT count(*) FROM posts", ["explain_key", "explain_value"], None),
        ("CALL pragma_version()", ["library_version", "source_id", "codename"], None),
        ("SELECT 1 AS a; SELECT 2 AS b", ["b"], (2,)),
    ],
)
def test_reads_run(
    db: Path, sql: str, columns: list[str] | None, first: tuple[object, ...] | None
) -> None:
    got_columns, got_rows = rows(db, sql)
    if columns is not None:
        assert got_columns == columns
    if first is not None:
        assert got_rows[0][: len(first)] == first


# -- refusals -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        # passed the old guard (EXPLAIN) and wrote the file
        ("EXPLAIN ANALYZE COPY institutions TO '{tmp}/out.csv'", "EXPLAIN of a COPY"),
        ("EXPLAIN ANALYZE INSTALL httpfs", "EXPLAIN of a LOAD"),
        ("EXPLAIN (FORMAT json) COPY institutions TO '{tmp}/out.csv'", "EXPLAIN of a COPY"),
        ("COPY institutions TO '{tmp}/out.csv'", "COPY"),
        ("EXPORT DATABASE '{tmp}/exported'", "EXPORT"),
        ("INSTALL httpfs", "INSTALL"),
        ("LOAD httpfs", "LOAD"),
        ("ATTACH '{tmp}/other.duckdb'", "ATTACH"),
        ("SET threads = 1", "SET"),
        ("SET enable_external_access = true", "SET"),
        ("PRAGMA enable_profiling", "PRAGMA"),
        ("CREATE TABLE t (x INT)", "CREATE"),
        ("INSERT INTO clusters VALUES ('x', 'x', NULL)", "INSERT"),
        ("UPDATE institutions SET name = 'x'", "UPDATE"),
        ("DELETE FROM institutions", "DELETE"),
        ("DROP TABLE posts", "DROP"),
        ("CHECKPOINT", "CALL"),
        ("BEGIN TRANSACTION", "TRANSACTION"),
        ("SELECT 1; DELETE FROM institutions", "DELETE statement (statement 2 of 2)"),
        # a PIVOT inside a write is MULTI too: only a statement that begins with PIVOT passes
        ("WITH p AS (PIVOT institutions ON cluster_id) INSERT INTO clusters SELECT 1", "MULTI"),
    ],
)
def test_everything_but_reads_is_refused_and_nothing_changes(
    db: Path, tmp_path: Path, sql: str, kind: str
) -> None:
    before = files_in(tmp_path)
    with pytest.raises(QueryRefusedError, match=f"Refused an? {re.escape(kind)}") as refused:
        rows(db, sql.format(tmp=tmp_path))
    message = str(refused.value)
    assert "runs only reads" in message  # what is accepted
    assert refused.value.exit_code == 1
    assert files_in(tmp_path) == before
    with Warehouse.open(db) as wh:
        assert scalar(wh, "SELECT count(*) FROM institutions") == 2


def test_refusals_say_what_to_do_instead() -> None:
    with pytest.raises(QueryRefusedError, match=r"--output result\.csv"):
        check_read_only("COPY posts TO 'posts.csv'")
    with pytest.raises(QueryRefusedError, match="pragma_table_info"):
        check_read_only("PRAGMA table_info('posts')")
    with pytest.raises(QueryRefusedError, match="govsocial commands"):
        check_read_only("DELETE FROM posts")


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"a,b\n1,2\n")

    do_HEAD = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web() -> Iterator[tuple[str, list[str]]]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.requests
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("allow_files", [False, True])
def test_urls_are_refused_without_a_request(
    db: Path, web: tuple[str, list[str]], allow_files: bool
) -> None:
    url, requests = web
    for sql in (f"SELECT * FROM read_csv('{url}/x.csv')", f"SELECT * FROM '{url}/x.csv'"):
        with pytest.raises(QueryRefusedError, match="never reads URLs"):
            rows(db, sql, allow_files=allow_files)
    assert requests == []


def test_local_files_only_with_the_opt_in(db: Path, tmp_path: Path) -> None:
    ids = tmp_path / "ids.csv"
    ids.write_text("institution_id\njabarprov\n", encoding="utf-8")
    sql = f"SELECT i.name FROM institutions i JOIN read_csv('{ids}') USING (institution_id)"
    with pytest.raises(QueryRefusedError, match="--allow-files"):
        rows(db, sql)
    assert rows(db, sql, allow_files=True)[1] == [("Pemerintah Provinsi Jawa Barat",)]
    # a file the query does not name stays out of reach, and so do patterns
    other = tmp_path / "other.csv"
    other.write_text("x\n1\n", encoding="utf-8")
    with pytest.raises(QueryRefusedError, match="pattern"):
        rows(db, f"SELECT * FROM read_csv('{tmp_path}/*.csv')", allow_files=True)
    with pytest.raises(QueryRefusedError, match="no file"):
        rows(db, f"SELECT * FROM read_csv('{tmp_path}/missing.csv')", allow_files=True)


@pytest.mark.parametrize("allow_files", [False, True])
@pytest.mark.parametrize(
    "sql",
    [
        "COPY (SELECT 1) TO '{tmp}/written.csv'",
        "COPY (SELECT 1) TO '{named}'",
        "ATTACH '{tmp}/other.duckdb' AS other",
        "INSTALL httpfs",
        "SET enable_external_access = true",
        "SELECT * FROM read_text('{unnamed}')",
    ],
)
def test_the_connection_holds_even_if_the_guard_had_a_hole(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sql: str, allow_files: bool
) -> None:
    named = tmp_path / "named.csv"
    named.write_text("x\n1\n", encoding="utf-8")
    unnamed = tmp_path / "unnamed.txt"
    unnamed.write_text("secret", encoding="utf-8")
    text = sql.format(tmp=tmp_path, named=named, unnamed=unnamed)

    def no_guard(sql: str) -> list[ReadStatement]:  # a guard that lets everything through
        return [ReadStatement(sql, "SELECT", (str(named),))]

    monkeypatch.setattr(query_module, "check_read_only", no_guard)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    with pytest.raises(QueryError):
        rows(db, text, allow_files=allow_files)
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after.keys() - before.keys() <= {"w.duckdb.wal"}
    assert all(after[name] == content for name, content in before.items() if name != "w.duckdb")


def test_the_lockdown_ends_with_the_query(db: Path) -> None:
    rows(db, "SELECT 1")
    with Warehouse.open(db) as wh:  # sets the time zone: fails while the config is locked
        wh.con.execute("CREATE TEMP TABLE t AS SELECT 1")


# -- errors and streaming -----------------------------------------------------------------------
def test_errors_quote_duckdb_and_say_the_fix(db: Path) -> None:
    with pytest.raises(QueryError, match=r"(?s)does not parse.*SELEC.*docs/schema\.md") as bad:
        rows(db, "SELEC 1")
    assert bad.value.exit_code == 1
    with pytest.raises(QueryError, match=r"(?s)no_such_table.*docs/schema\.md") as missing:
        rows(db, "SELECT * FROM no_such_table")
    assert isinstance(missing.value, StoreError)
    with pytest.raises(QueryError, match="Could not convert"):
        rows(db, "SELECT CAST('a' AS INT)")
    for empty in ("", "  ;  ", "-- only a comment"):
        with pytest.raises(QueryError, match="The query is empty"):
            rows(db, empty)


def test_errors_while_rows_stream_are_query_errors(db: Path) -> None:
    sql = "SELECT CASE WHEN i = 150000 THEN error('boom') ELSE i END AS x FROM range(200000) t(i)"
    seen = 0
    with (
        pytest.raises(QueryError, match="boom"),
        open_query(db, sql, rows_per_batch=1000) as result,
    ):
        for batch in result.reader:  # (DuckDB's threads may meet the error before any row)
            seen += batch.num_rows
    assert seen < 200_000
