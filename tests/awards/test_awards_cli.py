"""`govsocial awards ...` as a user runs it, on a small synthetic warehouse."""

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pytest

from conftest import Ran, run_cli
from govsocial.demo import load_world
from govsocial.store import Warehouse
from govsocial.synth import generate


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("awards_cli")
    with Warehouse.open(folder / "govsocial.duckdb", create=True) as wh:
        load_world(wh, generate(folder / "files", seed=11, posts=30_000))
    return folder


def run(folder: Path, *args: str) -> Ran:
    return run_cli(*args, cwd=folder)


def test_run_show_and_list(folder: Path) -> None:
    done = run(folder, "awards", "run", "--methodology", "gsm2025", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    run_id = document["run_id"]
    assert f"Run {run_id}" in done.stderr
    assert document["synthetic_data"] is True
    assert len(document["categories"]) == 5
    assert all(len(c["clusters"]) == 4 for c in document["categories"])
    nominees = [n for c in document["categories"] for cl in c["clusters"] for n in cl["nominees"]]
    assert nominees and all(
        3 <= len(cl["nominees"]) <= 5
        for c in document["categories"]
        for cl in c["clusters"]
        if cl["eligible"] >= 3
    )
    # Every nominee's score is the sum of its components' contributions.
    for n in nominees:
        assert n["score"] == pytest.approx(
            sum(c["contribution"] for c in n["components"]), abs=1e-5
        )
    # The kept JSON is byte-identical to a second run's: same inputs, same run.
    shown = run(folder, "awards", "show", run_id[:8], "--format", "json")
    again = run(folder, "awards", "run", "--methodology", "gsm2025", "--json")
    assert json.loads(shown.stdout) == document
    assert again.stdout == done.stdout
    rows = list(
        csv.DictReader(io.StringIO(run(folder, "awards", "show", run_id, "--format", "csv").stdout))
    )
    assert len(rows) == len(nominees)
    assert {"category", "cluster", "rank", "institution_name", "score", "flags"} <= set(rows[0])
    # One run (same inputs), two executions: each shown with its engine and time.
    listed = run(folder, "awards", "list", "--format", "csv")
    mine = [r for r in csv.DictReader(io.StringIO(listed.stdout)) if r["run_id"] == run_id]
    assert [r["engine"] for r in mine] == ["duckdb", "duckdb"]
    assert all(datetime.fromisoformat(r["run_at"]).tzinfo for r in mine)  # ISO, for programs
    table = run(folder, "awards", "list")
    assert table.stdout.count(run_id) == 2 and " WIB" in table.stdout  # for people


def test_other_methodologies_and_clear_errors(folder: Path) -> None:
    gsm2020 = run(folder, "awards", "run", "--methodology", "gsm2020")
    assert gsm2020.returncode == 0, gsm2020.stderr
    assert "run id: " in gsm2020.stdout
    words = " ".join(gsm2020.stdout.replace("│", " ").split())
    assert "No units of this" in words and "Climate" in words  # the bumn note, wrapped at 80
    assert run(folder, "awards", "run", "--methodology", "bonson").returncode == 0
    unknown = run(folder, "awards", "run", "--methodology", "gsm2030")
    assert unknown.returncode != 0 and "gsm2025" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    missing = run(folder, "awards", "show", "ffffffff")
    assert missing.returncode == 1 and "No award run 'ffffffff'" in missing.stderr
    engine = run(folder, "awards", "run", "--engine", "polars")
    assert engine.returncode == 2 and "duckdb, spark" in engine.stderr


def test_a_run_computes_on_a_read_only_warehouse_so_others_can_read_meanwhile(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import govsocial.awards.runs as runs

    seen: list[bool] = []
    real = runs.compute_run

    def watched(wh, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(wh.read_only)
        # Another reader opens the same warehouse while the run computes.
        with Warehouse.open(wh.path, read_only=True) as other:
            assert other.schema_version()
        return real(wh, *args, **kwargs)

    monkeypatch.setattr(runs, "compute_run", watched)
    done = run(folder, "awards", "run", "--methodology", "bonson")
    assert done.returncode == 0, done.stderr
    assert seen == [True]
