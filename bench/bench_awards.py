"""Benchmark: the gsm2025 award over a synthetic warehouse, against three baselines.

Each measured in its own process on the same warehouse, in the same run (peak memory is the
process's own, VmHWM):
- ``engine``: ``run_awards`` with gsm2025 on DuckDB, a full run (without the cube cache, which
  ``--incremental`` measures): every metric of the 20 awards, the main account per platform,
  the platform sum, the delta-lognormal rate with Morris shrinkage, eligibility, percentiles,
  tie-breaks, the evidence (top posts, flags, implausible counts) and, when the engine has it,
  the ranking-stability bootstrap;
- ``floor``: hand-written DuckDB SQL doing the least any engine must do for gsm2025's Most
  Engaging (the same in pandas and polars below):
  1. scope: posts in the period, not reposts, not replies to other accounts, of accounts of
     institutions of the four clusters;
  2. followers at posting time: the last reading at or before the post if at most 90 days
     before it, else the next reading if at most 90 days after it, else none (no rate);
  3. interactions (version 2: reactions/likes + comments + shares + quotes per platform) and
     the per-post engagement rate;
  4. one pass per account × platform: posts, rated posts, posts with any interaction, sum and
     sum of squares of the log rate of those, interactions, distinct active weeks;
  5. the main account of each institution on each platform (most followers at the period's
     end), eligibility (≥ 24 posts, ≥ 8 active weeks, ≥ 1,000 followers), the typical rate
     p × exp(mean log rate) (no shrinkage), percentiles per cluster × platform, the sum over
     the five platforms ÷ 5, and the top 5 per cluster.
  Two ways of finding the followers at posting time are timed (DuckDB's ASOF JOIN, and a join
  on snapshot intervals) and the faster one is the floor;
- ``pandas`` and ``polars``: the same five steps, the way an analyst would write them
  (``merge_asof``/``join_asof`` with a 90-day tolerance, ``groupby``), reading the tables from
  the warehouse; ``compute`` is the time after the tables are in memory.

What only the engine does: the other four categories (media types, views, follower growth,
activity), the shrinkage, the evidence pass over the nominees' posts, the flags, the results
document. The baselines are therefore a lower bound of the work, not an equal amount.

Target (issue 10): engine ≤ 2× the floor at 10M posts, peak memory ≤ 4 GB.

    python bench/bench_awards.py --posts 10000000 --write-docs
    python bench/bench_awards.py --posts 10000000 --incremental   # + one more day, re-run
    python bench/bench_awards.py --posts 1000000 --only incremental  # that alone
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import report_phase, run_phase, write_section

ROOT = Path(__file__).resolve().parents[1]
START, STOP = "2024-07-31 17:00:00+00", "2025-07-31 17:00:00+00"  # gsm2025's period in UTC
CLUSTERS = ("kementerian", "lembaga", "pemda", "perguruan_tinggi")
PLATFORMS = ("facebook", "instagram", "x", "youtube", "tiktok")
GAP_DAYS = 90  # max_follower_gap_days
MIN_POSTS, MIN_WEEKS, MIN_FOLLOWERS, NOMINEES = 24, 8, 1000, 5  # Most Engaging
WEEK_S = 7 * 24 * 3600
COUNTS = ("likes", "reactions", "comments", "shares", "quotes")
_IN = "({})".format
IN_CLUSTERS = _IN(", ".join(f"'{c}'" for c in CLUSTERS))
IN_PLATFORMS = _IN(", ".join(f"'{p}'" for p in PLATFORMS))

# Interactions, version 2 (metrics/interactions.py): what every source of a platform gives.
# The period is after 24 Feb 2016, so Facebook's are reactions + comments + shares.
INTERACTIONS_SQL = """(CASE p.platform
    WHEN 'facebook' THEN coalesce(reactions, 0) + coalesce(comments, 0) + coalesce(shares, 0)
    WHEN 'instagram' THEN coalesce(likes, 0) + coalesce(comments, 0)
    WHEN 'x' THEN coalesce(likes, 0) + coalesce(shares, 0) + coalesce(comments, 0)
                  + coalesce(quotes, 0)
    WHEN 'youtube' THEN coalesce(likes, 0) + coalesce(comments, 0)
    ELSE coalesce(likes, 0) + coalesce(comments, 0) + coalesce(shares, 0) END)::DOUBLE"""

SCOPED = f"""scoped AS (
  SELECT p.account_id, a.institution_id, i.cluster_id, p.platform, p.posted_at,
         {INTERACTIONS_SQL} AS inter
  FROM posts p
  JOIN post_metrics_latest m USING (post_id)
  JOIN accounts a USING (account_id)
  JOIN institutions i USING (institution_id)
  WHERE p.posted_at >= '{START}' AND p.posted_at < '{STOP}' AND NOT p.is_repost
    AND NOT coalesce(p.is_reply_to_other, false)
    AND i.cluster_id IN {IN_CLUSTERS} AND p.platform IN {IN_PLATFORMS})"""

GAP = f"INTERVAL {GAP_DAYS} DAY"
# Followers at posting time by a join on snapshot intervals (the engine's way): the interval
# holding the post carries its own reading and the next one; the first also covers before it.
FACTS_INTERVALS = f"""s AS (
  SELECT account_id, followers, captured_at,
         CASE WHEN lag(captured_at) OVER w IS NULL THEN TIMESTAMPTZ '1970-01-01 00:00:00+00'
              ELSE captured_at END AS valid_from,
         lead(captured_at) OVER w AS next_at, lead(followers) OVER w AS next_followers
  FROM account_snapshots WINDOW w AS (PARTITION BY account_id ORDER BY captured_at)),
facts AS (
  SELECT f.*, CASE
      WHEN f.posted_at >= s.captured_at AND f.posted_at - s.captured_at <= {GAP} THEN s.followers
      WHEN f.posted_at < s.captured_at AND s.captured_at - f.posted_at <= {GAP} THEN s.followers
      WHEN f.posted_at >= s.captured_at AND s.next_at - f.posted_at <= {GAP}
        THEN s.next_followers END AS followers
  FROM scoped f LEFT JOIN s ON f.account_id = s.account_id
    AND f.posted_at >= s.valid_from
    AND f.posted_at < coalesce(s.next_at, TIMESTAMPTZ '2200-01-01 00:00:00+00'))"""
# The same by DuckDB's ASOF JOIN, once backward and once forward.
FACTS_ASOF = f"""facts AS (
  SELECT f.*, CASE WHEN f.posted_at - b.captured_at <= {GAP} THEN b.followers
                   WHEN a.captured_at - f.posted_at <= {GAP} THEN a.followers END AS followers
  FROM scoped f
  ASOF LEFT JOIN account_snapshots b
    ON f.account_id = b.account_id AND f.posted_at >= b.captured_at
  ASOF LEFT JOIN account_snapshots a
    ON f.account_id = a.account_id AND f.posted_at <= a.captured_at)"""

# One pass per account × platform, then the Most Engaging ranking on the small table.
RANKING = f"""units AS (
  SELECT account_id, institution_id, cluster_id, platform, count(*) AS posts,
         count(rate) AS n_rated, count_if(rate > 0) AS n_positive,
         sum(ln(rate)) FILTER (WHERE rate > 0) AS sum_log, sum(inter) AS interactions,
         count(DISTINCT (epoch(posted_at) - epoch(TIMESTAMPTZ '{START}')) // {WEEK_S}) AS weeks
  FROM (SELECT *, inter / nullif(followers, 0) AS rate FROM facts) GROUP BY ALL),
last AS (
  SELECT account_id, arg_max(followers, captured_at) AS followers_end
  FROM account_snapshots WHERE captured_at <= '{STOP}' GROUP BY ALL),
main AS (
  SELECT u.*, l.followers_end
  FROM units u LEFT JOIN last l USING (account_id)
  QUALIFY row_number() OVER (PARTITION BY institution_id, platform
                             ORDER BY l.followers_end DESC NULLS LAST, account_id) = 1),
eligible AS (
  SELECT *, n_positive / n_rated * exp(sum_log / n_positive) AS typical FROM main
  WHERE posts >= {MIN_POSTS} AND weeks >= {MIN_WEEKS} AND followers_end >= {MIN_FOLLOWERS}
    AND n_positive > 0),
pct AS (
  SELECT institution_id, cluster_id,
         (rank() OVER (PARTITION BY cluster_id, platform ORDER BY typical) - 0.5)
         / count(*) OVER (PARTITION BY cluster_id, platform) AS pct
  FROM eligible),
scores AS (SELECT institution_id, cluster_id, sum(pct) / {len(PLATFORMS)} AS score
           FROM pct GROUP BY ALL)
SELECT * FROM scores
QUALIFY row_number() OVER (PARTITION BY cluster_id ORDER BY score DESC, institution_id)
        <= {NOMINEES}
ORDER BY cluster_id, score DESC, institution_id"""
FLOOR_INTERVALS = f"WITH {SCOPED},\n{FACTS_INTERVALS},\n{RANKING}"
FLOOR_ASOF = f"WITH {SCOPED},\n{FACTS_ASOF},\n{RANKING}"


def build(folder: Path, posts: int) -> Path:
    from govsocial.demo import load_world_files
    from govsocial.store import Warehouse
    from govsocial.synth import generate

    db = folder / "govsocial.duckdb"
    if db.exists():
        return db
    world = generate(folder / "world", posts=posts, seed=2025)
    building = folder / "building.duckdb"
    building.unlink(missing_ok=True)
    with Warehouse.open(building, create=True) as wh:
        load_world_files(
            wh, world.registry_path, [*world.account_snapshot_files, *world.post_files]
        )
        wh.con.execute("CHECKPOINT")
    building.rename(db)
    return db


def phase_engine(db: Path) -> dict[str, Any]:
    from govsocial.awards.engine import run_awards
    from govsocial.awards.methodology import load_methodology
    from govsocial.store import Warehouse

    with Warehouse.open(db, read_only=True) as wh:
        start = time.perf_counter()
        # A full run: the cube cache is measured by --incremental.
        run = run_awards(wh, load_methodology("gsm2025"), use_cache=False)
        seconds = time.perf_counter() - start
    # Whether the ranking-stability bootstrap (issue 10 §2) ran: its figures are in the document.
    document = json.dumps(run.document, default=str)
    return {
        "seconds": seconds,
        "posts": run.document["data"]["posts_in_scope"],
        "bootstrap": "stability" in document or "bootstrap" in document,
    }


def phase_floor(db: Path) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    times, answers = {}, {}
    for name, sql in (("asof", FLOOR_ASOF), ("intervals", FLOOR_INTERVALS)):
        start = time.perf_counter()
        answers[name] = con.execute(sql).fetchall()
        times[name] = time.perf_counter() - start
    return {
        "seconds": min(times.values()),
        "asof_seconds": times["asof"],
        "intervals_seconds": times["intervals"],
        "nominees": [list(row) for row in answers["intervals"]],
    }


def _tables(db: Path) -> list[Any]:
    """The four tables an analyst reads, as Arrow tables (converted by the caller)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    queries = (
        "SELECT post_id, account_id, platform, is_repost, is_reply_to_other, posted_at FROM posts",
        "SELECT post_id, likes, reactions, comments, shares, quotes FROM post_metrics_latest",
        "SELECT account_id, captured_at, followers FROM account_snapshots",
        "SELECT a.account_id, a.institution_id, i.cluster_id FROM accounts a "
        "JOIN institutions i USING (institution_id)",
    )
    return [con.sql(q).to_arrow_table() for q in queries]


def phase_pandas(db: Path) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    start = time.perf_counter()
    posts, counts, snaps, owners = (t.to_pandas() for t in _tables(db))
    loaded = time.perf_counter()
    begin, end, gap = pd.Timestamp(START), pd.Timestamp(STOP), pd.Timedelta(days=GAP_DAYS)
    owners = owners[owners.cluster_id.isin(CLUSTERS)]
    df = posts[
        (posts.posted_at >= begin)
        & (posts.posted_at < end)
        & ~posts.is_repost
        & ~posts.is_reply_to_other.fillna(False).astype(bool)
        & posts.platform.isin(PLATFORMS)
    ]
    df = df.merge(owners, on="account_id").merge(counts, on="post_id")
    z = {
        c: df[c].fillna(0).astype("float64")
        for c in ("likes", "reactions", "comments", "shares", "quotes")
    }
    df["inter"] = np.select(
        [df.platform == "facebook", df.platform.isin(["instagram", "youtube"]), df.platform == "x"],
        [
            z["reactions"] + z["comments"] + z["shares"],
            z["likes"] + z["comments"],
            z["likes"] + z["shares"] + z["comments"] + z["quotes"],
        ],
        z["likes"] + z["comments"] + z["shares"],
    )
    df = df.sort_values("posted_at")
    snaps = snaps.sort_values("captured_at")
    followers = {}
    for direction in ("backward", "forward"):
        followers[direction] = pd.merge_asof(
            df[["posted_at", "account_id"]],
            snaps,
            left_on="posted_at",
            right_on="captured_at",
            by="account_id",
            direction=direction,
            tolerance=gap,
        ).followers.to_numpy()
    audience = pd.Series(followers["backward"]).fillna(pd.Series(followers["forward"]))
    rate = df.inter.to_numpy() / audience.where(audience > 0).to_numpy()
    df["rate"] = rate
    df["positive"] = rate > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        df["log"] = np.where(rate > 0, np.log(rate), np.nan)
    df["week"] = (df.posted_at - begin) // pd.Timedelta(weeks=1)
    units = (
        df.groupby(["account_id", "institution_id", "cluster_id", "platform"])
        .agg(
            posts=("post_id", "size"),
            n_rated=("rate", "count"),
            n_positive=("positive", "sum"),
            sum_log=("log", "sum"),
            interactions=("inter", "sum"),
            weeks=("week", "nunique"),
        )
        .reset_index()
    )
    last = (
        snaps[snaps.captured_at <= end]
        .groupby("account_id")
        .followers.last()
        .rename("followers_end")
        .reset_index()
    )
    units = units.merge(last, on="account_id", how="left")
    main = units.sort_values(
        ["institution_id", "platform", "followers_end", "account_id"],
        ascending=[True, True, False, True],
        na_position="last",
    ).drop_duplicates(["institution_id", "platform"])
    ok = main[
        (main.posts >= MIN_POSTS)
        & (main.weeks >= MIN_WEEKS)
        & (main.followers_end >= MIN_FOLLOWERS)
        & (main.n_positive > 0)
    ].copy()
    ok["typical"] = ok.n_positive / ok.n_rated * np.exp(ok.sum_log / ok.n_positive)
    strata = ok.groupby(["cluster_id", "platform"]).typical
    ok["pct"] = (strata.rank(method="min") - 0.5) / strata.transform("size")
    scores = (ok.groupby(["institution_id", "cluster_id"]).pct.sum() / len(PLATFORMS)).rename(
        "score"
    )
    top = (
        scores.reset_index()
        .sort_values(["cluster_id", "score", "institution_id"], ascending=[True, False, True])
        .groupby("cluster_id")
        .head(NOMINEES)
    )
    end_t = time.perf_counter()
    return {
        "seconds": end_t - start,
        "compute_seconds": end_t - loaded,
        "nominees": top.to_numpy().tolist(),
    }


def phase_polars(db: Path) -> dict[str, Any]:
    import warnings

    import polars as pl

    # join_asof cannot check sortedness within its ``by`` groups; the frames are sorted.
    warnings.filterwarnings("ignore", "Sortedness of columns cannot be checked")
    start = time.perf_counter()
    posts, counts, snaps, owners = (pl.from_arrow(t) for t in _tables(db))
    loaded = time.perf_counter()
    begin = datetime.fromisoformat(START)
    end = datetime.fromisoformat(STOP)
    z = {
        c: pl.col(c).fill_null(0).cast(pl.Float64)
        for c in ("likes", "reactions", "comments", "shares", "quotes")
    }
    platform = pl.col("platform")
    inter = (
        pl.when(platform == "facebook")
        .then(z["reactions"] + z["comments"] + z["shares"])
        .when(platform.is_in(["instagram", "youtube"]))
        .then(z["likes"] + z["comments"])
        .when(platform == "x")
        .then(z["likes"] + z["shares"] + z["comments"] + z["quotes"])
        .otherwise(z["likes"] + z["comments"] + z["shares"])
    )
    s = snaps.lazy().sort("captured_at")
    df = (
        posts.lazy()
        .filter(
            (pl.col("posted_at") >= begin)
            & (pl.col("posted_at") < end)
            & ~pl.col("is_repost")
            & ~pl.col("is_reply_to_other").fill_null(False)
            & platform.is_in(PLATFORMS)
        )
        .join(owners.lazy().filter(pl.col("cluster_id").is_in(CLUSTERS)), on="account_id")
        .join(counts.lazy(), on="post_id")
        .with_columns(inter=inter)
        .sort("posted_at")
    )
    for direction, name in (("backward", "f_before"), ("forward", "f_after")):
        df = df.join_asof(
            s.rename({"followers": name, "captured_at": f"at_{name}"}),
            left_on="posted_at",
            right_on=f"at_{name}",
            by="account_id",
            strategy=direction,
            tolerance=f"{GAP_DAYS}d",
        )
    audience = pl.coalesce("f_before", "f_after")
    rate = pl.col("inter") / pl.when(audience > 0).then(audience)
    units = (
        df.with_columns(rate=rate)
        .group_by("account_id", "institution_id", "cluster_id", "platform")
        .agg(
            posts=pl.len(),
            n_rated=pl.col("rate").count(),
            n_positive=(pl.col("rate") > 0).sum(),
            sum_log=pl.col("rate").filter(pl.col("rate") > 0).log().sum(),
            interactions=pl.col("inter").sum(),
            weeks=((pl.col("posted_at") - begin).dt.total_seconds() // WEEK_S).n_unique(),
        )
    )
    last = (
        s.filter(pl.col("captured_at") <= end)
        .group_by("account_id")
        .agg(followers_end=pl.col("followers").last())
    )
    stratum = ["cluster_id", "platform"]
    top = (
        units.join(last, on="account_id", how="left")
        .sort(
            ["institution_id", "platform", "followers_end", "account_id"],
            descending=[False, False, True, False],
            nulls_last=True,
        )
        .unique(["institution_id", "platform"], keep="first", maintain_order=True)
        .filter(
            (pl.col("posts") >= MIN_POSTS)
            & (pl.col("weeks") >= MIN_WEEKS)
            & (pl.col("followers_end") >= MIN_FOLLOWERS)
            & (pl.col("n_positive") > 0)
        )
        .with_columns(
            typical=pl.col("n_positive")
            / pl.col("n_rated")
            * (pl.col("sum_log") / pl.col("n_positive")).exp()
        )
        .with_columns(
            pct=(pl.col("typical").rank("min").over(stratum) - 0.5) / pl.len().over(stratum)
        )
        .group_by("institution_id", "cluster_id")
        .agg(score=pl.col("pct").sum() / len(PLATFORMS))
        .sort(["cluster_id", "score", "institution_id"], descending=[False, True, False])
        .group_by("cluster_id", maintain_order=True)
        .head(NOMINEES)
        .collect()
    )
    end_t = time.perf_counter()
    return {
        "seconds": end_t - start,
        "compute_seconds": end_t - loaded,
        "nominees": top.select("institution_id", "cluster_id", "score").rows(),
    }


DAY = ("2025-07-29 17:00:00+00", "2025-07-30 17:00:00+00")  # 30 Jul 2025 in Jakarta time


def one_more_day(folder: Path) -> Path:
    """A generic posts file of one extra day: the world's posts of 30 Jul 2025 (the last full
    day of the period) under new post ids, as a collector's next daily file would add them."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    day = folder / "one-more-day.parquet"
    if day.exists():
        return day
    begin, end = (datetime.fromisoformat(t) for t in DAY)
    parts = []
    for path in sorted((folder / "world").glob("posts-*.parquet")):
        t = pq.read_table(path)
        keep = pc.and_(
            pc.greater_equal(t["posted_at"], pa.scalar(begin, t.schema.field("posted_at").type)),
            pc.less(t["posted_at"], pa.scalar(end, t.schema.field("posted_at").type)),
        )
        parts.append(t.filter(keep))
    table = pa.concat_tables(parts)
    for name in ("post_id", "url"):
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, pc.binary_join_element_wise(table[name], "-d", ""))
    pq.write_table(table, day)
    return day


def phase_incremental(db: Path) -> dict[str, Any]:
    """Import one more day of posts into a copy of the warehouse and run gsm2025 again.

    On the copy, in order: a full run without the cube cache (``full``); the first run with
    it, kept as ``awards run`` keeps it (``first``: every week computed, fingerprinted and
    written); the day's import; the run again, kept (``rerun``: the cache warm); a full run
    without the cache on the same data (``full_after``), whose results document must be the
    re-run's, byte for byte.
    """
    import shutil

    from govsocial.awards.engine import run_awards
    from govsocial.awards.methodology import load_methodology
    from govsocial.awards.runs import compute_run, keep_run
    from govsocial.store import Warehouse, load_file

    day = one_more_day(db.parent)
    copy = db.parent / "incremental.duckdb"
    shutil.copyfile(db, copy)
    m = load_methodology("gsm2025")
    marks: list[tuple[str, float]] = []
    result: dict[str, Any] = {}

    def timed(name: str, work: Callable[[], Any]) -> Any:
        marks.clear()
        start = time.perf_counter()
        done = work()
        end = time.perf_counter()
        result[f"{name}_seconds"] = end - start
        begun = [at for step, at in marks if step == "Summarising posts"]
        ranked = [at for step, at in marks if step == "Ranking"]
        if begun and ranked:  # the cube: fingerprints, the weeks computed, the kept ones
            result[f"{name}_cube_seconds"] = ranked[0] - begun[0]
        return done

    def step(name: str) -> None:
        marks.append((name, time.perf_counter()))

    try:
        with Warehouse.open(copy) as wh:
            timed("full", lambda: run_awards(wh, m, step=step, use_cache=False))
            first = timed("first", lambda: compute_run(wh, "gsm2025", "duckdb", step))
            timed("first_keep", lambda: keep_run(wh, first))
            summary = timed("import", lambda: load_file(wh, day, _synthetic))
            rerun = timed("rerun", lambda: compute_run(wh, "gsm2025", "duckdb", step))
            timed("rerun_keep", lambda: keep_run(wh, rerun))
            after = timed("full_after", lambda: run_awards(wh, m, step=step, use_cache=False))
            cache_mb = wh.con.execute(
                "SELECT sum(octet_length(cube)) / 1e6 FROM cube_cache_weeks"
            ).fetchall()[0][0]
    finally:
        copy.unlink(missing_ok=True)
        Path(f"{copy}.wal").unlink(missing_ok=True)
    return {
        **result,
        "day_posts": summary.posts_new,
        "posts": after.document["data"]["posts_in_scope"],
        "weeks_recomputed": [w.week for w in rerun.cube_cache.computed],
        "same_document": rerun.text == after.text,
        "cache_mb": float(cache_mb),
    }


def _synthetic(path: Path) -> Any:
    from govsocial.sources.generic import stage

    return stage(path, synthetic=True)


PHASES: dict[str, Callable[[Path], dict[str, Any]]] = {
    "engine": phase_engine,
    "floor": phase_floor,
    "pandas": phase_pandas,
    "polars": phase_polars,
    "incremental": phase_incremental,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument(
        "--incremental",
        action="store_true",
        help="also time importing one more day of posts into a copy and running gsm2025 again",
    )
    parser.add_argument(
        "--only", choices=list(PHASES), help="run this phase alone and print what it measured"
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        report_phase(PHASES[args.child[0]](Path(args.child[1])))
        return
    folder = args.out / f"awards-{args.posts}"
    folder.mkdir(parents=True, exist_ok=True)
    db = build(folder, args.posts)
    if args.only:
        print(json.dumps(run_phase(__file__, args.only, str(db))), flush=True)
        return
    phases = [p for p in PHASES if p != "incremental" or args.incremental]
    results = {phase: run_phase(__file__, phase, str(db)) for phase in phases}
    # The three baselines must name the same nominees (ids per cluster, in order).
    picks = {
        name: [row[:2] for row in results[name].pop("nominees")]
        for name in ("floor", "pandas", "polars")
    }
    agree = {
        lib: sum(a == b for a, b in zip(picks["floor"], picks[lib], strict=False))
        for lib in ("pandas", "polars")
    }
    if len(set(map(str, picks.values()))) > 1:
        print(f"the baselines disagree on some nominees: {picks}", flush=True)
    engine = results["engine"]["seconds"]
    row: dict[str, Any] = {
        "posts": int(results["engine"]["posts"]),
        "bootstrap": results["engine"]["bootstrap"],
        "engine_s": engine,
        "floor_s": results["floor"]["seconds"],
        "floor_asof_s": results["floor"]["asof_seconds"],
        "floor_intervals_s": results["floor"]["intervals_seconds"],
        "engine_vs_floor": engine / results["floor"]["seconds"],
        "nominees": len(picks["floor"]),
        "pandas_agree": agree["pandas"],
        "polars_agree": agree["polars"],
    }
    for lib in ("pandas", "polars"):
        row[f"{lib}_s"] = results[lib]["seconds"]
        row[f"{lib}_compute_s"] = results[lib]["compute_seconds"]
        row[f"engine_vs_{lib}"] = engine / results[lib]["seconds"]
    if args.incremental:
        inc = results["incremental"]
        row["day_posts"] = inc["day_posts"]
        row["day_import_s"] = inc["import_seconds"]
        for name in ("full", "first", "first_keep", "rerun", "rerun_keep", "full_after"):
            row[f"{name}_s"] = inc[f"{name}_seconds"]
            if f"{name}_cube_seconds" in inc:
                row[f"{name}_cube_s"] = inc[f"{name}_cube_seconds"]
        row["rerun_vs_full"] = inc["rerun_seconds"] / inc["full_after_seconds"]
        row["weeks_recomputed"] = inc["weeks_recomputed"]
        row["same_document"] = inc["same_document"]
        row["cache_mb"] = inc["cache_mb"]
    for phase in phases:
        row[f"{phase}_rss_mb"] = results[phase]["peak_rss_mb"]
    print(json.dumps(row), flush=True)
    if args.write_docs:
        write_docs(row, args.posts)


def write_docs(r: dict[str, Any], requested: int) -> None:
    stability = "with" if r["bootstrap"] else "without"
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()}, Python "
        f"{platform.python_version()}: `python bench/bench_awards.py --posts {requested} "
        f"--write-docs` (engine {stability} the ranking-stability bootstrap).",
        "",
        "| posts in scope | govsocial gsm2025 (s) | floor: DuckDB SQL (s) | engine ÷ floor "
        "| pandas (s) | engine ÷ pandas | polars (s) | engine ÷ polars "
        "| peak RSS engine / floor / pandas / polars (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {int(r['posts']):,} | {r['engine_s']:.1f} | {r['floor_s']:.1f} | "
        f"{r['engine_vs_floor']:.1f}× | {r['pandas_s']:.1f} "
        f"(compute {r['pandas_compute_s']:.1f}) | {r['engine_vs_pandas']:.1f}× | "
        f"{r['polars_s']:.1f} (compute {r['polars_compute_s']:.1f}) | "
        f"{r['engine_vs_polars']:.1f}× | {r['engine_rss_mb']:,.0f} / {r['floor_rss_mb']:,.0f} / "
        f"{r['pandas_rss_mb']:,.0f} / {r['polars_rss_mb']:,.0f} |",
        "",
        f"Floor: ASOF JOIN {r['floor_asof_s']:.1f} s, interval join "
        f"{r['floor_intervals_s']:.1f} s (the faster counts). Most Engaging nominees (institution, "
        f"cluster, place) the floor shares with pandas: {r['pandas_agree']} of {r['nominees']}, "
        f"with polars: {r['polars_agree']} of {r['nominees']}.",
    ]
    if "rerun_s" in r:
        lines += [
            "",
            f"Incremental (`--incremental`): one more day ({int(r['day_posts']):,} posts) imported "
            f"in {r['day_import_s']:.1f} s; gsm2025 run again with the cube cache warm "
            f"{r['rerun_s']:.1f} s (cube {r['rerun_cube_s']:.1f} s, weeks recomputed: "
            f"{', '.join(map(str, r['weeks_recomputed'])) or 'none'}) + {r['rerun_keep_s']:.1f} s "
            f"to keep it, against {r['full_after_s']:.1f} s for a full run of the same data "
            f"(cube {r['full_after_cube_s']:.1f} s): {r['rerun_vs_full']:.2f}×; results "
            f"{'identical' if r['same_document'] else 'DIFFERENT'}. The first run with the "
            f"cache: {r['first_s']:.1f} s + {r['first_keep_s']:.1f} s to keep "
            f"{r['cache_mb']:.0f} MB of cube.",
        ]
    write_section("bench_awards", lines)


if __name__ == "__main__":
    main()
