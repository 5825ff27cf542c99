"""Benchmark: collecting posts from the fake platform server, against importing the same pages.

The fake platform server (``govsocial.synth.platforms``, docs/fake-platforms.md) runs in a
process of its own, answering at once (no faults, its limits raised out of the way), on a
world of ``--accounts`` accounts (÷ 5 institutions × the five platforms) with
``--posts`` ÷ ``--accounts`` posts each. Then, each in its own process and a fresh warehouse
with the world's registry loaded (not timed):

- ``collect``: ``collect.runs.collect(wh, api_root=server.root, since, until)`` over every
  account, the credentials in ``GOVSOCIAL_<NAME>`` variables. Every response body the
  collector loads is kept (``runs.load_file`` wrapped: the page file hard-linked into
  ``pages/<format>/``, its time set to the fetch time; the wrapper's own time is subtracted);
- ``import``: ``store.importing.import_paths`` of those same pages, one folder per format,
  in the order they were collected: the floor the collector's own loading cannot beat;
- ``profile``: the collect again under cProfile, on the first ``--profile-institutions``
  institutions only (``collect(institutions=...)``), into a third warehouse: where the
  collector's time goes (HTTP, JSON, temporary files, ``load_file``, cursors).

Requests and requests in flight are counted on the server's side: its ``handle`` wrapped in
the server's process (the server itself is unchanged). CPU per request is the collect
process's ``time.process_time()`` ÷ the requests it made (the server's CPU is its own).

Target (issue 11): collect ≤ 2× the import of the same pages.

    python bench/bench_collect.py --posts 1000000 --accounts 1000 --write-docs   # the target run
    python bench/bench_collect.py                       # 20,000 posts, 100 accounts: minutes
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import report_phase, run_phase, write_section

ROOT = Path(__file__).resolve().parents[1]
PLATFORMS = ("youtube", "facebook", "instagram", "x", "tiktok")  # collect.clients.CLIENTS
START, END = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC)  # the world's
SEED = 2025
UNLIMITED = 10**12  # the fake server's daily quotas and rate windows, out of the way


# ---- the server's process ----


def serve(folder: Path, institutions: int, posts_per_account: int) -> None:
    """Build the world, write its registry, serve it; on stdin ``stats`` print what the server
    saw since the last ``stats`` (and start again), on ``stop`` (or EOF) stop."""
    from govsocial.synth.platforms import FakePlatforms, FakeWorld, Limits

    world = FakeWorld(
        seed=SEED,
        institutions=institutions,
        posts_per_account=posts_per_account,
        start=START,
        end=END,
    )
    registry = world.write_registry(folder / "registry.yaml")
    limits = Limits(
        youtube_daily_units=UNLIMITED,
        tiktok_daily_requests=UNLIMITED,
        x_window_requests=UNLIMITED,
        graph_hourly_calls=UNLIMITED,
    )
    server = FakePlatforms(world, limits=limits, seed=SEED)
    meter = _InFlight(server.handle)
    setattr(server, "handle", meter)  # noqa: B010 (the instance's, not the class's)
    with server:
        expected = {p: world.total_posts(p, START, END) for p in PLATFORMS}
        _say({"root": server.root, "registry": str(registry), "expected": expected})
        for line in sys.stdin:
            if line.strip() == "stats":
                _say(meter.take())
            else:
                break


class _InFlight:
    """Wraps the server's ``handle``: requests, the most handled at once, busy time."""

    def __init__(self, handle: Callable[..., Any]) -> None:
        self.handle = handle
        self.lock = threading.Lock()
        self.requests, self.now, self.most, self.busy, self.cpu = 0, 0, 0, 0.0, 0.0
        self.take()

    def __call__(self, *args: Any) -> Any:
        with self.lock:
            self.requests += 1
            self.now += 1
            self.most = max(self.most, self.now)
        start = time.perf_counter()
        try:
            return self.handle(*args)
        finally:
            took = time.perf_counter() - start
            with self.lock:
                self.now -= 1
                self.busy += took

    def take(self) -> dict[str, float]:
        """What was seen since the last call (and start counting again)."""
        seen = {
            "requests": self.requests,
            "max_in_flight": self.most,
            "handling_s": self.busy,
            "server_cpu_s": time.process_time() - self.cpu,
        }
        self.requests, self.most, self.busy = 0, self.now, 0.0  # in flight now: still counted
        self.cpu = time.process_time()
        return seen


def _say(payload: dict[str, Any]) -> None:
    print(json.dumps(payload), flush=True)


class Server:
    """The server's process, seen from the benchmark's main process."""

    def __init__(self, folder: Path, institutions: int, posts_per_account: int) -> None:
        command = [sys.executable, __file__, "--serve", str(folder)]
        self.process = subprocess.Popen(
            [*command, str(institutions), str(posts_per_account)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ready = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit("the fake platform server's process stopped (see its error above)")
        return dict(json.loads(line))

    def stats(self) -> dict[str, float]:
        assert self.process.stdin is not None
        self.process.stdin.write("stats\n")
        self.process.stdin.flush()
        return self._read()

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


# ---- the phases (each in its own process) ----


def _fresh(db: Path, registry: Path) -> None:
    from govsocial.store.registry import load_registry

    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    load_registry(db, registry)


def _post_counts(db: Path) -> dict[str, int]:
    from govsocial.store import Warehouse

    with Warehouse.open(db, read_only=True) as wh:
        rows = wh.con.execute("SELECT platform, count(*) FROM posts GROUP BY 1").fetchall()
    return {p: int(dict(rows).get(p, 0)) for p in PLATFORMS}


def _set_credentials() -> None:
    from govsocial.synth.platforms import Credentials

    for name, value in Credentials().settings().items():
        os.environ[f"GOVSOCIAL_{name.upper()}"] = value


class _Recorder:
    """Keeps every page the collector loads: ``runs.stager`` tagged with its format and
    capture time, ``runs.load_file`` linking the page file into ``pages/<format>/`` first."""

    def __init__(self, pages: Path) -> None:
        from govsocial.collect import runs

        self.pages, self.runs = pages, runs
        self.stager, self.load_file = getattr(runs, "stager"), getattr(runs, "load_file")  # noqa: B009
        self.lock = threading.Lock()
        self.kept, self.seconds = 0, 0.0
        for fmt in {_format(p) for p in PLATFORMS}:
            (pages / fmt).mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> _Recorder:
        setattr(self.runs, "stager", self._stager)  # noqa: B010 (patching a module)
        setattr(self.runs, "load_file", self._load_file)  # noqa: B010
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(self.runs, "stager", self.stager)  # noqa: B010
        setattr(self.runs, "load_file", self.load_file)  # noqa: B010

    def _stager(self, fmt: str, options: Any = None) -> Any:
        stage = self.stager(fmt, options)
        moment = options.captured_at if options is not None else None
        return _Tagged(stage, fmt, moment)

    def _load_file(self, wh: Any, path: Path, stage: Any, **kw: Any) -> Any:
        start = time.perf_counter()
        with self.lock:
            self.kept += 1
            number = self.kept
        target = self.pages / stage.format / f"{number:08d}.json"
        try:
            os.link(path, target)
        except OSError:
            shutil.copyfile(path, target)
        if stage.captured_at is not None:  # import reads the capture time off the file's mtime
            stamp = stage.captured_at.timestamp()
            os.utime(target, (stamp, stamp))
        took = time.perf_counter() - start
        with self.lock:
            self.seconds += took
        return self.load_file(wh, path, stage.stage, **kw)


class _Tagged:
    def __init__(self, stage: Callable[[Path], Any], fmt: str, captured_at: Any) -> None:
        self.stage, self.format, self.captured_at = stage, fmt, captured_at

    def __call__(self, path: Path) -> Any:
        return self.stage(path)


def _format(platform_name: str) -> str:
    return {
        "youtube": "youtube",
        "facebook": "facebook-graph",
        "instagram": "instagram-graph",
        "x": "x-v2",
        "tiktok": "tiktok-research",
    }[platform_name]


def phase_collect(folder: Path, root: str, registry: Path) -> dict[str, Any]:
    _set_credentials()
    from govsocial.collect.runs import collect
    from govsocial.store import Warehouse

    db = folder / "collect.duckdb"
    _fresh(db, registry)
    pages = folder / "pages"
    shutil.rmtree(pages, ignore_errors=True)
    with Warehouse.open(db) as wh, _Recorder(pages) as recorder:
        cpu, start = time.process_time(), time.perf_counter()
        report = collect(wh, api_root=root, since=START, until=END)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "seconds": wall - recorder.seconds,
        "recorder_s": recorder.seconds,
        "cpu_s": cpu,
        "pages": report.pages,
        "errors": [a.error for a in report.errors][:3],
        "skipped": report.skipped,
        "posts": _post_counts(db),
    }


def phase_import(folder: Path, registry: Path) -> dict[str, Any]:
    from govsocial.store import Warehouse
    from govsocial.store.importing import import_paths

    db = folder / "import.duckdb"
    _fresh(db, registry)
    files, failures = 0, []
    with Warehouse.open(db) as wh:
        cpu, start = time.process_time(), time.perf_counter()
        for name in PLATFORMS:  # the collector's order: platform by platform
            fmt = _format(name)
            done = import_paths(wh, [folder / "pages" / fmt], format_name=fmt)
            files += len(done.summaries)
            failures += [f.message for f in done.failures]
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "seconds": wall,
        "cpu_s": cpu,
        "files": files,
        "failures": failures[:3],
        "posts": _post_counts(db),
    }


# Where the collector's time goes: (label, how to find its frames in the profile).
# A frame matches by its file's ending and function name; "~" are builtins (name part).
PARTS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "HTTP: httpx `Client.send` (sockets, waiting on the server, headers)",
        [("httpx/_client.py", "send")],
    ),
    (
        "JSON decoding, clients and readers (`json.decoder.raw_decode`)",
        [("json/decoder.py", "raw_decode")],
    ),
    (
        "temporary page files (`TemporaryDirectory`, `write_bytes`, clean-up)",
        [("tempfile.py", "__init__"), ("tempfile.py", "cleanup"), ("pathlib.py", "write_bytes")],
    ),
    (
        "`load_file` (identify, stage, load, keep raw, one transaction)",
        [("store/ingest.py", "load_file")],
    ),
    ("… of which staging (the format's reader)", [("store/ingest.py", "<stage>")]),
    (
        "… of which the loader (`ingest._load`: matching, keys, inserts)",
        [("store/ingest.py", "_load")],
    ),
    (
        "… of which the page's sha256 and raw keeping (`identify`, `Packing`, `keep`)",
        [
            ("store/batches.py", "identify"),
            ("store/rawfiles.py", "__enter__"),
            ("store/rawfiles.py", "result"),
            ("store/rawfiles.py", "keep"),
        ],
    ),
    (
        "own time of store/*.py frames: DuckDB's queries (cProfile counts them in their caller)",
        [("store/*", "<own>")],
    ),
    (
        "cursors and run state (store/collecting.py, outside load_file too)",
        [
            ("store/collecting.py", "save_cursor"),
            ("store/collecting.py", "finish_walk"),
            ("store/collecting.py", "record_outcome"),
            ("store/collecting.py", "due_recounts"),
            ("store/collecting.py", "cursor"),
            ("store/collecting.py", "complete_until"),
        ],
    ),
    (
        "waiting for the warehouse lock (own time of collect/runs.py frames: `with lock`)",
        [("collect/runs.py", "<own>")],
    ),
]


def _profile_parts(stats: pstats.Stats, total: float) -> list[dict[str, Any]]:
    table: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    stagers = {
        key
        for key in table
        if "govsocial/sources/" in key[0] and key[0].endswith("files.py") and key[2] == "stage"
    }
    rows = []
    for label, frames in PARTS:
        seconds = 0.0
        for key, (_cc, _nc, tt, ct, _callers) in table.items():
            file = key[0].replace("\\", "/")
            for ending, name in frames:
                if name == "<stage>":
                    seconds += ct if key in stagers else 0.0
                elif name == "<own>":
                    folder = ending.removesuffix("*")
                    own = folder in file if ending.endswith("*") else file.endswith(ending)
                    seconds += tt if own and "govsocial/" in file else 0.0
                elif file.endswith(ending) and key[2] == name:
                    seconds += ct
        rows.append({"part": label, "seconds": seconds, "share": seconds / total})
    return rows


class _ThreadProfiles:
    """cProfile sees one thread: every thread started meanwhile gets a profiler of its own
    (``Thread.run`` wrapped), so the collector's worker threads are profiled too."""

    def __init__(self) -> None:
        self.done: list[tuple[str, float, cProfile.Profile]] = []
        self.lock = threading.Lock()
        self.run = threading.Thread.run

    def __enter__(self) -> _ThreadProfiles:
        profiles, run = self, self.run

        def profiled(thread: threading.Thread) -> None:
            profiler, start = cProfile.Profile(), time.perf_counter()
            profiler.enable()
            try:
                run(thread)
            finally:
                profiler.disable()
                with profiles.lock:
                    profiles.done.append((thread.name, time.perf_counter() - start, profiler))

        setattr(threading.Thread, "run", profiled)  # noqa: B010
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(threading.Thread, "run", self.run)  # noqa: B010


def phase_profile(folder: Path, root: str, registry: Path, institutions: int) -> dict[str, Any]:
    _set_credentials()
    from govsocial.collect.runs import collect
    from govsocial.store import Warehouse

    db = folder / "profile.duckdb"
    _fresh(db, registry)
    with Warehouse.open(db) as wh:
        scope = [
            r[0]
            for r in wh.con.execute(
                "SELECT institution_id FROM institutions ORDER BY institution_id LIMIT ?",
                [institutions],
            ).fetchall()
        ]
        main = cProfile.Profile()
        with _ThreadProfiles() as threads:
            start = time.perf_counter()
            main.enable()
            report = collect(wh, api_root=root, since=START, until=END, institutions=scope)
            main.disable()
            wall = time.perf_counter() - start
    # The threads that collected (the collector names its workers "collect…"); else the main
    # thread did it all. Other threads (compressing raw pages) are left out.
    workers = [(s, p) for name, s, p in threads.done if name.startswith("collect")]
    chosen = workers or [(wall, main)]
    stats = pstats.Stats(chosen[0][1])
    for _s, profile in chosen[1:]:
        stats.add(profile)
    thread_s = sum(s for s, _p in chosen)
    out = folder / "collect-profile.txt"
    with out.open("w") as text:
        stats.stream = text  # type: ignore[attr-defined]
        stats.sort_stats("tottime").print_stats(40)
        stats.sort_stats("cumulative").print_stats(60)
    table: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    top = sorted(table.items(), key=lambda kv: kv[1][2], reverse=True)[:12]
    return {
        "seconds": wall,
        "threads": len(chosen),
        "thread_s": thread_s,
        "institutions": len(scope),
        "pages": report.pages,
        "posts": sum(_post_counts(db).values()),
        "parts": _profile_parts(stats, wall),
        "top": [
            {"frame": f"{Path(k[0]).name}:{k[1]}({k[2]})", "tottime": v[2], "calls": v[1]}
            for k, v in top
        ],
        "file": str(out),
    }


def child(args: list[str]) -> None:
    phase, folder = args[0], Path(args[1])
    if phase == "collect":
        report_phase(phase_collect(folder, args[2], Path(args[3])))
    elif phase == "import":
        report_phase(phase_import(folder, Path(args[2])))
    else:
        report_phase(phase_profile(folder, args[2], Path(args[3]), int(args[4])))


# ---- the run ----


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000, help="posts in all (about)")
    parser.add_argument("--accounts", type=int, default=100, help="a multiple of 5")
    parser.add_argument(
        "--profile-institutions",
        type=int,
        default=4,
        help="institutions (× 5 accounts) collected again under cProfile; 0: no profile",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--keep", action="store_true", help="keep the warehouses and pages")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]), int(args.serve[2]))
        return
    if args.child:
        child(args.child)
        return
    if args.accounts < 5 or args.accounts % 5:
        parser.error("--accounts: give a multiple of 5 (institutions × the five platforms)")
    institutions, per_account = args.accounts // 5, max(args.posts // args.accounts, 1)
    folder = args.out / f"collect-{args.posts}-{args.accounts}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    server = Server(folder, institutions, per_account)
    try:
        root, registry = server.ready["root"], server.ready["registry"]
        expected: dict[str, int] = server.ready["expected"]
        collected: dict[str, Any] = run_phase(__file__, "collect", str(folder), root, registry)
        seen = server.stats()
        imported: dict[str, Any] = run_phase(__file__, "import", str(folder), registry)
        profile: dict[str, Any] | None = None
        if args.profile_institutions:
            profile = dict(
                run_phase(
                    __file__, "profile", str(folder), root, registry, str(args.profile_institutions)
                )
            )
            profile["server"] = server.stats()
    finally:
        server.stop()
    posts = sum(collected["posts"].values())
    pages_mb = sum(f.stat().st_size for f in (folder / "pages").rglob("*.json")) / 1e6
    row = {
        "accounts": args.accounts,
        "expected": sum(expected.values()),
        "posts": posts,
        "collect_s": collected["seconds"],
        "posts_per_s": posts / collected["seconds"],
        "import_s": imported["seconds"],
        "ratio": collected["seconds"] / imported["seconds"],
        "pages": collected["pages"],
        "pages_mb": pages_mb,
        "requests": seen["requests"],
        "max_in_flight": seen["max_in_flight"],
        "mean_in_flight": seen["handling_s"] / collected["seconds"],
        "cpu_per_request_ms": 1000 * collected["cpu_s"] / max(seen["requests"], 1),
        "server_cpu_per_request_ms": 1000 * seen["server_cpu_s"] / max(seen["requests"], 1),
        "import_cpu_s": imported["cpu_s"],
        "collect_cpu_s": collected["cpu_s"],
        "collect_rss_mb": collected["peak_rss_mb"],
        "import_rss_mb": imported["peak_rss_mb"],
        "recorder_s": collected["recorder_s"],
        "same_counts": collected["posts"] == imported["posts"],
        "as_expected": collected["posts"] == expected,
        "per_platform": {
            p: (collected["posts"][p], imported["posts"][p], expected[p]) for p in PLATFORMS
        },
        "errors": collected["errors"],
        "skipped": collected["skipped"],
        "import_failures": imported["failures"],
    }
    print(json.dumps(row), flush=True)
    if profile:
        print(json.dumps(profile), flush=True)
    if not args.keep:
        for name in ("collect.duckdb", "import.duckdb", "profile.duckdb"):
            (folder / name).unlink(missing_ok=True)
        shutil.rmtree(folder / "pages", ignore_errors=True)
    if args.write_docs:
        write_section("bench_collect", _lines(args, row, profile))


def _lines(
    args: argparse.Namespace, row: dict[str, Any], profile: dict[str, Any] | None
) -> list[str]:
    platforms = ", ".join(
        f"{p} {c:,}" + ("" if c == i else f" (import {i:,})")
        for p, (c, i, _e) in row["per_platform"].items()
    )
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()}, Python "
        f"{platform.python_version()}: `python bench/bench_collect.py --posts {args.posts} "
        f"--accounts {args.accounts} --profile-institutions {args.profile_institutions} "
        "--write-docs`.",
        "",
        "| accounts | posts collected | collect (s) | posts/s | import of the same pages (s) "
        "| collect ÷ import | pages (MB) | requests | in flight: max / mean "
        "| CPU per request (ms) | peak RSS collect / import (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {row['accounts']:,} | {row['posts']:,} | {row['collect_s']:.1f} "
        f"| {row['posts_per_s']:,.0f} | {row['import_s']:.1f} | {row['ratio']:.2f}× "
        f"| {row['pages']:,} ({row['pages_mb']:,.0f}) | {row['requests']:,} "
        f"| {row['max_in_flight']} / {row['mean_in_flight']:.2f} "
        f"| {row['cpu_per_request_ms']:.0f} | {row['collect_rss_mb']:,.0f} / "
        f"{row['import_rss_mb']:,.0f} |",
        "",
        f"Posts per platform: {platforms}; both warehouses "
        + ("hold the same posts per platform" if row["same_counts"] else "**differ**")
        + (
            ", every post of the world"
            if row["as_expected"]
            else ", **not** every post of the world"
        )
        + f". The import's CPU: {row['import_cpu_s']:.1f} s; the collect's "
        f"{row['collect_cpu_s']:.1f} s; the server's {row['server_cpu_per_request_ms']:.0f} ms "
        "per request (its own process).",
    ]
    if profile:
        server = profile["server"]
        lines += [
            "",
            "Where the collector's time goes: cProfile of the collect of "
            f"{profile['institutions']} institutions ({profile['posts']:,} posts, "
            f"{profile['pages']:,} pages, {server['requests']:,} requests; "
            f"{profile['seconds']:.1f} s under the profiler, {profile['threads']} collecting "
            f"thread(s), {profile['thread_s']:.1f} thread-seconds). Cumulative times summed over "
            "the threads, so lines overlap where one calls another, and a line can pass 100% "
            "of the wall time when several threads spend it at once.",
            "",
            "| part | thread-seconds | ÷ wall time |",
            "|---|---:|---:|",
            *(
                f"| {p['part']} | {p['seconds']:.1f} | {100 * p['share']:.0f}% |"
                for p in profile["parts"]
            ),
            "",
            "Top frames by own time (summed over the threads): "
            + "; ".join(
                f"`{t['frame']}` {t['tottime']:.1f} s ({t['calls']:,} calls)"
                for t in profile["top"][:6]
            )
            + ".",
        ]
    return lines


if __name__ == "__main__":
    main()
