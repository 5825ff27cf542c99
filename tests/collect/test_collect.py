"""`govsocial collect` end to end against the fake platform server (all five APIs)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from govsocial.collect.clients import CLIENTS
from govsocial.collect.runs import collect
from govsocial.errors import Interrupted
from govsocial.sources.clients import PlatformClient
from govsocial.store import Warehouse
from govsocial.store.registry import load_registry
from govsocial.synth.platforms.base import Credentials, Faults
from govsocial.synth.platforms.server import FakePlatforms
from govsocial.synth.platforms.world import FakeWorld

PLATFORMS = tuple(CLIENTS)


def clients(server: FakePlatforms, waits: list[float]) -> dict[str, PlatformClient]:
    """Every platform's real client, against the fake server, waiting without sleeping."""
    made: dict[str, PlatformClient] = {}
    for platform, spec in CLIENTS.items():
        module = importlib.import_module(f"govsocial.sources.{spec.module}.client")
        made[platform] = getattr(module, spec.name)(
            Credentials().settings(),
            base_url=f"{server.root}/{spec.prefix}",
            sleep=waits.append,
        )
    return made


@pytest.fixture
def world() -> FakeWorld:
    return FakeWorld(institutions=3, posts_per_account=30)


@pytest.fixture
def registered(tmp_path: Path, world: FakeWorld) -> Iterator[Path]:
    db = tmp_path / "w.duckdb"
    load_registry(db, world.write_registry(tmp_path / "registry.yaml"))
    yield db


def counts(db: Path) -> dict[str, tuple[int, int]]:
    """Per platform: posts (distinct by platform id: a duplicate would show) and follower
    readings."""
    with Warehouse.open(db, read_only=True) as wh:
        posts = dict(
            wh.con.execute(
                "SELECT platform, count(DISTINCT platform_post_id) FROM posts GROUP BY 1"
            ).fetchall()
        )
        rows = wh.con.execute("SELECT platform, count(*) FROM posts GROUP BY 1").fetchall()
        assert dict(rows) == posts  # no post twice
        readings = dict(
            wh.con.execute(
                "SELECT a.platform, count(*) FROM account_snapshots s "
                "JOIN accounts a USING (account_id) GROUP BY 1"
            ).fetchall()
        )
    return {p: (int(posts.get(p, 0)), int(readings.get(p, 0))) for p in PLATFORMS}


def run(db: Path, server: FakePlatforms, world: FakeWorld, waits: list[float]) -> object:
    made = clients(server, waits)
    try:
        with Warehouse.open(db) as wh:
            return collect(wh, clients=made, since=world.start, until=world.end)
    finally:
        for client in made.values():
            client.close()


def test_every_post_arrives_once_through_faults_and_no_secret_is_kept(
    registered: Path, world: FakeWorld
) -> None:
    faults = Faults(rate_limit=0.07, server_error=0.07, truncated=0.06)  # 20% of requests
    waits: list[float] = []
    with FakePlatforms(world, faults=faults, seed=5) as server:
        report = run(registered, server, world, waits)
    assert not report.errors, [a.error for a in report.errors]  # type: ignore[attr-defined]
    assert waits  # faults were met and waited out
    got = counts(registered)
    for platform in PLATFORMS:
        expected = world.total_posts(platform, world.start, world.end)
        assert got[platform][0] == expected, platform
        assert got[platform][1] >= 3, platform  # a follower reading per account
    secrets = Credentials().secrets()
    with Warehouse.open(registered, read_only=True) as wh:
        for table, column in (
            ("raw_files", "file_name"),
            ("raw_records", "payload"),
            ("ingest_batches", "path"),
            ("quarantine", "payload"),
            ("collect_cursors", "resume"),
            ("collect_runs", "usage"),
        ):
            text = " ".join(
                str(r[0]) for r in wh.con.execute(f"SELECT {column} FROM {table}").fetchall()
            )
            for secret in secrets:
                assert secret not in text, (table, secret)


def test_a_killed_run_continues_to_the_same_warehouse(
    registered: Path, world: FakeWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import govsocial.collect.runs as runs

    real = runs.load_file
    calls = {"n": 0}

    def dies_on_the_seventh(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 7:
            raise KeyboardInterrupt
        return real(*args, **kwargs)  # type: ignore[arg-type]

    waits: list[float] = []
    with FakePlatforms(world, seed=1) as server:
        monkeypatch.setattr(runs, "load_file", dies_on_the_seventh)
        with pytest.raises(Interrupted, match="continue"):
            run(registered, server, world, waits)
        monkeypatch.setattr(runs, "load_file", real)
        run(registered, server, world, waits)
        whole = tmp_path / "whole.duckdb"
        load_registry(whole, world.write_registry(tmp_path / "again.yaml"))
        run(whole, server, world, waits)
    resumed, uninterrupted = counts(registered), counts(whole)
    assert {p: c[0] for p, c in resumed.items()} == {p: c[0] for p, c in uninterrupted.items()}
    assert all(c[0] == world.total_posts(p, world.start, world.end) for p, c in resumed.items())


def test_a_deleted_account_is_reported_and_the_others_are_collected(
    registered: Path, world: FakeWorld
) -> None:
    victim = world.accounts("x")[0]
    waits: list[float] = []
    with FakePlatforms(world, faults=Faults(deleted=[f"x:{victim.handle}"])) as server:
        report = run(registered, server, world, waits)
    failed = report.errors  # type: ignore[attr-defined]
    assert [a.account.handle for a in failed] == [victim.handle]
    assert "x" in failed[0].error.lower() or "X" in failed[0].error
    got = counts(registered)
    assert got["x"][0] == world.total_posts("x", world.start, world.end) - len(
        world.posts_in(victim, world.start, world.end)
    )
    assert got["youtube"][0] == world.total_posts("youtube", world.start, world.end)
    with Warehouse.open(registered, read_only=True) as wh:
        kept = wh.con.execute(
            "SELECT count(*) FROM collect_accounts WHERE last_error IS NOT NULL"
        ).fetchone()
    assert kept == (1,)
