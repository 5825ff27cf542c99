"""Kept award runs: one row per run (keyed by its inputs), one execution per computation."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from conftest import scalar
from govsocial.errors import NotFoundError
from govsocial.store import Warehouse
from govsocial.store.runs import RunRecord, get_run, list_runs, save_run
from govsocial.store.schema import MIGRATIONS


def record(run_id: str, engine: str = "duckdb", seconds: float = 2.5) -> RunRecord:
    return RunRecord(
        run_id, "gsm2025", "m-sha", "[methodology]", "fp", "0.9.0", engine, seconds, '{"a": 1}'
    )


def test_the_same_run_computed_again_keeps_one_run_and_every_execution(
    warehouse: Warehouse,
) -> None:
    first = save_run(warehouse, record("aaaa1111", "duckdb", 17.5))
    assert [e.engine for e in first.executions] == ["duckdb"]
    again = save_run(warehouse, record("aaaa1111", "spark", 41.0))  # same inputs, same run id
    assert again.run_id == "aaaa1111" and again.engines == ["duckdb", "spark"]
    assert [(e.engine, e.seconds) for e in again.executions] == [("duckdb", 17.5), ("spark", 41.0)]
    assert again.first.created_at <= again.latest.created_at
    assert scalar(warehouse, "SELECT count(*) FROM award_runs") == 1
    assert scalar(warehouse, "SELECT count(*) FROM award_run_executions") == 2
    [listed] = list_runs(warehouse)
    assert listed == again
    kept = get_run(warehouse, "aaaa")
    assert (kept.engine, kept.seconds, kept.results) == ("duckdb", 17.5, '{"a": 1}')
    assert kept.executions == again.executions
    assert all(e.created_at.tzinfo is not None for e in kept.executions)


def test_runs_are_listed_by_their_latest_execution(warehouse: Warehouse) -> None:
    save_run(warehouse, record("aaaa1111"))
    save_run(warehouse, record("bbbb2222"))
    assert [r.run_id for r in list_runs(warehouse)] == ["bbbb2222", "aaaa1111"]
    save_run(warehouse, record("aaaa1111", "spark"))  # computed again: now the latest
    runs = list_runs(warehouse)
    assert [(r.run_id, r.engines) for r in runs] == [
        ("aaaa1111", ["duckdb", "spark"]),
        ("bbbb2222", ["duckdb"]),
    ]


def test_an_unknown_or_ambiguous_run_id_is_not_found_and_the_runs_are_named(
    warehouse: Warehouse,
) -> None:
    with pytest.raises(NotFoundError, match=r"No award run 'abc' in .*no runs in it yet"):
        get_run(warehouse, "abc")
    save_run(warehouse, record("abc11111"))
    save_run(warehouse, record("abc22222"))
    with pytest.raises(NotFoundError, match=r"Recent runs: abc22222, abc11111.*awards list"):
        get_run(warehouse, "zzz")
    with pytest.raises(NotFoundError, match=r"start of 2 run ids .*abc11111, abc22222"):
        get_run(warehouse, "abc")
    with pytest.raises(NotFoundError, match="No award run ''"):
        get_run(warehouse, "")  # not "the only run"
    assert get_run(warehouse, "abc2").run_id == "abc22222"


def test_runs_kept_before_executions_were_recorded_become_their_first_execution(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v4.duckdb"
    con = duckdb.connect(str(path))
    for migration in MIGRATIONS[:4]:  # a warehouse as version 4 left it
        con.execute(migration.sql)
        con.execute(
            "INSERT INTO schema_migrations VALUES (?, ?, now(), '0.8.0')",
            [migration.version, migration.name],
        )
    con.execute(
        "INSERT INTO award_runs VALUES ('old12345', 'bonson', 'sha', 'text', 'fp', '0.8.0',"
        " 'spark', TIMESTAMPTZ '2025-04-01 10:00:00+00', 12.5, '{}')"
    )
    con.close()
    with Warehouse.open(path) as wh:
        [run] = list_runs(wh)
        assert (run.run_id, run.methodology_id, run.engines) == ("old12345", "bonson", ["spark"])
        [execution] = run.executions
        assert (execution.seconds, execution.govsocial_version) == (12.5, "0.8.0")
        assert execution.created_at.isoformat() == "2025-04-01T10:00:00+00:00"
        assert get_run(wh, "old").executions == run.executions
