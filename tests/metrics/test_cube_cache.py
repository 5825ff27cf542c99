"""The cube cache (metrics/cube.py ``cached_cube``, store/cubecache.py).

After any change of the data (a day of new posts, newer counts of old posts, a follower
reading, an edited post, a registry change) the cube made of the kept weeks and the
recomputed ones is the cube a full pass computes, row for row (``assert_same_cube``); only the
weeks the change can reach are recomputed; and an award run kept after an import gives the
document of a run without any cache, byte for byte.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import post_row, write_csv
from govsocial.awards.engine import run_awards
from govsocial.awards.methodology import Methodology, load_methodology
from govsocial.awards.runs import run_and_keep
from govsocial.compute.backend import RELATIONS, Backend, open_backend
from govsocial.demo import load_world
from govsocial.metrics.cube import (
    CachedCube,
    ThemeFilter,
    cached_cube,
    compute_cube,
    week_fingerprints,
)
from govsocial.metrics.facts import WEEK_SECONDS
from govsocial.metrics.formulas import weeks_in_period
from govsocial.registry import read_registry
from govsocial.sources.generic import stage
from govsocial.store import Warehouse, apply_registry, known_clusters, load_file
from govsocial.store.cubecache import (
    KEEP_SCOPES,
    CubeCache,
    CubeCacheUpdate,
    clear_cube_cache,
    save_cube_cache,
)
from govsocial.synth import generate

SNAPSHOT_HEADER = ["platform", "account_platform_id", "captured_at", "followers"]
GAP_DAYS = 10  # a short follower gap: a new reading reaches a few weeks, not half the year
THEMES = (ThemeFilter("theme_0", ("PerubahanIklim", "SDGs"), ("iklim",)),)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cubecache")
    with Warehouse.open(folder / "w.duckdb", create=True) as wh:
        load_world(wh, generate(folder / "files", seed=7, posts=6_000))
    return folder


@pytest.fixture
def world(template: Path, tmp_path: Path) -> Iterator[Warehouse]:
    shutil.copyfile(template / "w.duckdb", tmp_path / "w.duckdb")
    shutil.copyfile(template / "files" / "registry.yaml", tmp_path / "registry.yaml")
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        yield wh


def scope(**changes: Any) -> Methodology:
    fields: dict[str, Any] = {"max_follower_gap_days": GAP_DAYS, **changes}
    return dataclasses.replace(load_methodology("gsm2025"), **fields)


# Sums of non-integer doubles: the engine adds a group's posts in no fixed order (DuckDB
# aggregates in parallel, and a plan over one week joins in another order than one over the
# year), so two passes, full or not, may differ in their last bits. Every other column is a
# count, a sum of whole numbers (exact in a double) or a maximum: exactly equal.
ORDER_DEPENDENT = {"sum_rate", "sum_log_positive", "sum_log2_positive", "sum_view_rate"}


def assert_same_cube(cached: pa.Table, full: pa.Table) -> None:
    """The same rows in the same order with the same values (the order-dependent sums to
    within rounding: a relative 1e-12, a few units in the last place)."""
    assert cached.schema == full.schema
    assert cached.num_rows == full.num_rows
    for name in full.column_names:
        if name in ORDER_DEPENDENT:
            mine = np.asarray(cached.column(name).to_numpy(zero_copy_only=False), float)
            theirs = np.asarray(full.column(name).to_numpy(zero_copy_only=False), float)
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12, err_msg=name)
        else:
            assert cached.column(name).equals(full.column(name)), name


def check(wh: Warehouse, m: Methodology, themes: tuple[ThemeFilter, ...] = THEMES) -> CachedCube:
    """The cached cube, which must be the full one; its weeks are then kept (as keep_run)."""
    with open_backend(wh) as backend:
        full = compute_cube(backend, m, themes)
        cached = cached_cube(backend, m, themes, CubeCache(wh))
    assert_same_cube(cached.table, full)
    assert cached.update is not None
    save_cube_cache(wh, cached.update)
    return cached


def week_start(m: Methodology, week: int) -> datetime:
    return m.period_start + timedelta(seconds=week * WEEK_SECONDS)


def one(wh: Warehouse, sql: str, params: list[Any] | None = None) -> Any:
    row = wh.con.execute(sql, params or []).fetchone()
    assert row is not None
    return row[0]


def in_scope_accounts(wh: Warehouse, m: Methodology) -> list[tuple[int, str, str]]:
    """(account id, platform, platform account id) of accounts with posts in scope."""
    rows = wh.con.execute(
        """SELECT DISTINCT a.account_id, a.platform, a.platform_account_id
           FROM accounts a JOIN institutions i USING (institution_id)
           JOIN posts p USING (account_id)
           WHERE i.cluster_id IN (SELECT unnest(?)) AND p.posted_at >= ? AND p.posted_at < ?
           ORDER BY 1""",
        [list(m.clusters), m.period_start, m.period_end],
    ).fetchall()
    return [(int(a), str(p), str(pid)) for a, p, pid in rows]


# ---------------------------------------------------------------- the changes


def add_day(wh: Warehouse, m: Methodology, folder: Path, week: int, tag: str = "new") -> None:
    """A day of new posts (some themed, a repost, a reply) in ``week``, as a daily file."""
    day = week_start(m, week) + timedelta(days=2, hours=3)
    rows = []
    for i, (_, platform, platform_id) in enumerate(in_scope_accounts(wh, m)[:12]):
        rows.append(
            post_row(
                platform=platform,
                account_platform_id=platform_id,
                post_id=f"{tag}-{week}-{i}",
                posted_at=(day + timedelta(minutes=7 * i)).isoformat(),
                captured_at=(day + timedelta(days=1)).isoformat(),
                media_type="video" if platform in ("youtube", "tiktok") else "image",
                text=f"Hari ini #PerubahanIklim {i}" if i % 3 == 0 else f"Kegiatan {i}",
                is_repost="true" if i == 4 else "false",
                is_reply_to_other="true" if i == 5 else "false",
                likes=str(10 * i + 3),
                reactions=str(12 * i + 1),
                comments=str(i),
                shares=str(i % 4),
                quotes="1" if platform == "x" else "",
                views=str(100 * i) if platform in ("youtube", "tiktok") else "",
            )
        )
    load_file(wh, write_csv(folder / f"{tag}-{week}.csv", rows), lambda p: stage(p))


def reimport(
    wh: Warehouse, folder: Path, week_from: datetime, week_to: datetime, text: str | None = None
) -> int:
    """Some posts of ``[week_from, week_to)`` read again a month later: a re-import of a later
    file, with 7 more likes each, or, if ``text`` is given, that text and the same counts.
    Returns how many posts."""
    rows = wh.con.execute(
        """SELECT p.platform, a.platform_account_id, p.platform_post_id, p.posted_at,
                  p.observed_at, p.media_type, p.text, p.url, p.is_repost, p.is_reply_to_other,
                  m.views, m.likes, m.reactions, m.comments, m.shares, m.quotes, m.saves
           FROM posts p JOIN accounts a USING (account_id)
           JOIN post_metrics_latest m USING (post_id)
           WHERE p.posted_at >= ? AND p.posted_at < ? ORDER BY p.post_id LIMIT 5""",
        [week_from, week_to],
    ).fetchall()
    assert rows, "no posts in that week to read again"

    def text_of(value: Any) -> str:
        return "" if value is None else str(value).lower() if isinstance(value, bool) else value

    out = []
    for platform, pid, post, posted, observed, media, old_text, url, repost, reply, *counts in rows:
        views, likes, reactions, comments, shares, quotes, saves = counts
        out.append(
            post_row(
                platform=platform,
                account_platform_id=pid,
                post_id=post,
                posted_at=posted.isoformat(),
                captured_at=(observed + timedelta(days=30)).isoformat(),
                media_type=media,
                text=text if text is not None else (old_text or ""),
                url=url or "",
                is_repost=text_of(repost),
                is_reply_to_other=text_of(reply),
                views=text_of(views),
                likes=text_of(likes) if text is not None else str((likes or 0) + 7),
                reactions=text_of(reactions),
                comments=text_of(comments),
                shares=text_of(shares),
                quotes=text_of(quotes),
                saves=text_of(saves),
            )
        )
    load_file(wh, write_csv(folder / f"again-{week_from:%Y%m%d}.csv", out), lambda p: stage(p))
    return len(out)


def add_reading(wh: Warehouse, folder: Path, account: int, at: datetime, followers: int) -> None:
    platform, pid = wh.con.execute(
        "SELECT platform, platform_account_id FROM accounts WHERE account_id = ?", [account]
    ).fetchone() or ("", "")
    row = {
        "platform": platform,
        "account_platform_id": pid,
        "captured_at": at.isoformat(),
        "followers": str(followers),
    }
    path = write_csv(folder / f"reading-{account}-{at:%Y%m%d}.csv", [row], SNAPSHOT_HEADER)
    load_file(wh, path, lambda p: stage(p))
    kept = "SELECT count(*) FROM account_snapshots WHERE account_id = ? AND captured_at = ?"
    assert one(wh, kept, [account, at]) == 1


def weeks_of_posts(
    wh: Warehouse, m: Methodology, account: int, near: tuple[datetime, datetime] | None = None
) -> set[int]:
    """The weeks in which ``account`` has posts (whose week window holds ``near``)."""
    weeks = {
        int((p - m.period_start).total_seconds() // WEEK_SECONDS)
        for (p,) in wh.con.execute(
            "SELECT posted_at FROM posts WHERE account_id = ? AND posted_at >= ? AND posted_at < ?",
            [account, m.period_start, m.period_end],
        ).fetchall()
    }
    if near is None:
        return weeks
    margin = timedelta(days=m.max_follower_gap_days + 1)
    return {
        w
        for w in weeks
        if week_start(m, w) - margin <= near[1] and near[0] <= week_start(m, w + 1) + margin
    }


# ---------------------------------------------------------------- identity, and what is recomputed


def test_a_warm_cache_recomputes_nothing_and_gives_the_full_cube(world: Warehouse) -> None:
    m = scope()
    first = check(world, m)
    assert first.computed == tuple(range(53))  # nothing kept yet: every week
    assert one(world, "SELECT count(*) FROM cube_cache_weeks") == 53
    assert one(world, "SELECT sum(cube_rows) FROM cube_cache_weeks") == first.table.num_rows
    again = check(world, m)
    assert again.computed == ()
    assert again.update is not None and again.update.computed == ()


def test_a_day_of_new_posts_recomputes_its_week_only(world: Warehouse, tmp_path: Path) -> None:
    m = scope()
    before = check(world, m).table
    add_day(world, m, tmp_path, week=50)
    after = check(world, m)
    assert after.computed == (50,)
    assert after.table.num_rows > before.num_rows  # the day did change the cube


def test_newer_counts_of_old_posts_recompute_their_week_only(
    world: Warehouse, tmp_path: Path
) -> None:
    m = scope()
    before = check(world, m).table
    posts = one(world, "SELECT count(*) FROM posts")
    reimport(world, tmp_path, week_start(m, 7), week_start(m, 8))
    assert one(world, "SELECT count(*) FROM posts") == posts  # counts only, no new post
    after = check(world, m)
    assert after.computed == (7,)
    assert not after.table.equals(before)


def test_a_new_text_recomputes_its_week(world: Warehouse, tmp_path: Path) -> None:
    m = scope()
    check(world, m)
    changed = reimport(world, tmp_path, week_start(m, 20), week_start(m, 21), "Aksi #SDGs")
    assert one(world, "SELECT count(*) FROM posts WHERE text = 'Aksi #SDGs'") == changed
    assert check(world, m).computed == (20,)


def test_a_post_changed_without_a_new_reading_recomputes_its_week(world: Warehouse) -> None:
    """As migration 6 did (it filled in is_reply_to_other of X posts): the posts themselves
    are fingerprinted, not only the readings imports add. A text counts only where theme
    filters read it."""
    m = scope()
    post, week = world.con.execute(
        "SELECT post_id, ? FROM posts WHERE posted_at >= ? AND posted_at < ? "
        "AND NOT is_repost ORDER BY post_id LIMIT 1",
        [9, week_start(m, 9), week_start(m, 10)],
    ).fetchall()[0]
    check(world, m)
    check(world, m, ())  # the same scope without theme filters: a scope of its own
    world.con.execute("UPDATE posts SET text = 'Aksi #PerubahanIklim' WHERE post_id = ?", [post])
    assert check(world, m).computed == (week,)
    assert check(world, m, ()).computed == ()  # no cube row of it reads a text
    world.con.execute("UPDATE posts SET is_reply_to_other = true WHERE post_id = ?", [post])
    assert check(world, m).computed == (week,)
    assert check(world, m, ()).computed == (week,)


def test_a_follower_reading_recomputes_the_weeks_it_can_reach(
    world: Warehouse, tmp_path: Path
) -> None:
    m = scope()
    account = one(  # the account with the most posts
        world,
        "SELECT account_id FROM posts WHERE posted_at >= ? AND posted_at < ? "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
        [m.period_start, m.period_end],
    )
    check(world, m)
    posted = one(
        world,
        "SELECT min(posted_at) FROM posts WHERE account_id = ? AND posted_at >= ?",
        [account, week_start(m, 30)],
    )
    at = posted + timedelta(days=3)
    add_reading(world, tmp_path, account, at, 123_456)
    after = check(world, m)
    reach = weeks_of_posts(world, m, account, (at, at))
    assert set(after.computed) == reach
    assert reach and len(reach) < 8  # a few weeks around the reading, not the year
    # A reading far from every post (the account has others) changes no cube row.
    add_reading(world, tmp_path, account, datetime(2020, 1, 1, tzinfo=UTC), 500)
    assert check(world, m).computed == ()


def test_a_first_reading_far_from_every_post_still_recomputes_the_accounts_weeks(
    world: Warehouse, tmp_path: Path
) -> None:
    """An account without readings has followers_source 'none'; once it has one, even far
    from its posts, they are 'too_far': every week of its posts changes."""
    m = scope()
    account = in_scope_accounts(world, m)[5][0]
    world.con.execute("DELETE FROM account_snapshots WHERE account_id = ?", [account])
    check(world, m)
    add_reading(world, tmp_path, account, datetime(2020, 1, 1, tzinfo=UTC), 500)
    after = check(world, m)
    assert set(after.computed) == weeks_of_posts(world, m, account)


def test_a_registry_change_recomputes_everything(world: Warehouse, tmp_path: Path) -> None:
    m = scope()
    check(world, m)
    path = tmp_path / "registry.yaml"
    registry = yaml.safe_load(path.read_text(encoding="utf-8"))
    first, second = [i for i in registry["institutions"] if i["cluster"] == "kementerian"][:2]
    second["accounts"].append(first["accounts"].pop(0))  # an account changes hands
    path.write_text(yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8")
    apply_registry(world, read_registry(path, known_clusters(world)), path)
    after = check(world, m)
    assert after.computed == tuple(range(53))


def test_each_scope_field_is_a_scope_of_its_own(world: Warehouse) -> None:
    m = scope()
    check(world, m)
    for other in (
        scope(max_follower_gap_days=GAP_DAYS + 1),
        scope(interactions_version=1),
        scope(platforms=("instagram", "x")),
        scope(clusters=("pemda",)),
        scope(period_end=m.period_end - timedelta(days=1)),
    ):
        assert check(world, other).computed == tuple(range(weeks_in_period(other)))
    themed = (ThemeFilter("theme_0", ("SDGs",), ()),)
    assert check(world, m, themed).computed == tuple(range(53))
    assert one(world, "SELECT count(*) FROM cube_cache_scopes") == KEEP_SCOPES


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    changes=st.lists(
        st.tuples(
            st.sampled_from(["day", "counts", "reading", "text"]),
            st.integers(0, 52),
            st.integers(0, 40),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_any_sequence_of_imports_keeps_the_cached_cube_equal_to_the_full_one(
    template: Path, tmp_path_factory: pytest.TempPathFactory, changes: list[tuple[str, int, int]]
) -> None:
    folder = tmp_path_factory.mktemp("sequence")
    shutil.copyfile(template / "w.duckdb", folder / "w.duckdb")
    m = scope()
    with Warehouse.open(folder / "w.duckdb") as wh:
        check(wh, m)
        for step, (kind, week, pick) in enumerate(changes):
            accounts = in_scope_accounts(wh, m)
            start, end = week_start(m, week), week_start(m, week + 1)
            if kind == "day":
                add_day(wh, m, folder, week, tag=f"s{step}")
                expected = {week}
            elif kind == "reading":
                account = accounts[pick % len(accounts)][0]
                at = start + timedelta(hours=5 * pick)
                add_reading(wh, folder, account, at, 1_000 + pick)
                expected = weeks_of_posts(wh, m, account, (at, at))
            else:
                has_posts = one(
                    wh,
                    "SELECT count(*) FROM posts WHERE posted_at >= ? AND posted_at < ?",
                    [start, end],
                )
                if not has_posts:
                    continue
                reimport(wh, folder, start, end, f"Baru #SDGs {step}" if kind == "text" else None)
                expected = {week}
            assert set(check(wh, m).computed) == expected, (kind, week, pick)


def test_spark_computes_the_whole_cube_and_keeps_nothing(world: Warehouse) -> None:
    """Spark's hash functions differ and it reads Parquet exported for each run: no cache."""
    m = scope()
    check(world, m)
    with open_backend(world) as duckdb:

        class Spark(Backend):  # the DuckDB backend, under Spark's name
            def to_arrow(self, expr: Any) -> pa.Table:
                return duckdb.to_arrow(expr)

        tables = {name: duckdb.table(name) for name in RELATIONS}
        spark = Spark("spark", duckdb.con, tables, None)
        full = compute_cube(duckdb, m, THEMES)
        result = cached_cube(spark, m, THEMES, CubeCache(world))
    assert result.update is None
    assert result.computed == tuple(range(53))
    assert_same_cube(result.table, full)


# ---------------------------------------------------------------- the store


def test_damaged_or_cleared_weeks_are_recomputed(world: Warehouse) -> None:
    m = scope()
    check(world, m)
    world.con.execute("UPDATE cube_cache_weeks SET cube = 'garbage'::BLOB WHERE week = 3")
    assert check(world, m).computed == (3,)
    assert clear_cube_cache(world) == 53
    assert check(world, m).computed == tuple(range(53))


def test_fingerprints_cover_every_week_and_change_only_where_data_changed(
    world: Warehouse, tmp_path: Path
) -> None:
    m = scope()
    with open_backend(world) as backend:
        before = week_fingerprints(backend, m)
    add_day(world, m, tmp_path, week=12)
    with open_backend(world) as backend:
        after = week_fingerprints(backend, m)
    assert sorted(before) == list(range(53))
    assert {w for w in before if before[w] != after[w]} == {12}


# ---------------------------------------------------------------- the award run


def test_a_kept_run_keeps_the_cube_and_the_next_run_recomputes_the_new_day_only(
    template: Path, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copyfile(template / "w.duckdb", db)
    m = load_methodology("gsm2025")
    first = run_and_keep(db, "gsm2025", "duckdb", replicates=5)
    assert first.cube_cache is not None and len(first.cube_cache.computed) == 53
    with Warehouse.open(db) as wh:
        assert one(wh, "SELECT count(*) FROM cube_cache_weeks") == 53
        add_day(wh, m, tmp_path, week=44)
    second = run_and_keep(db, "gsm2025", "duckdb", replicates=5)  # computed read-only
    assert second.cube_cache is not None
    assert [w.week for w in second.cube_cache.computed] == [44]
    with Warehouse.open(db, read_only=True) as wh:
        plain = run_awards(wh, m, replicates=5, use_cache=False)
        cached = run_awards(wh, m, replicates=5)
    assert plain.cube_cache is None
    assert second.text == plain.text == cached.text
    assert cached.cube_cache is not None and cached.cube_cache.computed == ()
    assert second.document["data"]["posts_in_scope"] > first.document["data"]["posts_in_scope"]


def test_the_weeks_kept_add_up_to_the_cube(world: Warehouse) -> None:
    with open_backend(world) as backend:
        result = cached_cube(backend, scope(), THEMES, CubeCache(world))
    assert isinstance(result.update, CubeCacheUpdate)
    kept = pa.concat_tables(w.rows for w in result.update.computed)
    keys = [(k, "ascending") for k in result.table.column_names[:8]]
    assert kept.sort_by(keys).equals(result.table)  # the very rows of the cube, split by week
