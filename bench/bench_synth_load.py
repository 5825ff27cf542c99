"""Benchmark: generate the synthetic world and load it into a warehouse.

For each size it runs, each in its own process (so peak memory is measured per phase):
1. ``generate``: the synthetic world as generic Parquet files;
2. ``load``: the registry, follower snapshots and post files through the import path
   (``govsocial synth`` does exactly these two);
3. ``floor``: DuckDB's own raw read of the same Parquet files into a table of a fresh
   DuckDB file (no validation, no keys, no raw records): the baseline of this run.

It prints posts/s, peak RSS and the ratio of our load to the floor, and with ``--write-docs``
rewrites its section of docs/benchmarks.md.

    python bench/bench_synth_load.py --posts 1000000 10000000 --write-docs
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from common import report_phase, run_phase, write_section

ROOT = Path(__file__).resolve().parents[1]


def phase_generate(folder: Path, posts: int) -> dict[str, float]:
    from govsocial.synth import generate

    start = time.perf_counter()
    world = generate(folder / "world", posts=posts, seed=2025)
    return {"seconds": time.perf_counter() - start, "posts": world.posts}


def phase_load(folder: Path, posts: int) -> dict[str, float]:
    from govsocial.demo import load_world_files
    from govsocial.store import Warehouse

    world = folder / "world"
    files = [world / "account_snapshots.parquet", *sorted(world.glob("posts-*.parquet"))]
    db = folder / "bench.duckdb"
    db.unlink(missing_ok=True)
    start = time.perf_counter()
    with Warehouse.open(db, create=True) as wh:
        load_world_files(wh, world / "registry.yaml", files)
        wh.con.execute("CHECKPOINT")
        row = wh.con.execute("SELECT count(*) FROM posts").fetchone()
    return {
        "seconds": time.perf_counter() - start,
        "posts": row[0] if row else 0,
        "db_bytes": db.stat().st_size,
    }


def phase_floor(folder: Path, posts: int) -> dict[str, float]:
    import duckdb

    db = folder / "floor.duckdb"
    db.unlink(missing_ok=True)
    files = str(folder / "world" / "posts-*.parquet")
    start = time.perf_counter()
    con = duckdb.connect(str(db))
    con.execute(f"CREATE TABLE raw AS SELECT * FROM read_parquet('{files}')")
    con.execute("CHECKPOINT")
    con.close()
    return {"seconds": time.perf_counter() - start}


PHASES = {"generate": phase_generate, "load": phase_load, "floor": phase_floor}


def child(phase: str, folder: Path, posts: int) -> None:
    report_phase(PHASES[phase](folder, posts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), int(args.child[2]))
        return
    rows = []
    for posts in args.posts:
        folder = args.out / f"synth-{posts}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        gen = run_phase(__file__, "generate", str(folder), str(posts))
        load = run_phase(__file__, "load", str(folder), str(posts))
        floor = run_phase(__file__, "floor", str(folder), str(posts))
        total = gen["seconds"] + load["seconds"]
        row = {
            "posts": int(load["posts"]),
            "generate_s": gen["seconds"],
            "load_s": load["seconds"],
            "total_s": total,
            "posts_per_s": load["posts"] / total,
            "floor_s": floor["seconds"],
            "load_vs_floor": load["seconds"] / floor["seconds"],
            "peak_rss_mb": max(gen["peak_rss_mb"], load["peak_rss_mb"]),
            "db_mb": load["db_bytes"] / 1e6,
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
        shutil.rmtree(folder, ignore_errors=True)
    if args.write_docs:
        write_docs(rows)


def write_docs(rows: list[dict[str, float]]) -> None:
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()}, "
        f"Python {platform.python_version()}, command "
        f"`python bench/bench_synth_load.py --posts {' '.join(str(int(r['posts'])) for r in rows)}"
        " --write-docs` (requested sizes; actual posts below).",
        "",
        "| posts | generate (s) | load (s) | total (s) | posts/s | floor: raw DuckDB read (s) "
        "| load ÷ floor | peak RSS (MB) | warehouse (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {int(r['posts']):,} | {r['generate_s']:.1f} | {r['load_s']:.1f} | "
            f"{r['total_s']:.1f} | {r['posts_per_s']:,.0f} | {r['floor_s']:.1f} | "
            f"{r['load_vs_floor']:.1f}× | {r['peak_rss_mb']:,.0f} | {r['db_mb']:,.0f} |"
        )
    write_section("bench_synth_load", lines)


if __name__ == "__main__":
    main()
