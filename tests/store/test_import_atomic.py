"""Atomic per file, for every format: a process killed mid-file leaves nothing of the file, and
importing it again gives exactly what an uninterrupted import gives."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from format_files import FILES
from govsocial.sources.formats import stager
from govsocial.store import Warehouse, load_file

TABLES = (
    "posts",
    "post_metrics",
    "accounts",
    "account_snapshots",
    "raw_files",
    "raw_records",
    "quarantine",
)
# Where the process dies: after the file's posts are in (its other relations not yet), and
# after everything is in but before the batch is marked loaded and committed.
CRASH_POINTS = ("_load_posts", "_finish")


def counts(wh: Warehouse) -> dict[str, int]:
    found = {}
    for table in TABLES:
        row = wh.con.execute(f"SELECT count(*) FROM {table}").fetchone()
        found[table] = int(row[0]) if row else 0
    return found


def crash_while_loading(db: Path, path: Path, fmt: str, point: str) -> int:
    script = textwrap.dedent(f"""
        import os
        from pathlib import Path
        import govsocial.store.ingest as ingest
        from govsocial.sources.formats import stager
        from govsocial.store import Warehouse
        original = ingest.{point}
        def crash(*args):
            original(*args)
            os._exit(17)  # the process dies mid-transaction
        ingest.{point} = crash
        ingest.load_file(Warehouse.open(Path({str(db)!r})), Path({str(path)!r}), stager({fmt!r}))
    """)
    return subprocess.run([sys.executable, "-c", script], check=False).returncode


@pytest.mark.parametrize("point", CRASH_POINTS)
@pytest.mark.parametrize("fmt", sorted(FILES))
def test_a_crash_mid_file_leaves_nothing_and_a_rerun_completes(
    tmp_path: Path, fmt: str, point: str
) -> None:
    path = tmp_path / FILES[fmt].name
    shutil.copy2(FILES[fmt], path)  # same bytes and modification time for both imports
    with Warehouse.open(tmp_path / "clean.duckdb", create=True) as wh:
        load_file(wh, path, stager(fmt))
        expected = counts(wh)
    assert expected["posts"] > 0
    db = tmp_path / "w.duckdb"
    Warehouse.open(db, create=True).close()
    assert crash_while_loading(db, path, fmt, point) == 17
    with Warehouse.open(db) as wh:
        assert counts(wh) == dict.fromkeys(TABLES, 0)
        summary = load_file(wh, path, stager(fmt))
        assert summary.status == "loaded"
        assert counts(wh) == expected
