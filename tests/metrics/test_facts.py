"""Post facts: the two forms of 'followers at posting time' agree, and interactions follow
the versioned per-platform definition."""

from pathlib import Path

import pytest

from govsocial.demo import load_world
from govsocial.metrics.backend import open_backend
from govsocial.metrics.facts import followers_at_post
from govsocial.metrics.interactions import DEFINITIONS, interactions
from govsocial.store import Warehouse
from govsocial.synth import generate


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("facts")
    db = folder / "w.duckdb"
    with Warehouse.open(db, create=True) as wh:
        load_world(wh, generate(folder / "files", seed=3, posts=20_000))
        # one account loses its early snapshots: its first posts precede its first reading
        wh.con.execute(
            "DELETE FROM account_snapshots WHERE account_id = 5 "
            "AND captured_at < TIMESTAMPTZ '2025-01-01 00:00:00+00'"
        )
    return db


def test_interval_join_agrees_with_duckdb_asof_join(world: Path) -> None:
    with Warehouse.open(world, read_only=True) as wh, open_backend(wh) as backend:
        posts = backend.table("posts").select("post_id", "account_id", "posted_at")
        snaps = backend.table("account_snapshots").select("account_id", "captured_at", "followers")
        portable = backend.to_arrow(followers_at_post(posts, snaps).order_by("post_id"))
        # The oracle: DuckDB's own ASOF JOIN, falling back to the account's first reading.
        oracle = wh.con.execute("""
            SELECT p.post_id, p.account_id, p.posted_at,
                   coalesce(s.followers, f.first) AS followers_at_post,
                   CASE WHEN s.followers IS NOT NULL THEN 'before'
                        WHEN f.first IS NOT NULL THEN 'after' ELSE 'none' END AS followers_source
            FROM posts p
            ASOF LEFT JOIN account_snapshots s
              ON p.account_id = s.account_id AND p.posted_at >= s.captured_at
            LEFT JOIN (SELECT account_id, arg_min(followers, captured_at) AS first
                       FROM account_snapshots GROUP BY 1) f ON f.account_id = p.account_id
            ORDER BY p.post_id""").fetchall()
    assert portable.column_names == [
        "post_id",
        "account_id",
        "posted_at",
        "followers_at_post",
        "followers_source",
    ]
    rows = [tuple(r.values()) for r in portable.to_pylist()]
    assert rows == oracle
    assert {r[4] for r in rows} == {"before", "after"}  # account 5's early posts: first reading


def test_interactions_definition_version_1(world: Path) -> None:
    assert DEFINITIONS[1]["x"] == ("likes", "shares", "comments", "quotes", "saves")
    with Warehouse.open(world, read_only=True) as wh, open_backend(wh) as backend:
        m = backend.table("post_metrics_latest")
        p = backend.table("posts").select("post_id", "platform")
        t = p.join(m, "post_id")
        got = backend.to_arrow(
            t.select(
                "platform",
                "likes",
                "reactions",
                "comments",
                "shares",
                "quotes",
                "saves",
                n=interactions(t, 1),
            ).limit(2000)
        )
    for row in got.to_pylist():
        v = {
            k: row[k] or 0 for k in ("likes", "reactions", "comments", "shares", "quotes", "saves")
        }
        expected = {
            "facebook": (row["reactions"] if row["reactions"] is not None else v["likes"])
            + v["comments"]
            + v["shares"],
            "instagram": v["likes"] + v["comments"] + v["saves"],
            "x": v["likes"] + v["shares"] + v["comments"] + v["quotes"] + v["saves"],
            "youtube": v["likes"] + v["comments"],
            "tiktok": v["likes"] + v["comments"] + v["shares"],
        }[row["platform"]]
        assert row["n"] == expected
