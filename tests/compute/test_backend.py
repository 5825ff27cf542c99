"""The compute layer: one Ibis expression, the same result on DuckDB and on Spark.

:data:`PORTABLE` lists the Ibis operations the metrics rely on; each runs on both engines and
must give identical rows and Arrow types (floats within 1e-9 relative). :data:`NOT_PORTABLE`
records what does *not* carry over with Ibis 12 (DuckDB 2, PySpark 4), each with what to write
instead; the test checks they still behave as written here, so this list stays true:

- ``x.first(order_by=...)`` / ``.last(order_by=...)`` / ``.collect(order_by=...)``: refused for
  PySpark. Use ``x.argmax(key)`` / ``x.argmin(key)``, or ``row_number()`` over a window and a
  filter.
- ``x.mode()``: no PySpark rule. Count per value, then ``argmax`` of the count.
- ``a.corr(b)`` (sample): DuckDB only has ``how="pop"``; ``a.corr(b, how="pop")`` runs on both,
  but where one side is constant it is NaN on DuckDB and an error on Spark (check the
  variances first).
- ``ts1 - ts2`` (an interval): DuckDB's interval does not convert to Arrow. Use
  ``ts1.delta(ts2, unit="second")`` or the difference of ``epoch_seconds()``.
- ``array[i]`` past the end: NULL on DuckDB, an error on Spark (ANSI mode, Spark 4's default).
  Guard with ``array.length() > i``.
- ``array.join(",")`` of an empty array: ``''`` on DuckDB, NULL on Spark (``fill_null("")``).
- ``array.union(other)``: elements come in a different order (``.sort()`` it; seen, not tested).
- ``x / 0``: ``inf``/``NaN`` on DuckDB, an error on Spark; ``ln(0)``/``ln(x<0)``: ``-inf``/``NaN``
  on DuckDB, NULL on Spark. Guard the divisor (``ifelse(d > 0, n / d, None)``) and keep
  logarithms' arguments positive (``(rate + eps).ln()``).
- Order-free aggregates (``first()``, ``collect()`` without ``order_by``, ``approx_*``) run on
  both but need not agree.

Follower counts at posting time without ASOF JOIN (:func:`followers_at_posting`) are checked
against DuckDB's ASOF JOIN.
"""

from __future__ import annotations

import ast
import math
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ibis import _

from conftest import post_row, scalar, write_csv
from govsocial.compute import spark as spark_module
from govsocial.compute.backend import ENGINES, RELATIONS, Backend, open_backend
from govsocial.errors import ConfigError, StoreError, UsageError
from govsocial.sources.generic import stage
from govsocial.store import Warehouse, load_file
from govsocial.store.export import export_relations

# A bare +07:00 offset (Jakarta time without its name): Ibis writes a named zone as its
# name, which DuckDB does not know, so the methodology converts periods to UTC first.
PLUS_7 = timezone(timedelta(hours=7))

SNAPSHOT_HEADER = ["platform", "account_platform_id", "account_handle", "captured_at", "followers"]
CAPTURED = "2025-03-25T00:00:00Z"

IG = {"platform": "instagram", "account_platform_id": "1001", "account_handle": ""}
X = {"platform": "x", "account_platform_id": "", "account_handle": "JabarProvGov"}
YT = {"platform": "youtube", "account_platform_id": "UC123", "account_handle": ""}
TT = {"platform": "tiktok", "account_platform_id": "", "account_handle": "@DiskominfoJabar"}

POSTS: list[dict[str, Any]] = [
    {**IG, "post_id": "p1", "posted_at": "2025-03-01T01:00:00Z", "text": "Halo #Jabar"},
    {
        **IG,
        "post_id": "p2",
        "posted_at": "2025-03-03T00:00:00Z",  # exactly when a follower snapshot was taken
        "media_type": "video",
        "text": "Vaksinasi #SDGs #Jabar",
        "views": 500,
        "likes": 40,
        "comments": 5,
        "shares": 3,
        "video_duration_s": 30,
    },
    {
        **IG,
        "post_id": "p3",
        "posted_at": "2025-03-10T08:00:00+07:00",
        "media_type": "carousel",
        "text": "Rapat dengan @kemenkes",
        "likes": 0,
        "comments": None,
    },
    {
        **IG,
        "post_id": "p4",
        "posted_at": "2025-03-17T23:59:59Z",  # a Monday, just before WIB's Tuesday
        "media_type": "reel",
        "text": "#sdgs di mana-mana",
        "views": 1000,
        "likes": 40,
    },
    {
        **X,
        "post_id": "x0",
        "posted_at": "2024-12-30T10:00:00Z",
        "media_type": "text",
        "text": "Selamat tahun baru",
        "likes": 1,
        "comments": None,
    },  # ISO week 1 of 2025
    {
        **X,
        "post_id": "x1",
        "posted_at": "2025-03-02T12:00:00Z",
        "media_type": "text",
        "text": "Info #PEMILU",
        "likes": 5,
        "shares": 7,
        "quotes": 1,
    },
    {
        **X,
        "post_id": "x2",
        "posted_at": "2025-03-09T12:00:00Z",
        "media_type": "link",
        "text": "RT #sdgs",
        "is_repost": "true",
        "likes": 2,
    },
    {
        **YT,
        "post_id": "v1",
        "posted_at": "2025-03-05T00:00:00Z",
        "media_type": "video",
        "text": None,
        "views": 100,
        "likes": 3,
        "video_duration_s": 600,
    },
    {
        **YT,
        "post_id": "v2",
        "posted_at": "2025-03-20T00:00:00Z",
        "media_type": "video",
        "text": "Cek kesehatan",
        "views": 250,
        "likes": None,
        "comments": None,
    },
    {
        **TT,
        "post_id": "t1",
        "posted_at": "2025-03-04T00:00:00Z",
        "media_type": "reel",
        "text": "Tarian #Jabar",
        "views": 1000,
        "likes": 100,
    },
]
# A later reading of p1's counts: post_metrics_latest must pick it.
LATER = {**POSTS[0], "captured_at": "2025-03-26T00:00:00Z", "likes": 12, "comments": 3}

SNAPSHOTS = [
    (IG, "2025-03-01T00:00:00Z", 100),
    (IG, "2025-03-03T00:00:00Z", 150),
    (IG, "2025-03-15T00:00:00Z", 180),
    (X, "2025-03-01T00:00:00Z", 50),
    (X, "2025-03-08T00:00:00Z", 60),
    (YT, "2025-03-10T00:00:00Z", 1000),
]

# Followers at posting time: the latest snapshot at or before the post (None: none before).
FOLLOWERS_AT_POSTING = {
    "p1": 100,
    "p2": 150,
    "p3": 150,
    "p4": 180,
    "x0": None,
    "x1": 50,
    "x2": 60,
    "v1": None,
    "v2": 1000,
    "t1": None,
}


def build_world(wh: Warehouse, folder: Path) -> None:
    """Two institutions, four accounts (one unassigned), ten posts, six follower snapshots."""
    rows = [post_row(captured_at=CAPTURED, **p) for p in POSTS] + [post_row(**LATER)]
    summary = load_file(wh, write_csv(folder / "posts.csv", rows), stage)
    assert (summary.posts_new, summary.quarantined_total) == (len(POSTS), 0)
    snapshots = [
        {**account, "captured_at": at, "followers": followers}
        for account, at, followers in SNAPSHOTS
    ]
    path = write_csv(folder / "followers.csv", snapshots, SNAPSHOT_HEADER)
    assert load_file(wh, path, stage).snapshots_new == len(SNAPSHOTS)


def scalar_rows(wh: Warehouse, sql: str) -> list[tuple[Any, ...]]:
    return wh.con.execute(sql).fetchall()


@pytest.fixture
def world(registered: Warehouse, tmp_path: Path) -> Warehouse:
    build_world(registered, tmp_path)
    return registered


# -- the operations metrics use, on both engines ----------------------------------------------
Case = Callable[[Backend], Any]


def _posts_with_counts(b: Backend) -> Any:
    posts, latest = b.table("posts"), b.table("post_metrics_latest")
    return posts.join(latest.drop("captured_at", "batch_id"), "post_id")


def _cumulative_max(b: Backend) -> Any:
    p = _posts_with_counts(b)
    running = ibis.window(group_by=p.account_id, order_by=p.posted_at, rows=(None, 0))
    return p.select(
        "post_id",
        best_so_far=p.likes.max().over(running),
        best_so_far_method=p.likes.cummax(group_by=p.account_id, order_by=p.posted_at),
    )


def _ranks(b: Backend) -> Any:
    p = _posts_with_counts(b)
    by_account = ibis.window(group_by=p.account_id, order_by=p.posted_at)
    by_likes = ibis.window(group_by=p.platform, order_by=p.likes)  # ties and NULLs
    return p.select(
        "post_id",
        nth=ibis.row_number().over(by_account),  # 0-based in Ibis, on both engines
        pct=ibis.percent_rank().over(by_likes),
        rank=ibis.rank().over(by_likes),
        dense=ibis.dense_rank().over(by_likes),
        cume=ibis.cume_dist().over(by_likes),
        previous=p.posted_at.lag().over(by_account),
        following=p.posted_at.lead().over(by_account),
        pct_method=p.likes.percent_rank(),
    )


def _aggregates(b: Backend) -> Any:
    owners = b.table("accounts").select("account_id", "institution_id")
    p = _posts_with_counts(b).join(owners, "account_id")
    return p.group_by("institution_id").aggregate(  # NULL (unassigned) is a group too
        posts=p.count(),
        likes=p.likes.sum(),
        mean_likes=p.likes.mean(),
        most_likes=p.likes.max(),
        fewest_views=p.views.min(),
        first_post=p.posted_at.min(),
        last_post=p.posted_at.max(),
        accounts=p.account_id.nunique(),
        platforms=p.platform.nunique(),
        videos=p.count(where=p.media_type == "video"),
        video_views=p.views.sum(where=p.media_type == "video"),
        share_video=(p.media_type == "video").mean(),
        median_likes=p.likes.median(),
        q90_likes=p.likes.quantile(0.9),
        sd_likes=p.likes.std(),
        var_likes=p.likes.var(),
        cov=p.likes.cov(p.views, how="pop"),
        latest_post=p.post_id.argmax(p.posted_at),
        earliest_post=p.post_id.argmin(p.posted_at),
    )


def _math(b: Backend) -> Any:
    p = _posts_with_counts(b)
    likes = p.likes.fill_null(0)
    return p.select(
        "post_id",
        ln=(likes + 1).log(),
        ln2=(likes + 0.5).ln(),
        log10=(likes + 1).log10(),
        log2=(likes + 1).log(2),
        exp=(likes / 100).exp(),
        sqrt=likes.sqrt(),
        power=likes.pow(2),
        ratio=likes / (p.views.fill_null(0) + 1),
        floor_div=likes // 3,
        rounded=(likes / 7).round(3),
        floor=(likes / 7).floor(),
        ceil=(likes / 7).ceil(),
        clipped=likes.clip(lower=2, upper=10),
        biggest=ibis.greatest(likes, 5),
        smallest=ibis.least(likes, 5),
        guarded=ibis.ifelse(p.views > 0, likes / p.views, None),
    )


def _union(b: Backend) -> Any:
    posts, snaps = b.table("posts"), b.table("account_snapshots")
    events = posts.select("account_id", ts=posts.posted_at, kind=ibis.literal("post")).union(
        snaps.select("account_id", ts=snaps.captured_at, kind=ibis.literal("snapshot"))
    )
    once = posts.select("account_id").union(snaps.select("account_id"), distinct=True)
    counted = events.group_by("account_id", "kind").aggregate(n=_.count(), last=_.ts.max())
    return counted.left_join(once.mutate(seen=True), "account_id").drop("account_id_right")


def _weeks(b: Backend) -> Any:
    p = b.table("posts")
    return p.select(
        "post_id",
        week=p.posted_at.truncate("W"),  # Monday 00:00 UTC on both
        day=p.posted_at.truncate("D"),
        wib_day=(p.posted_at + ibis.interval(hours=7)).truncate("D"),
        week_of_year=p.posted_at.week_of_year(),  # ISO week: x0 (2024-12-30) is week 1
        year=p.posted_at.year(),
        weekday=p.posted_at.day_of_week.index(),
        hour=p.posted_at.hour(),
        date=p.posted_at.date(),
        epoch=p.posted_at.epoch_seconds(),
        seen_after_s=p.observed_at.delta(p.posted_at, unit="second"),
        text=p.posted_at.strftime("%Y-%m-%d %H:%M"),
    )


def _active_weeks(b: Backend) -> Any:
    p = b.table("posts")
    return p.group_by("account_id").aggregate(
        active_weeks=p.posted_at.truncate("W").nunique(), posts=p.count()
    )


def _time_filters(b: Backend) -> Any:
    p = b.table("posts")
    start, end = datetime(2025, 3, 3, tzinfo=UTC), datetime(2025, 3, 17, 7, tzinfo=PLUS_7)
    flags = {
        "utc_range": (p.posted_at >= start) & (p.posted_at < end),
        "wib_literal": p.posted_at >= datetime(2025, 3, 10, 8, tzinfo=PLUS_7),  # = p3 exactly
        "between": p.posted_at.between(start, end),
        "text_literal": p.posted_at < ibis.timestamp("2025-03-05T00:00:00+00:00"),
        "typed_literal": p.posted_at < ibis.literal(start, "timestamp('UTC')"),
        "plus_week": p.posted_at + ibis.interval(days=7) > p.observed_at,
    }
    return p.select("post_id", **flags)


def _filtered_window(b: Backend) -> Any:
    p = b.table("posts")
    period = p.filter(p.posted_at >= datetime(2025, 3, 1, tzinfo=UTC), ~p.is_repost)
    return period.group_by("account_id").aggregate(n=_.count(), first=_.posted_at.min())


def _conditionals(b: Backend) -> Any:
    p = _posts_with_counts(b)
    return p.select(
        "post_id",
        weight=ibis.cases((p.media_type == "video", 2.0), (p.media_type == "reel", 1.5), else_=1.0),
        kind=p.media_type.cases(("video", "moving"), ("reel", "moving"), else_="still"),
        repost=ibis.ifelse(p.is_repost, 1, 0),
        visual=p.media_type.isin(["image", "video", "reel", "carousel"]),
        not_visual=p.media_type.notin(["image", "video", "reel", "carousel"]),
        views=p.views.fill_null(0),
        interactions=p.likes.fill_null(0) + p.comments.fill_null(0) + p.shares.fill_null(0),
        reach=ibis.coalesce(p.views, p.likes, 0),
        no_one=p.likes.nullif(0),
        has_duration=p.video_duration_s.notnull(),
    )


def _arrays_and_text(b: Backend) -> Any:
    p = b.table("posts")
    themes = ibis.literal(["sdgs", "pemilu"])
    return p.select(
        "post_id",
        "hashtags",
        "mentions",
        sdgs=p.hashtags.contains("sdgs"),
        any_theme=p.hashtags.intersect(themes).length() > 0,
        n_tags=p.hashtags.length(),
        other_tags=p.hashtags.filter(lambda h: h != "jabar"),
        upper_tags=p.hashtags.map(lambda h: h.upper()),
        sorted_tags=p.hashtags.sort(),
        theme_hits=p.hashtags.filter(lambda h: h.isin(["sdgs", "pemilu"])).length(),
        in_text=p.text.lower().contains("sdgs"),
        starts=p.text.lower().startswith("halo"),
        tag=p.text.re_search(r"#[A-Za-z]+"),
        length=p.text.length(),
        text=p.text.fill_null(""),
    )


def _unnest(b: Backend) -> Any:
    p = b.table("posts")
    tags = p.select("account_id", tag=p.hashtags.unnest())
    return tags.group_by("account_id", "tag").aggregate(n=_.count())


def _joins(b: Backend) -> Any:
    accounts, posts = b.table("accounts"), b.table("posts")
    counts = posts.group_by("account_id").aggregate(n=_.count())
    weights = ibis.memtable(pa.table({"platform": ["instagram", "youtube"], "weight": [1.0, 2.0]}))
    joined = (
        accounts.left_join(counts, "account_id")
        .left_join(b.table("institutions"), "institution_id")
        .left_join(weights, "platform")
    )
    return joined.select(
        "account_id",
        "platform",
        "cluster_id",
        posts=joined.n.fill_null(0),
        weight=joined.weight.fill_null(1.0),
        posted=accounts.account_id.isin(posts.account_id),
    )


def _semi_anti(b: Backend) -> Any:
    accounts, snaps = b.table("accounts"), b.table("account_snapshots")
    with_snap = accounts.semi_join(snaps, "account_id").select("account_id", has=ibis.literal(1))
    without = accounts.anti_join(snaps, "account_id").select("account_id", has=ibis.literal(0))
    return with_snap.union(without)


PORTABLE: dict[str, tuple[Case, list[str]]] = {
    # name: (expression, unique sort key)
    "joins, group_by/aggregate": (_aggregates, ["institution_id"]),
    "math: log, exp, sqrt, ...": (_math, ["post_id"]),
    "cumulative max window": (_cumulative_max, ["post_id"]),
    "row_number, percent_rank, rank, lag/lead": (_ranks, ["post_id"]),
    "union (all and distinct)": (_union, ["account_id", "kind"]),
    "week truncation and time parts": (_weeks, ["post_id"]),
    "active weeks": (_active_weeks, ["account_id"]),
    "tz-aware timestamp literals": (_time_filters, ["post_id"]),
    "filter then aggregate": (_filtered_window, ["account_id"]),
    "case, ifelse, isin, fill_null": (_conditionals, ["post_id"]),
    "arrays and strings": (_arrays_and_text, ["post_id"]),
    "unnest": (_unnest, ["account_id", "tag"]),
    "left joins, memtable, isin column": (_joins, ["account_id"]),
    "semi and anti joins": (_semi_anti, ["account_id"]),
    "scalar": (lambda b: b.table("posts").count().name("n"), []),
    "column": (lambda b: b.table("posts").platform_post_id, ["platform_post_id"]),
}


def _run(b: Backend, case: Case, keys: list[str]) -> pa.Table:
    expr = case(b)
    if keys:
        expr = expr.as_table().order_by(keys)
    return b.to_arrow(expr)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _rows(result: pa.Table | str) -> list[dict[str, Any]]:
    assert isinstance(result, pa.Table), result
    return list(result.to_pylist())


def _outcome(b: Backend, case: Case, keys: list[str]) -> pa.Table | str:
    try:
        return _run(b, case, keys)
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}"


NOT_PORTABLE: dict[str, tuple[Case, str, str]] = {
    # name: (expression, what DuckDB does, what Spark does): "ok" or the error's class name
    "first(order_by=)": (
        lambda b: b.table("posts").aggregate(f=_.post_id.first(order_by=_.posted_at)),
        "ok",
        "UnsupportedOperationError",
    ),
    "collect(order_by=)": (
        lambda b: b.table("posts").aggregate(f=_.post_id.collect(order_by=_.posted_at)),
        "ok",
        "UnsupportedOperationError",
    ),
    "mode()": (
        lambda b: b.table("posts").aggregate(m=_.account_id.mode()),
        "ok",
        "OperationNotDefinedError",
    ),
    "corr() (sample)": (
        lambda b: b.table("posts").aggregate(c=_.post_id.corr(_.account_id)),
        "UnsupportedOperationError",
        "ok",
    ),
    "corr() of a constant": (
        lambda b: b.table("posts").aggregate(c=_.account_id.corr(_.post_id * 0, how="pop")),
        "ok",  # NaN
        "ArithmeticException",  # DIVIDE_BY_ZERO
    ),
    "timestamp - timestamp": (
        lambda b: b.table("posts").select(d=_.observed_at - _.posted_at),
        "ArrowNotImplementedError",
        "ok",
    ),
    "array index past the end": (
        lambda b: b.table("posts").select(t=_.mentions[0]),
        "ok",
        "ArrayIndexOutOfBoundsException",
    ),
    "division by zero": (
        lambda b: b.table("posts").select(r=_.post_id / 0),
        "ok",
        "ArithmeticException",
    ),
}


def _not_portable_outcomes(b: Backend) -> dict[str, str]:
    found = {}
    for name, (case, *_expected) in NOT_PORTABLE.items():
        result = _outcome(b, case, [])
        found[name] = "ok" if isinstance(result, pa.Table) else result
    # Value differences (no error on either side), recorded with their values.
    posts = b.table("posts").filter(_.platform_post_id == "v1")
    found["ln(0), ln(-1), empty join"] = repr(
        b.to_arrow(
            posts.select(
                zero=(_.post_id - _.post_id).ln(),
                negative=(-_.post_id).ln(),
                joined=_.mentions.join(","),
            )
        ).to_pylist()
    )
    return found


def test_every_operation_metrics_use_gives_the_same_result_on_both_engines(
    world: Warehouse,
) -> None:
    results: dict[str, dict[str, pa.Table | str]] = {}
    odd: dict[str, dict[str, str]] = {}
    schemas = {}
    for engine in ENGINES:
        with open_backend(world, engine) as b:
            assert b.engine == engine
            schemas[engine] = [b.table(name).schema() for name in RELATIONS]
            results[engine] = {
                name: _outcome(b, case, keys) for name, (case, keys) in PORTABLE.items()
            }
            odd[engine] = _not_portable_outcomes(b)
    assert schemas["duckdb"] == schemas["spark"]  # the same Ibis types, nullability included
    problems = []
    for name in PORTABLE:
        duck, spark = results["duckdb"][name], results["spark"][name]
        if isinstance(duck, str) or isinstance(spark, str):
            outcomes = [r if isinstance(r, str) else "ok" for r in (duck, spark)]
            problems.append(f"{name}: duckdb {outcomes[0]}, spark {outcomes[1]}")
        elif duck.schema != spark.schema:
            problems.append(f"{name}: types differ\n  duckdb {duck.schema}\n  spark {spark.schema}")
        elif not _same(duck.to_pylist(), spark.to_pylist()):
            problems.append(
                f"{name}: rows differ\n  duckdb {duck.to_pylist()}\n  spark {spark.to_pylist()}"
            )
    assert not problems, "\n".join(problems)

    # A few results checked by hand, so agreement is not agreement on something wrong.
    weeks = {r["post_id"]: r for r in _rows(results["duckdb"]["week truncation and time parts"])}
    ids = dict(scalar_rows(world, "SELECT platform_post_id, post_id FROM posts"))
    assert weeks[ids["x0"]]["week_of_year"] == 1 and weeks[ids["x0"]]["year"] == 2024
    assert weeks[ids["p4"]]["week"] == datetime(2025, 3, 17, tzinfo=UTC)
    assert weeks[ids["p4"]]["wib_day"] == datetime(2025, 3, 18, tzinfo=UTC)
    arrays = {r["post_id"]: r for r in _rows(results["spark"]["arrays and strings"])}
    assert arrays[ids["p2"]]["hashtags"] == ["jabar", "sdgs"] and arrays[ids["p2"]]["sdgs"]
    assert arrays[ids["x1"]]["any_theme"] and not arrays[ids["t1"]]["any_theme"]
    active = [r["active_weeks"] for r in _rows(results["spark"]["active weeks"])]
    assert sorted(active) == [1, 2, 3, 4]
    table = results["spark"]["joins, group_by/aggregate"]
    assert isinstance(table, pa.Table)
    assert table.schema.field("first_post").type == pa.timestamp("us", tz="UTC")
    assert table.column("institution_id").to_pylist() == ["jabarprov", "kemenkes", None]

    for name, (_case, *expected) in NOT_PORTABLE.items():
        for engine, outcome in zip(ENGINES, expected, strict=True):
            found = odd[engine][name]
            assert found == "ok" if outcome == "ok" else found.startswith(outcome), (name, found)
    assert odd["duckdb"]["ln(0), ln(-1), empty join"] == (
        "[{'zero': -inf, 'negative': nan, 'joined': ''}]"
    )
    assert odd["spark"]["ln(0), ln(-1), empty join"] == (
        "[{'zero': None, 'negative': None, 'joined': None}]"
    )


# -- followers at posting time without ASOF JOIN -----------------------------------------------
def followers_at_posting(b: Backend) -> Any:
    """post_id → followers of its account at the latest snapshot at or before the post.

    Posts and snapshots in one time line per account; a running max of the snapshot times
    (snapshots sort before posts at the same instant) gives each post its latest snapshot
    time, joined back to the snapshots for the count. NULL if the account had none yet.
    """
    posts, snaps = b.table("posts"), b.table("account_snapshots")
    events = posts.select(
        "account_id", "post_id", ts=posts.posted_at, is_snapshot=ibis.literal(0)
    ).union(
        snaps.select(
            "account_id",
            post_id=ibis.null("int64"),
            ts=snaps.captured_at,
            is_snapshot=ibis.literal(1),
        )
    )
    timeline = ibis.window(
        group_by=events.account_id,
        order_by=[events.ts, events.is_snapshot.desc()],
        rows=(None, 0),
    )
    snap_ts = ibis.ifelse(events.is_snapshot == 1, events.ts, ibis.null("timestamp('UTC')"))
    tagged = events.mutate(snapshot_at=snap_ts.max().over(timeline))
    at_post = tagged.filter(tagged.is_snapshot == 0)
    joined = at_post.left_join(
        snaps,
        [at_post.account_id == snaps.account_id, at_post.snapshot_at == snaps.captured_at],
    )
    return joined.select(
        at_post.post_id, snapshot_at=at_post.snapshot_at, followers=snaps.followers
    )


ASOF = """
    SELECT p.post_id, s.captured_at AS snapshot_at, s.followers
    FROM posts p ASOF LEFT JOIN account_snapshots s
      ON p.account_id = s.account_id AND p.posted_at >= s.captured_at
    ORDER BY p.post_id
"""


def test_followers_at_posting_time_match_duckdbs_asof_join_on_both_engines(
    world: Warehouse,
) -> None:
    asof = scalar_rows(world, ASOF)
    names = dict(scalar_rows(world, "SELECT post_id, platform_post_id FROM posts"))
    assert {names[post_id]: f for post_id, _at, f in asof} == FOLLOWERS_AT_POSTING
    for engine in ENGINES:
        with open_backend(world, engine) as b:
            rows = b.to_arrow(followers_at_posting(b).order_by("post_id")).to_pylist()
        assert [tuple(r.values()) for r in rows] == asof, engine


# -- the backend itself ------------------------------------------------------------------------
def test_duckdb_backend_uses_the_warehouse_connection_and_puts_its_settings_back(
    world: Warehouse, tmp_path: Path
) -> None:
    settings = "SELECT current_setting('python_enable_replacements'), current_setting('TimeZone')"
    before = scalar_rows(world, settings)
    assert scalar(world, "SELECT current_setting('TimeZone')") == "UTC"
    with open_backend(world) as b:
        assert b.engine == "duckdb"
        assert b.con.name == "duckdb"
        assert set(b.table("posts").columns) >= {"post_id", "posted_at", "hashtags"}
        assert str(b.table("posts").posted_at.type()) == "timestamp('UTC', 6)"  # nullable
        world.con.execute("SELECT * FROM range(10)").fetchone()  # a result left half read
        table = b.to_arrow(b.table("post_metrics_latest").select("post_id", "likes", "captured_at"))
        assert table.schema.field("captured_at").type == pa.timestamp("us", tz="UTC")
        assert b.to_arrow(b.table("posts").count().name("n")).to_pylist() == [{"n": 10}]
        with pytest.raises(ValueError, match="not a relation metrics can read"):
            b.table("raw_files")
    assert scalar_rows(world, settings) == before
    world.close()
    with Warehouse.open(world.path, read_only=True) as ro, open_backend(ro) as b:
        assert b.to_arrow(b.table("posts").count()).column(0).to_pylist() == [10]


def test_a_read_only_warehouse_computes_while_other_processes_read_it(world: Warehouse) -> None:
    """Awards are computed on a read-only connection so that others can read meanwhile."""
    asof = scalar_rows(world, ASOF)
    world.close()
    size, modified = world.path.stat().st_size, world.path.stat().st_mtime_ns
    with Warehouse.open(world.path, read_only=True) as ro:
        settings = "SELECT current_setting('lambda_syntax'), current_setting('TimeZone')"
        before = scalar_rows(ro, settings)
        with open_backend(ro) as b:
            # a union, windows and a join; an in-memory table (as the evidence step uses)
            rows = b.to_arrow(followers_at_posting(b).order_by("post_id")).to_pylist()
            wanted = ibis.memtable(pa.table({"platform": ["instagram", "x"], "rank": [1, 2]}))
            posts = b.table("posts")
            per_platform = posts.join(wanted, "platform").group_by("platform", "rank")
            counted = b.to_arrow(per_platform.aggregate(n=_.count()).order_by("rank"))
            reader = subprocess.run(  # another process reads the warehouse meanwhile
                [sys.executable, "-c", READER, str(world.path)],
                capture_output=True,
                text=True,
                check=False,
            )
        assert scalar_rows(ro, settings) == before
    assert [tuple(r.values()) for r in rows] == asof
    assert counted.to_pylist() == [
        {"platform": "instagram", "rank": 1, "n": 4},
        {"platform": "x", "rank": 2, "n": 3},
    ]
    assert (reader.returncode, reader.stdout.strip()) == (0, "10"), reader.stderr
    assert (world.path.stat().st_size, world.path.stat().st_mtime_ns) == (size, modified)


READER = """\
import sys
from govsocial.store import Warehouse
with Warehouse.open(sys.argv[1], read_only=True) as wh:
    print(wh.con.execute("SELECT count(*) FROM posts").fetchone()[0])
"""


def test_only_the_store_touches_a_warehouse_connection() -> None:
    """The store package is the only holder of a DuckDB connection (docs/architecture.md):
    no other module (metrics, awards, the CLI, the demo ...) imports duckdb or uses ``.con``."""
    src = Path(__file__).parents[2] / "src" / "govsocial"
    offenders = []
    for package in [p for p in src.iterdir() if p.name != "store"]:
        for path in sorted(package.rglob("*.py") if package.is_dir() else [package]):
            if path.suffix != ".py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    names = [a.name for a in node.names]
                    if "duckdb" in [getattr(node, "module", None), *names]:
                        offenders.append(f"{path.name}:{node.lineno} imports duckdb")
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr == "con"
                    and not (isinstance(node.value, ast.Name) and node.value.id == "self")
                ):
                    offenders.append(f"{path.name}:{node.lineno} uses .con")
    assert offenders == []


def test_an_unknown_engine_says_the_valid_ones_and_how_to_choose(warehouse: Warehouse) -> None:
    with pytest.raises(UsageError, match="duckdb, spark") as caught, open_backend(warehouse, "x"):
        pass
    assert "--engine" in caught.value.message and "GOVSOCIAL_ENGINE" in caught.value.message
    assert caught.value.exit_code == 2


def test_missing_pyspark_or_java_says_how_to_install_them(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(spark_module, "_spark", None)  # as if not started yet
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "pyspark", None)
        missing = r"pip install 'govsocial\[spark\]'"
        with pytest.raises(ConfigError, match=missing), open_backend(warehouse, "spark"):
            pass
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))  # no bin/java there
    java = "Java 17.*apt-get install openjdk-17-jre-headless"
    with pytest.raises(ConfigError, match=java), open_backend(warehouse, "spark"):
        pass


@pytest.fixture
def exotic(world: Warehouse) -> Iterator[Warehouse]:
    world.con.execute("""
        CREATE TABLE exotic AS SELECT
            '{"a": 1}'::JSON AS js, ['{}'::JSON] AS js_list,
            '00000000-0000-0000-0000-000000000001'::UUID AS id,
            TIMESTAMP_NS '2025-03-01 01:02:03.456789123' AS ts_ns,
            TIMESTAMP '2025-03-01 01:02:03' AS ts_naive, INTERVAL 3 DAY AS span,
            'b'::ENUM ('a', 'b') AS choice,
            170141183460469231731687303715884105727::HUGEINT AS huge,
            18446744073709551615::UBIGINT AS ubig, 7::UTINYINT AS utiny,
            MAP {'x': 1} AS counts, {'k': 1, 'v': ['a']} AS record, 1.5::DECIMAL(10, 2) AS price
    """)
    yield world
    world.con.execute("DROP TABLE exotic")


def test_export_writes_types_spark_reads(exotic: Warehouse, tmp_path: Path) -> None:
    files = export_relations(exotic, tmp_path, ["posts", "exotic"])
    assert files == {"posts": tmp_path / "posts.parquet", "exotic": tmp_path / "exotic.parquet"}
    posts = pq.read_schema(files["posts"])
    assert posts.field("posted_at").type == pa.timestamp("us", tz="UTC")
    assert posts.field("hashtags").type.value_type == pa.string()
    assert pq.read_metadata(files["posts"]).num_rows == 10
    types = {f.name: f.type for f in pq.read_schema(files["exotic"])}
    assert types == {
        "js": pa.string(),
        "js_list": pa.string(),
        "id": pa.string(),
        "ts_ns": pa.timestamp("us", tz="UTC"),
        "ts_naive": pa.timestamp("us", tz="UTC"),
        "span": pa.string(),
        "choice": pa.string(),
        "huge": pa.float64(),
        "ubig": pa.decimal128(20, 0),
        "utiny": pa.int16(),
        "counts": pa.map_(pa.string(), pa.int32()),
        "record": pa.struct([("k", pa.int32()), ("v", pa.list_(pa.string()))]),
        "price": pa.decimal128(10, 2),
    }
    with open_backend(exotic, "spark") as b:  # Spark reads every column
        row = b.to_arrow(b.con.read_parquet(str(files["exotic"]))).to_pylist()[0]
    assert row["ts_naive"] == datetime(2025, 3, 1, 1, 2, 3, tzinfo=UTC)
    assert (row["js"], row["choice"], row["ubig"], row["counts"]) == (
        '{"a": 1}',
        "b",
        18446744073709551615,
        [("x", 1)],
    )
    with pytest.raises(StoreError, match="no table or view named 'nothing'"):
        export_relations(exotic, tmp_path, ["nothing"])


def test_spark_reuses_one_application_and_cleans_up(world: Warehouse) -> None:
    with open_backend(world, "spark") as first:
        started = spark_module._spark
        assert first.con.name == "pyspark"
        assert set(RELATIONS) <= {t.name for t in first.con._session.catalog.listTables()}
        assert str(first.table("posts").posted_at.type()) == "timestamp('UTC', 6)"
        files = first.con._session.table("posts").inputFiles()
        folder = Path(files[0].removeprefix("file://")).parent
        assert folder.is_dir()
    assert not folder.exists()
    with open_backend(world, "spark") as second:
        assert spark_module._spark is started
        assert second.to_arrow(second.table("accounts").count()).column(0).to_pylist() == [4]
    assert started.conf.get("spark.sql.session.timeZone") == "UTC"
    assert started.sparkContext.master == "local[2]"
