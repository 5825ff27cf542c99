"""`govsocial publish`: a kept run's read model, whole or not at all, checked, reproducible."""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import pyarrow.compute as pc
import pytest

from conftest import post_row, run_cli, write_csv
from govsocial.awards.runs import run_and_keep
from govsocial.demo import load_world
from govsocial.errors import ConfigError, OutputError
from govsocial.publish import build
from govsocial.publish.build import publish_run
from govsocial.publish.model import FILES, MANIFEST, ReadModel
from govsocial.sources.generic import stage
from govsocial.store import Warehouse, load_file
from govsocial.synth import generate


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("publish")
    db = folder / "w.duckdb"
    with Warehouse.open(db, create=True) as wh:
        load_world(wh, generate(folder / "files", seed=7, posts=6_000))
    return db, run_and_keep(db, "gsm2025", "duckdb", replicates=5).run_id


def test_the_read_model_holds_the_run_and_every_standing(
    kept: tuple[Path, str], tmp_path: Path
) -> None:
    db, run_id = kept
    published = publish_run(db, run_id[:6], tmp_path)  # a prefix names the run
    assert published.created and published.folder == tmp_path / run_id
    model = ReadModel.open(published.folder)
    assert sorted(p.name for p in published.folder.iterdir()) == sorted([*FILES, MANIFEST])
    with Warehouse.open(db, read_only=True) as wh:
        from govsocial.store.runs import get_run

        record = get_run(wh, run_id)
    assert (published.folder / "results.json").read_text("utf-8") == record.results
    assert model.methodology_text == record.methodology_text
    assert model.synthetic and model.manifest["run_id"] == run_id

    # Every nominee of the document stands in the leaderboard with its rank and score.
    standings = model.table("standings")
    by_key = {(r["category"], r["cluster_id"], r["unit"]): r for r in standings.to_pylist()}
    nominated = 0
    for category in model.results["categories"]:
        for cluster in category["clusters"]:
            for n in cluster["nominees"]:
                unit = str(n["account_id"]) if n["account_id"] is not None else n["institution_id"]
                row = by_key[(category["id"], cluster["cluster_id"], unit)]
                assert (row["rank"], row["status"]) == (n["rank"], "nominated")
                assert row["score"] == pytest.approx(n["score"], rel=1e-5)
                nominated += 1
            eligible = [k for k in by_key if k[:2] == (category["id"], cluster["cluster_id"])]
            assert len(eligible) == cluster["eligible"]
    assert nominated == int(pc.sum(pc.equal(standings["status"], "nominated")).as_py())

    # A unit's combined contributions sum to its score.
    parts = model.table("components").to_pylist()
    sums: dict[tuple[str, str, str], float] = {}
    for p in parts:
        if p["platform"] == "":
            key = (p["category"], p["cluster_id"], p["unit"])
            sums[key] = sums.get(key, 0.0) + p["contribution"]
    assert all(sums[k] == pytest.approx(r["score"], abs=1e-9) for k, r in by_key.items())

    # Weekly activity adds up to each account's posts; the coverage counts the period's posts.
    accounts = {r["account_id"]: r for r in model.table("accounts").to_pylist()}
    weekly: dict[int, int] = {}
    for w in model.table("weekly").to_pylist():
        weekly[w["account_id"]] = weekly.get(w["account_id"], 0) + w["posts"]
    assert all(accounts[a]["posts"] == n for a, n in weekly.items())
    posts = sum(p["posts"] - p["reposts"] for p in model.coverage["posts"].values())
    assert sum(a["posts"] for a in accounts.values()) <= posts
    assert sum(a["posts"] for a in accounts.values()) > 0.9 * posts
    top = model.table("top_posts").to_pylist()
    assert top and all(1 <= t["place"] <= 3 for t in top)


def test_publishing_twice_changes_nothing_and_a_damaged_folder_is_refused(
    kept: tuple[Path, str], tmp_path: Path
) -> None:
    db, run_id = kept
    first = publish_run(db, run_id, tmp_path)
    stamp = (first.folder / MANIFEST).stat().st_mtime_ns
    again = publish_run(db, run_id, tmp_path)
    assert not again.created and (first.folder / MANIFEST).stat().st_mtime_ns == stamp
    with (first.folder / "coverage.json").open("a", encoding="utf-8") as handle:
        handle.write(" ")
    with pytest.raises(ConfigError, match="coverage.json does not match its SHA-256"):
        ReadModel.open(first.folder)
    with pytest.raises(ConfigError, match="coverage.json does not match"):
        publish_run(db, run_id, tmp_path)  # not silently taken as published
    with pytest.raises(ConfigError, match="not a published run"):
        ReadModel.open(tmp_path)


def test_a_full_disk_leaves_nothing_half_written(
    kept: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, run_id = kept

    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(build.pq, "write_table", full)
    with pytest.raises(OutputError, match="No space left on device.*Nothing was published"):
        publish_run(db, run_id, tmp_path)
    assert list(tmp_path.iterdir()) == []  # neither the folder nor its temporary build


def test_a_warehouse_changed_since_the_run_is_refused_with_the_fix(
    kept: tuple[Path, str], tmp_path: Path
) -> None:
    db, run_id = kept
    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    with Warehouse.open(copy) as wh:
        load_file(wh, write_csv(tmp_path / "late.csv", [post_row(post_id="late")]), stage)
    with pytest.raises(ConfigError, match="changed since run .* awards run --methodology gsm2025"):
        publish_run(copy, run_id, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_commands_publish_and_say_so(kept: tuple[Path, str], tmp_path: Path) -> None:
    db, run_id = kept
    root = tmp_path / "pub"
    done = run_cli("publish", run_id, "--root", str(root), "--db", str(db), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"Published {run_id}" in done.stdout
    again = run_cli("publish", run_id, "--root", str(root), "--db", str(db), cwd=tmp_path)
    assert "published already" in again.stdout
    manifest = json.loads((root / run_id / MANIFEST).read_text("utf-8"))
    assert set(manifest["files"]) == set(FILES)
    missing = run_cli("publish", "nosuchrun", "--db", str(db), cwd=tmp_path)
    assert missing.returncode == 1 and "No award run 'nosuchrun'" in missing.stderr
    assert "Traceback" not in missing.stderr
