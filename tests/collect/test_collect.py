"""`govsocial collect` end to end against the fake platform server (all five APIs)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from govsocial.collect.clients import CLIENTS
from govsocial.collect.runs import CollectReport, collect
from govsocial.errors import Interrupted
from govsocial.sources.clients import PlatformClient
from govsocial.sources.http import QuotaBudget
from govsocial.store import Warehouse
from govsocial.store.registry import load_registry
from govsocial.synth.platforms.base import Credentials, Faults
from govsocial.synth.platforms.server import FakePlatforms
from govsocial.synth.platforms.world import Clock, FakeWorld, ManualClock

PLATFORMS = tuple(CLIENTS)


def clients(
    server: FakePlatforms, waits: list[float], clock: Clock | None = None
) -> dict[str, PlatformClient]:
    """Every platform's real client, against the fake server, waiting without sleeping (and
    reading the world's clock, when given)."""
    made: dict[str, PlatformClient] = {}
    for platform, spec in CLIENTS.items():
        module = importlib.import_module(f"govsocial.sources.{spec.module}.client")
        made[platform] = getattr(module, spec.name)(
            Credentials().settings(),
            base_url=f"{server.root}/{spec.prefix}",
            sleep=waits.append,
            **({"clock": clock} if clock else {}),
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


def run(
    db: Path,
    server: FakePlatforms,
    world: FakeWorld,
    waits: list[float],
    clock: ManualClock | None = None,
) -> CollectReport:
    """One collection: of the world's period, or (``clock``) up to the clock's now, from
    where each account's posts were last complete."""
    made = clients(server, waits, clock)
    try:
        with Warehouse.open(db) as wh:
            if clock is not None:
                return collect(wh, clients=made, now=clock)
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
    assert not report.errors, [a.error for a in report.errors]
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


def contents(db: Path) -> list[tuple[object, ...]]:
    """What the warehouse holds that a run decides: every post with its latest counts."""
    with Warehouse.open(db, read_only=True) as wh:
        return wh.con.execute(
            "SELECT p.platform, p.platform_post_id, p.posted_at, p.media_type, m.likes, "
            "m.comments, m.shares, m.views FROM posts p JOIN post_metrics_latest m USING "
            "(post_id) ORDER BY 1, 2"
        ).fetchall()


@pytest.mark.parametrize("kill_at", [3, 14])
def test_a_run_killed_anywhere_continues_to_the_same_warehouse(
    kill_at: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed at its ``kill_at``-th page (Ctrl-C inside a load: nothing of that page is
    kept), then run again: the warehouse ends as an uninterrupted run's, post for post."""
    import govsocial.collect.runs as runs

    clock = ManualClock(datetime(2025, 3, 5, tzinfo=UTC))  # counts stand still
    world = FakeWorld(institutions=1, posts_per_account=60, clock=clock)
    real = runs.load_file
    calls = {"n": 0}

    def dies(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == kill_at:
            raise KeyboardInterrupt
        return real(*args, **kwargs)  # type: ignore[arg-type]

    killed, whole = tmp_path / "killed.duckdb", tmp_path / "whole.duckdb"
    for db in (killed, whole):
        load_registry(db, world.write_registry(tmp_path / f"{db.stem}.yaml"))
    waits: list[float] = []
    with FakePlatforms(world, seed=1) as server:
        monkeypatch.setattr(runs, "load_file", dies)
        with pytest.raises(Interrupted, match="continue"):
            run(killed, server, world, waits, clock)
        monkeypatch.setattr(runs, "load_file", real)
        run(killed, server, world, waits, clock)
        run(whole, server, world, waits, clock)
    assert contents(killed) == contents(whole)
    assert len(contents(whole)) == world.total_posts()


def test_a_later_run_fetches_only_what_is_new_and_rereads_young_posts(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2025, 2, 1, tzinfo=UTC))
    world = FakeWorld(institutions=2, posts_per_account=40, clock=clock)
    db = tmp_path / "w.duckdb"
    load_registry(db, world.write_registry(tmp_path / "r.yaml"))
    waits: list[float] = []
    with FakePlatforms(world, seed=2) as server:
        first = run(db, server, world, waits, clock)
        before = len(contents(db))
        assert before == world.total_posts() > 0  # everything visible on 1 Feb
        with Warehouse.open(db, read_only=True) as wh:
            readings = wh.con.execute("SELECT count(*) FROM post_metrics").fetchone()
        clock.advance(timedelta(days=8))
        second = run(db, server, world, waits, clock)
    after = contents(db)
    assert len(after) == world.total_posts()  # the new posts of 1-9 Feb, once each
    new = world.total_posts(since=datetime(2025, 2, 1, tzinfo=UTC))
    assert 0 < new < before and len(after) == before + new
    assert sum(a.posts_new for a in second.accounts) == new
    assert second.pages < first.pages  # only the new posts were walked
    assert sum(a.recounted for a in second.accounts) > 0  # posts that turned 1 or 7 days old
    with Warehouse.open(db, read_only=True) as wh:
        later = wh.con.execute("SELECT count(*) FROM post_metrics").fetchone()
        complete = wh.con.execute("SELECT DISTINCT complete_until FROM collect_accounts").fetchall()
    assert readings is not None and later is not None and later[0] > readings[0] + new
    assert complete == [(clock.now,)]


def test_a_deleted_account_is_reported_and_the_others_are_collected(
    registered: Path, world: FakeWorld
) -> None:
    victim = world.accounts("x")[0]
    waits: list[float] = []
    with FakePlatforms(world, faults=Faults(deleted=[f"x:{victim.handle}"])) as server:
        report = run(registered, server, world, waits)
    failed = report.errors
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


def test_a_day_s_quota_is_carried_from_one_run_to_the_next(
    registered: Path, world: FakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """YouTube's daily units: a second run the same day starts from what the first used, so
    a budget the first run fitted in is used up by the second."""
    import govsocial.collect.runs as runs

    for name, value in Credentials().settings().items():
        monkeypatch.setenv(f"GOVSOCIAL_{name.upper()}", value)
    with FakePlatforms(world) as server:
        with Warehouse.open(registered) as wh:
            first = collect(wh, api_root=server.root, platforms=["youtube"])
        used = first.usage["youtube"]["quota_used"]
        assert isinstance(used, int) and used > 0 and not first.errors
        monkeypatch.setitem(runs.DAILY_QUOTAS, "youtube", partial(QuotaBudget.youtube, used + 2))
        with Warehouse.open(registered) as wh:
            second = collect(wh, api_root=server.root, platforms=["youtube"])
    assert second.errors and "quota" in (second.errors[0].error or "").lower()
    assert second.usage["youtube"]["quota_used"] == used + 2  # never past the budget


def test_the_demo_collects_a_year_through_faults_and_the_award_runs_on_it(
    tmp_path: Path,
) -> None:
    from govsocial.awards.results import nominee_rows
    from govsocial.awards.runs import run_and_keep
    from govsocial.demo import collect_demo

    done = collect_demo(tmp_path, institutions=3, posts_per_account=40)
    assert done.collected == done.expected and not done.report.errors
    computed = run_and_keep(done.path, "gsm2025", "duckdb", replicates=0)
    rows = nominee_rows(computed.document)
    assert rows and all(str(row[4]).startswith("syn-fake-") for row in rows)


def test_a_collect_process_killed_hard_continues_to_the_same_warehouse(tmp_path: Path) -> None:
    """SIGKILL (no Python cleanup at all) in the middle of a run of the real command, then
    `govsocial collect` again: the warehouse ends post for post as an uninterrupted run's."""
    import os
    import signal
    import subprocess
    import sys
    import time

    clock = ManualClock(datetime(2025, 3, 5, tzinfo=UTC))
    world = FakeWorld(institutions=2, posts_per_account=60, clock=clock)
    killed, whole = tmp_path / "killed.duckdb", tmp_path / "whole.duckdb"
    for db in (killed, whole):
        load_registry(db, world.write_registry(tmp_path / f"{db.stem}.yaml"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVSOCIAL_")}
    env |= {f"GOVSOCIAL_{k.upper()}": v for k, v in Credentials().settings().items()}
    window = ["--since", "2025-01-01", "--until", "2025-03-02"]
    with FakePlatforms(world, seed=3) as server:
        command = [sys.executable, "-m", "govsocial", "collect", "--api-root", server.root]
        process = subprocess.Popen(
            [*command, *window, "--db", str(killed)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while len(server.log) < 12 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, "the run ended before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait()
        waits: list[float] = []
        made = clients(server, waits, clock)
        try:
            for db in (killed, whole):
                with Warehouse.open(db) as wh:
                    collect(
                        wh,
                        clients=made,
                        since=datetime(2024, 12, 31, 17, tzinfo=UTC),
                        until=datetime(2025, 3, 1, 17, tzinfo=UTC),
                        now=clock,
                    )
        finally:
            for client in made.values():
                client.close()
    assert contents(killed) == contents(whole)
    assert len(contents(whole)) == world.total_posts(
        since=datetime(2024, 12, 31, 17, tzinfo=UTC), until=datetime(2025, 3, 1, 17, tzinfo=UTC)
    )
