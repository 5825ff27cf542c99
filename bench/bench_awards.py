"""Benchmark: the gsm2025 award over a synthetic warehouse, against two baselines.

Each measured in its own process on the same warehouse, in the same run:
- ``engine``: ``run_awards`` with gsm2025 on DuckDB: every metric, shrinkage, ranking of the
  20 awards, and the evidence (top posts by overperformance, flags);
- ``floor``: ONE hand-written DuckDB SQL query computing the core per-account aggregates
  (posts, interactions, mean engagement rate against followers at posting time, active weeks)
  by platform and media type: the least any engine must do. Two ways of finding the followers
  at posting time are timed (DuckDB's ASOF JOIN, and a join on snapshot intervals) and the
  faster one is the floor;
- ``pandas``: the same aggregates in plain pandas (``merge_asof`` + ``groupby``), the way an
  analyst would write it, reading the tables from the warehouse.

Targets (issue 3): engine ≤ 3× the floor, ≥ 10× faster than pandas, peak memory ≤ 4 GB.

    python bench/bench_awards.py --posts 10000000 --write-docs
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

from common import report_phase, run_phase, write_section

ROOT = Path(__file__).resolve().parents[1]
START, STOP = "2024-07-31 17:00:00+00", "2025-07-31 17:00:00+00"  # gsm2025's period in UTC

INTERACTIONS_SQL = """CASE p.platform
    WHEN 'facebook' THEN coalesce(reactions, likes, 0) + coalesce(comments, 0) + coalesce(shares, 0)
    WHEN 'instagram' THEN coalesce(likes, 0) + coalesce(comments, 0) + coalesce(saves, 0)
    WHEN 'x' THEN coalesce(likes, 0) + coalesce(shares, 0) + coalesce(comments, 0)
                  + coalesce(quotes, 0) + coalesce(saves, 0)
    WHEN 'youtube' THEN coalesce(likes, 0) + coalesce(comments, 0)
    ELSE coalesce(likes, 0) + coalesce(comments, 0) + coalesce(shares, 0) END"""

FLOOR_SELECT = f"""
SELECT p.account_id, p.platform, p.media_type, count(*) AS posts,
       sum({INTERACTIONS_SQL}) AS interactions,
       avg(({INTERACTIONS_SQL}) / nullif(s.followers, 0)) AS engagement_rate,
       count(DISTINCT date_trunc('week', p.posted_at)) AS active_weeks
FROM posts p
JOIN post_metrics_latest m USING (post_id)
JOIN accounts a USING (account_id)
JOIN institutions i USING (institution_id)
"""
FLOOR_WHERE = f"""
WHERE p.posted_at >= '{START}' AND p.posted_at < '{STOP}' AND NOT p.is_repost
GROUP BY ALL
"""
FLOOR_ASOF = (
    FLOOR_SELECT
    + """ASOF LEFT JOIN account_snapshots s
  ON p.account_id = s.account_id AND p.posted_at >= s.captured_at"""
    + FLOOR_WHERE
)
FLOOR_INTERVALS = (
    "WITH s AS (SELECT account_id, followers, captured_at AS valid_from, "
    "coalesce(lead(captured_at) OVER (PARTITION BY account_id ORDER BY captured_at), "
    "TIMESTAMPTZ '2200-01-01 00:00:00+00') AS valid_to FROM account_snapshots)"
    + FLOOR_SELECT
    + """LEFT JOIN s ON p.account_id = s.account_id AND p.posted_at >= s.valid_from
  AND p.posted_at < s.valid_to"""
    + FLOOR_WHERE
)


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


def phase_engine(db: Path) -> dict[str, float]:
    from govsocial.awards.engine import run_awards
    from govsocial.awards.methodology import load_methodology
    from govsocial.store import Warehouse

    with Warehouse.open(db, read_only=True) as wh:
        start = time.perf_counter()
        run = run_awards(wh, load_methodology("gsm2025"))
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "posts": run.document["data"]["posts_in_scope"]}


def phase_floor(db: Path) -> dict[str, float]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    times = {}
    for name, sql in (("asof", FLOOR_ASOF), ("intervals", FLOOR_INTERVALS)):
        start = time.perf_counter()
        rows = con.execute(sql).fetchall()
        times[name] = time.perf_counter() - start
    return {
        "seconds": min(times.values()),
        "asof_seconds": times["asof"],
        "intervals_seconds": times["intervals"],
        "rows": len(rows),
    }


def phase_pandas(db: Path) -> dict[str, float]:
    import duckdb
    import numpy as np
    import pandas as pd

    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    start = time.perf_counter()
    posts = con.sql(
        "SELECT post_id, account_id, platform, media_type, is_repost, posted_at FROM posts"
    ).df()
    counts = con.sql(
        "SELECT post_id, views, likes, reactions, comments, shares, quotes, saves "
        "FROM post_metrics_latest"
    ).df()
    snaps = con.sql("SELECT account_id, captured_at, followers FROM account_snapshots").df()
    owners = con.sql(
        "SELECT account_id, institution_id FROM accounts WHERE institution_id IS NOT NULL"
    ).df()
    loaded = time.perf_counter()
    df = posts[
        (posts.posted_at >= pd.Timestamp(START))
        & (posts.posted_at < pd.Timestamp(STOP))
        & ~posts.is_repost
    ]
    df = df.merge(owners, on="account_id").merge(counts, on="post_id")
    z = {c: df[c].fillna(0) for c in ("likes", "comments", "shares", "quotes", "saves")}
    fb = df.reactions.fillna(df.likes).fillna(0) + z["comments"] + z["shares"]
    df["interactions"] = np.select(
        [
            df.platform == "facebook",
            df.platform == "instagram",
            df.platform == "x",
            df.platform == "youtube",
        ],
        [
            fb,
            z["likes"] + z["comments"] + z["saves"],
            z["likes"] + z["shares"] + z["comments"] + z["quotes"] + z["saves"],
            z["likes"] + z["comments"],
        ],
        z["likes"] + z["comments"] + z["shares"],
    )
    df = pd.merge_asof(
        df.sort_values("posted_at"),
        snaps.sort_values("captured_at"),
        left_on="posted_at",
        right_on="captured_at",
        by="account_id",
        direction="backward",
    )
    df["engagement_rate"] = df.interactions / df.followers.replace(0, np.nan)
    df["week"] = df.posted_at.dt.to_period("W")
    result = df.groupby(["account_id", "platform", "media_type"]).agg(
        posts=("post_id", "size"),
        interactions=("interactions", "sum"),
        engagement_rate=("engagement_rate", "mean"),
        active_weeks=("week", "nunique"),
    )
    end = time.perf_counter()
    return {"seconds": end - start, "compute_seconds": end - loaded, "rows": len(result)}


PHASES = {"engine": phase_engine, "floor": phase_floor, "pandas": phase_pandas}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        report_phase(PHASES[args.child[0]](Path(args.child[1])))
        return
    folder = args.out / f"awards-{args.posts}"
    folder.mkdir(parents=True, exist_ok=True)
    db = build(folder, args.posts)
    results = {
        phase: run_phase(__file__, phase, str(db)) for phase in ("engine", "floor", "pandas")
    }
    row = {
        "posts": int(results["engine"]["posts"]),
        "engine_s": results["engine"]["seconds"],
        "floor_s": results["floor"]["seconds"],
        "pandas_s": results["pandas"]["seconds"],
        "pandas_compute_s": results["pandas"]["compute_seconds"],
        "engine_vs_floor": results["engine"]["seconds"] / results["floor"]["seconds"],
        "pandas_vs_engine": results["pandas"]["seconds"] / results["engine"]["seconds"],
        "engine_rss_mb": results["engine"]["peak_rss_mb"],
        "floor_rss_mb": results["floor"]["peak_rss_mb"],
        "pandas_rss_mb": results["pandas"]["peak_rss_mb"],
    }
    print(json.dumps(row), flush=True)
    if args.write_docs:
        write_docs(row, args.posts)


def write_docs(r: dict[str, float], requested: int) -> None:
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()}, Python "
        f"{platform.python_version()}: `python bench/bench_awards.py --posts {requested} "
        "--write-docs`.",
        "",
        "| posts in scope | govsocial gsm2025 (s) | floor: one DuckDB SQL (s) | engine ÷ floor "
        "| pandas (s) | pandas ÷ engine | peak RSS engine / floor / pandas (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {int(r['posts']):,} | {r['engine_s']:.1f} | {r['floor_s']:.1f} | "
        f"{r['engine_vs_floor']:.1f}× | {r['pandas_s']:.1f} "
        f"(compute {r['pandas_compute_s']:.1f}) | {r['pandas_vs_engine']:.1f}× | "
        f"{r['engine_rss_mb']:,.0f} / {r['floor_rss_mb']:,.0f} / {r['pandas_rss_mb']:,.0f} |",
    ]
    write_section("bench_awards", lines)


if __name__ == "__main__":
    main()
