"""Benchmark: `govsocial text update` over synthetic posts with a realistic vocabulary, and the
keywords and trends of the whole warehouse, against a DuckDB scan of the same texts.

The synthetic world's captions (src/govsocial/synth/captions.py) are filled from a few
thousand templates: 10M of them use about as many distinct words as 100k, and a text stage
that works once per distinct word would look unrealistically fast on them. Each post here
gets, on top of its caption, a sentence of extra words (a Poisson number, 12 on average)
drawn from a Zipf law (exponent 1) over a vocabulary cut so that the corpus's distinct words
follow Heaps' law with the parameters Manning, Raghavan & Schütze fit on Reuters RCV1
(*Introduction to Information Retrieval*, 2008, §5.1.1: M = 44 · T^0.49 for T tokens): about
60,000 distinct words at 100k posts, 580,000 at 10M. The vocabulary is wordfreq's Indonesian and
English words by frequency, then made-up Indonesian-looking words with prefixes and
suffixes (names, typos, rare words: the tail that no dictionary has, and the slowest for
the stemmer); some words are capitalised or carry a comma or full stop, as in real text.

Each phase runs in its own process (peak memory is its own, VmHWM), on the same warehouse:
- ``floor``: DuckDB reading every text, lower-casing it and splitting it at white space
  (``string_split_regex``), on its own threads: the least any tokeniser does;
- ``full``: `text update` on a fresh copy of the warehouse (every post read: tokens, themes,
  term counts kept);
- ``incremental``: 1% more posts (a sample of the posts again, new ids, new extra words)
  imported into that copy (not timed), then `text update` again;
- ``queries``: keywords by cluster and by account, and trends, of every post (up to 2M posts;
  the demo's 500k are the size they must answer in seconds at).

    python bench/bench_text.py --posts 100000
    python bench/bench_text.py --posts 10000000 --write-docs
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from common import report_phase, run_phase, write_section

ROOT = Path(__file__).resolve().parents[1]
EXTRA_WORDS = 12  # mean extra words per post
HEAPS_K, HEAPS_BETA = 44.0, 0.49  # RCV1 (Manning et al. 2008, §5.1.1)
SYNTH_WORDS = 14  # about the words per synthetic caption
SYLLABLES = [
    "ba",
    "be",
    "bi",
    "bu",
    "da",
    "di",
    "du",
    "ga",
    "gu",
    "ja",
    "ju",
    "ka",
    "ke",
    "ki",
    "ku",
    "la",
    "le",
    "li",
    "lu",
    "ma",
    "me",
    "mi",
    "mu",
    "na",
    "ni",
    "nu",
    "pa",
    "pi",
    "pu",
    "ra",
    "ri",
    "ru",
    "sa",
    "si",
    "su",
    "ta",
    "ti",
    "tu",
    "wa",
    "wi",
    "ya",
    "an",
    "ang",
    "ar",
    "as",
    "at",
    "in",
    "ing",
    "is",
    "ul",
    "un",
    "ung",
    "ur",
    "ban",
    "bang",
    "dan",
    "gan",
    "jar",
    "kan",
    "lam",
    "lang",
    "man",
    "nah",
    "ngan",
    "par",
    "ran",
    "rang",
    "san",
    "tan",
    "tang",
    "wan",
    "yang",
]
# Affixed on about a third of the made-up words: then the stemmer takes about as long on them
# as on wordfreq's rarest real Indonesian and English words (bench/bench_text.py --stem-cost).
PREFIXES = ("",) * 16 + ("me", "mem", "men", "meng", "di", "ber", "pe", "pen", "ter", "ke", "se")
SUFFIXES = ("",) * 16 + ("kan", "an", "nya", "i", "lah", "ku")


def vocabulary(size: int) -> list[str]:
    """``size`` distinct lower-case words: real ones by frequency, then made-up ones."""
    import wordfreq

    words: dict[str, None] = {}
    for lang in ("id", "en"):
        for w in wordfreq.get_frequency_dict(lang, "small"):
            if w.isascii() and w.isalpha() and len(words) < size:
                words[w] = None
    i = 0
    while len(words) < size:
        h = (i * 2654435761 + 12345) % 2**32
        n = 2 + h % 3
        body = "".join(SYLLABLES[(h >> (4 + 6 * k)) % len(SYLLABLES)] for k in range(n))
        word = PREFIXES[(h >> 20) % len(PREFIXES)] + body + SUFFIXES[(h >> 26) % len(SUFFIXES)]
        words.setdefault(word + ("" if i < 2**31 else str(i)), None)
        i += 1
    return list(words)


def expected_distinct(size: int, draws: float) -> float:
    """Distinct words expected in ``draws`` draws of a Zipf law (exponent 1) over ``size``."""
    total, harmonic = 0.0, math.log(size) + 0.5772156649
    for start in range(1, size + 1, 1_000_000):
        r = np.arange(start, min(size, start + 999_999) + 1, dtype=np.float64)
        total += float(np.sum(-np.expm1(-draws / (r * harmonic))))
    return total


def vocabulary_size(posts: int) -> int:
    """The vocabulary whose Zipf draws give Heaps' distinct words for ``posts`` posts."""
    draws = posts * EXTRA_WORDS
    target = HEAPS_K * (posts * (SYNTH_WORDS + EXTRA_WORDS)) ** HEAPS_BETA
    low, high = 1_000, 100_000_000
    while high - low > max(1_000, low // 100):
        mid = (low + high) // 2
        low, high = (mid, high) if expected_distinct(mid, draws) < target else (low, mid)
    return high


def enrich(texts: pa.Array, words: pa.Array, cdf: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """Each text followed by a sentence of extra words."""
    n = len(texts)
    count = rng.poisson(EXTRA_WORDS, n)
    rank = np.searchsorted(cdf, rng.random(int(count.sum())))
    flat = words.take(pa.array(rank, pa.int64()))
    style = rng.random(len(rank))
    capital = pc.utf8_capitalize(flat)
    flat = pc.if_else(pa.array(style < 0.15), capital, flat)
    flat = pc.if_else(
        pa.array(style > 0.95),
        pc.binary_join_element_wise(flat, ",", ""),
        pc.if_else(pa.array(style > 0.92), pc.binary_join_element_wise(flat, ".", ""), flat),
    )
    offsets = pa.array(np.r_[0, np.cumsum(count)].astype(np.int32))
    sentences = pc.binary_join(pa.ListArray.from_arrays(offsets, flat), " ")
    return pc.binary_join_element_wise(pc.fill_null(texts, ""), sentences, " ")


def build(folder: Path, posts: int) -> Path:
    """The world once, texts enriched, loaded into ``folder/govsocial.duckdb``."""
    from govsocial.demo import load_world_files
    from govsocial.store import Warehouse
    from govsocial.synth import generate

    db = folder / "govsocial.duckdb"
    if db.exists():
        return db
    folder.mkdir(parents=True, exist_ok=True)
    world = generate(folder / "world", posts=posts, seed=2025)
    size = vocabulary_size(world.posts)
    words = pa.array(vocabulary(size), pa.string())
    p = 1.0 / np.arange(1, size + 1)
    cdf = np.cumsum(p) / p.sum()
    rng = np.random.default_rng(2025)
    for path in world.post_files:
        table = pq.read_table(path)
        i = table.schema.get_field_index("text")
        table = table.set_column(i, "text", enrich(table["text"].combine_chunks(), words, cdf, rng))
        pq.write_table(table, path)
    # 1% more posts: a sample again, under new ids, with other extra words
    sample = []
    for path in world.post_files:
        table = pq.read_table(path)
        sample.append(table.take(pa.array(np.flatnonzero(rng.random(len(table)) < 0.01))))
    more = pa.concat_tables(sample)
    for name in ("post_id", "url"):
        i = more.schema.get_field_index(name)
        more = more.set_column(i, name, pc.binary_join_element_wise(more[name], "-more", ""))
    i = more.schema.get_field_index("text")
    base = pc.replace_substring_regex(more["text"].combine_chunks(), r" [^ ]+( [^ ]+){0,11}$", "")
    more = more.set_column(i, "text", enrich(base, words, cdf, rng))
    pq.write_table(more, folder / "one-percent-more.parquet")
    building = folder / "building.duckdb"
    building.unlink(missing_ok=True)
    with Warehouse.open(building, create=True) as wh:
        load_world_files(
            wh, world.registry_path, [*world.account_snapshot_files, *world.post_files]
        )
        wh.checkpoint()
    building.rename(db)
    (folder / "vocabulary.json").write_text(json.dumps({"size": size, "posts": world.posts}))
    return db


def phase_floor(db: Path) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    start = time.perf_counter()
    row = con.execute(
        "SELECT count(*), sum(len(string_split_regex(lower(coalesce(text, '')), '\\s+'))) "
        "FROM posts"
    ).fetchone()
    seconds = time.perf_counter() - start
    con.close()
    return {"seconds": seconds, "posts": row[0] if row else 0, "pieces": row[1] if row else 0}


def _copy(db: Path) -> Path:
    return db.with_name("updated.duckdb")


def phase_full(db: Path) -> dict[str, Any]:
    from govsocial.store import Warehouse
    from govsocial.text.update import update

    copy = _copy(db)
    shutil.copyfile(db, copy)
    Path(f"{copy}.wal").unlink(missing_ok=True)
    with Warehouse.open(copy) as wh:
        start = time.perf_counter()
        report = update(wh)
        seconds = time.perf_counter() - start
        wh.checkpoint()
        forms, words, rows = wh.con.execute(
            "SELECT count(*), count(*) FILTER (WHERE form NOT LIKE '#%'), "
            "(SELECT count(*) FROM post_terms) FROM text_forms"
        ).fetchone() or (0, 0, 0)
    return {
        "seconds": seconds,
        "posts": report.read,
        "tagged": report.tagged,
        "forms": forms,
        "word_forms": words,
        "term_rows": rows,
        "db_bytes": copy.stat().st_size,
        "source_db_bytes": db.stat().st_size,
    }


def phase_incremental(db: Path) -> dict[str, Any]:
    from govsocial.sources.generic import stage
    from govsocial.store import Warehouse, load_file
    from govsocial.text.update import update

    with Warehouse.open(_copy(db)) as wh:
        load_file(wh, db.parent / "one-percent-more.parquet", lambda p: stage(p, synthetic=True))
        start = time.perf_counter()
        report = update(wh)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "posts": report.read}


def phase_queries(db: Path) -> dict[str, Any]:
    from govsocial.store import Warehouse
    from govsocial.store.text import Scope
    from govsocial.text.update import scope_keywords, scope_trends

    result: dict[str, Any] = {}
    with Warehouse.open(_copy(db), read_only=True) as wh:
        for name, work in (
            ("keywords_cluster", lambda: scope_keywords(wh, Scope(), "cluster")),
            ("keywords_account", lambda: scope_keywords(wh, Scope(), "account")),
            ("trends", lambda: scope_trends(wh, Scope())),
        ):
            start = time.perf_counter()
            rows = work().num_rows
            result[f"{name}_s"] = time.perf_counter() - start
            result[f"{name}_rows"] = rows
    return result


PHASES = {
    "floor": phase_floor,
    "full": phase_full,
    "incremental": phase_incremental,
    "queries": phase_queries,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        report_phase(PHASES[args.child[0]](Path(args.child[1])))
        return
    folder = args.out / f"text-{args.posts}"
    db = build(folder, args.posts)
    phases = [p for p in PHASES if p != "queries" or args.posts <= 2_000_000]
    results = {phase: run_phase(__file__, phase, str(db)) for phase in phases}
    full, inc, floor = results["full"], results["incremental"], results["floor"]
    row: dict[str, Any] = {
        "posts": int(full["posts"]),
        "vocabulary": json.loads((folder / "vocabulary.json").read_text())["size"],
        "word_forms": int(full["word_forms"]),
        "forms": int(full["forms"]),
        "term_rows": int(full["term_rows"]),
        "pieces": int(floor["pieces"]),
        "full_s": full["seconds"],
        "posts_per_s": full["posts"] / full["seconds"],
        "floor_s": floor["seconds"],
        "full_vs_floor": full["seconds"] / floor["seconds"],
        "incremental_posts": int(inc["posts"]),
        "incremental_s": inc["seconds"],
        "incremental_vs_share": inc["seconds"] / (full["seconds"] * inc["posts"] / full["posts"]),
        "db_growth_mb": (full["db_bytes"] - full["source_db_bytes"]) / 1e6,
        **{k: v for k, v in results.get("queries", {}).items() if k != "peak_rss_mb"},
    }
    for phase in phases:
        row[f"{phase}_rss_mb"] = results[phase]["peak_rss_mb"]
    print(json.dumps(row), flush=True)
    for name in ("updated.duckdb", "updated.duckdb.wal"):
        (folder / name).unlink(missing_ok=True)
    if args.write_docs:
        write_docs(row, args.posts)


def write_docs(r: dict[str, Any], requested: int) -> None:
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()}, Python "
        f"{platform.python_version()}: `python bench/bench_text.py --posts {requested} "
        "--write-docs`.",
        "",
        "| posts | distinct words | full update (s) | posts/s | floor: DuckDB split (s) "
        "| update ÷ floor | +1% posts (s) | +1% ÷ its share of the full | peak RSS update / "
        "+1% / floor (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {r['posts']:,} | {r['word_forms']:,} | {r['full_s']:.1f} | {r['posts_per_s']:,.0f} "
        f"| {r['floor_s']:.1f} | {r['full_vs_floor']:.1f}× | {r['incremental_s']:.1f} "
        f"({r['incremental_posts']:,} posts) | {r['incremental_vs_share']:.1f}× "
        f"| {r['full_rss_mb']:,.0f} / {r['incremental_rss_mb']:,.0f} / {r['floor_rss_mb']:,.0f} |",
        "",
        f"Kept: {r['term_rows']:,} post-term rows and {r['forms']:,} forms "
        f"({r['db_growth_mb']:,.0f} MB more warehouse); {r['pieces']:,} pieces of text.",
    ]
    if "queries_rss_mb" in r:
        lines[-1] += (
            f" Then, over every post: keywords by cluster {r['keywords_cluster_s']:.1f} s, by "
            f"account {r['keywords_account_s']:.1f} s, trends {r['trends_s']:.1f} s (peak RSS "
            f"{r['queries_rss_mb']:,.0f} MB)."
        )
    write_section("bench_text", lines)


if __name__ == "__main__":
    main()
