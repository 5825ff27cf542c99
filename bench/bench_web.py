"""Benchmark: the web app's public pages under load, against the same pages served statically,
measured in the same run.

The real server (``python -m govsocial serve``) runs in a process of its own over a published
run; a load generator in another process (N concurrent clients on asyncio, each a keep-alive
HTTP/1.1 connection with its own cookies, sending its next request as soon as the last one is
answered: no think time) hits a mix of pages for a fixed time and records every request's
latency. The clients speak HTTP on asyncio streams themselves: httpx costs about 10 ms of CPU
per request here, more than the server's own work, on the same two cores (``--client httpx``
still measures with it). Page kinds:

- ``overview``: ``/runs/{run}/index.html``;
- ``category``: ``/runs/{run}/categories/{c}/{cl}.html`` (several category × cluster pages);
- ``leaderboard``: ``/runs/{run}/leaderboard?category=C&cluster=CL``;
- ``leaderboard, platform, sorted``: the same ``&platform=P&sort=score&order=desc``;
- ``API leaderboard``: ``/api/runs/{run}/leaderboard?category=C&cluster=CL``.

Each kind gets the same share of the requests. Any answer but 200 (and any failed request)
is an error: counted per kind and shown, never dropped; latencies are of the 200s.

Baseline: the same pages as files behind the same HTTP stack (uvicorn + Starlette
``StaticFiles``, in its own process), with the same clients for the same time: the results
site written by ``govsocial.reports.site.write_site`` for the overview and category pages,
and for the leaderboards and the API the web server's own answers, saved after the warm-up
(a kind the web server does not answer with 200 has no baseline). The ratio is web p95 ÷
static p95 per kind. Both servers are up during the whole measurement, and the load
alternates between them in slices (web, static, static, web, … ``--rounds``), so that a
machine getting busier or quieter weighs on both alike.

Target (issue 14): with a published run of 10M posts, p95 under 100 ms with 50 concurrent
clients.

The machine's cores are shared by the server, the load generator and whatever else runs:
the load average is recorded before and after, and the CPU time the server and the load
generator used.

    python bench/bench_web.py --posts 200000                      # builds a run in a temp dir
    python bench/bench_web.py --published /work/bench-data/web-10m/pub/RUN --write-docs
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import report_phase, run_phase, write_section

KINDS = {
    "overview": "overview `/runs/{run}/index.html`",
    "category": "category pages `/runs/{run}/categories/{c}/{cl}.html`",
    "leaderboard": "leaderboard `/runs/{run}/leaderboard?category=C&cluster=CL`",
    "leaderboard_sorted": "leaderboard `…&platform=P&sort=score&order=desc`",
    "api": "API `/api/runs/{run}/leaderboard?category=C&cluster=CL`",
}
TARGET_MS = 100.0
START_TIMEOUT = 300.0  # seconds for a server to answer its first request
Target = tuple[str, str]  # (kind, path with query)


# ---------------------------------------------------------------- the pages to ask for


def targets(folder: Path, pages: int) -> list[Target]:
    """The URLs of each kind for the published run in ``folder`` (its id: the folder's name),
    with ``pages`` category × cluster pairs spread over the run's categories and clusters."""
    from govsocial.publish.model import ReadModel

    model = ReadModel.open(folder)
    run = folder.name
    pairs = [
        (str(c["id"]), str(cl["cluster_id"]))
        for c in model.results["categories"]
        for cl in c["clusters"]
    ]
    if not pairs:
        raise SystemExit(f"{folder}: the published run has no category × cluster to ask for.")
    count = min(pages, len(pairs))
    chosen = [pairs[(i * len(pairs)) // count] for i in range(count)]
    platforms = [str(p) for p in model.coverage.get("platforms", [])] or ["instagram"]
    found: list[Target] = [("overview", f"/runs/{run}/index.html")]
    for i, (category, cluster) in enumerate(chosen):
        query = f"category={category}&cluster={cluster}"
        found += [
            ("category", f"/runs/{run}/categories/{category}/{cluster}.html"),
            ("leaderboard", f"/runs/{run}/leaderboard?{query}"),
            (
                "leaderboard_sorted",
                f"/runs/{run}/leaderboard?{query}&platform={platforms[i % len(platforms)]}"
                "&sort=score&order=desc",
            ),
            ("api", f"/api/runs/{run}/leaderboard?{query}"),
        ]
    return found


def size_of(folder: Path) -> tuple[int, float]:
    """The published run's posts (in its period) and its folder's size in MB."""
    from govsocial.publish.model import ReadModel

    posts = ReadModel.open(folder).coverage.get("posts", {})
    size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file()) / 1e6
    return sum(int(p.get("posts", 0)) for p in posts.values()), size


# ---------------------------------------------------------------- the servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Process:
    """A server in its own process, on 127.0.0.1:port, its output in ``log``."""

    def __init__(self, name: str, command: list[str], port: int, log: Path) -> None:
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)

    def wait_ready(self, path: str) -> None:
        import httpx

        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(
                    f"The {self.name} server stopped before answering (exit code "
                    f"{self.proc.returncode}); its output:\n{self.tail()}"
                )
            try:
                httpx.get(self.url + path, timeout=START_TIMEOUT)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(
            f"The {self.name} server did not answer within {START_TIMEOUT:.0f} s; its "
            f"output:\n{self.tail()}"
        )

    def tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return "(no output)"

    def status(self) -> dict[str, float]:
        """Its peak resident memory (VmHWM) and the CPU time it has used so far."""
        peak = 0.0
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        return {"peak_rss_mb": peak, "cpu": cpu}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_web(published: Path, scratch: Path) -> Process:
    """``govsocial serve`` over the published run's root folder, with a new state file."""
    state = scratch / "state" / "govsocial-web.sqlite3"
    state.parent.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [
        *(sys.executable, "-m", "govsocial", "serve", "--port", str(port)),
        *("--state", str(state), "--root", str(published.parent)),
        *("--db", str(scratch / "state" / "unused.duckdb")),
    ]
    server = Process("web", command, port, scratch / "web.log")
    server.wait_ready("/runs")
    return server


def start_static(folder: Path, scratch: Path) -> Process:
    port = free_port()
    command = [sys.executable, __file__, "--child", "static", str(folder), str(port)]
    server = Process("static", command, port, scratch / "static.log")
    server.wait_ready("/")
    return server


def serve_static(folder: str, port: str) -> None:
    """The baseline: the files under ``folder`` on uvicorn + Starlette StaticFiles, with
    uvicorn's settings as ``govsocial serve`` runs it."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    app = Starlette(routes=[Mount("/", app=StaticFiles(directory=folder))])
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False)


def warm(base: str, found: list[Target]) -> dict[str, int]:
    """One request per URL (the server opens the run and builds its caches); their status."""
    import httpx

    statuses = {}
    with httpx.Client(base_url=base, timeout=600) as client:
        for _, path in found:
            statuses[path] = client.get(path).status_code
    return statuses


def snapshot(
    base: str, found: list[Target], statuses: dict[str, int], folder: Path
) -> list[Target]:
    """The static site's targets: its own pages for the overview and category pages, and the
    web server's answers to the other URLs saved as files (only those it answered with 200)."""
    import httpx

    static: list[Target] = []
    (folder / "saved").mkdir(parents=True, exist_ok=True)
    with httpx.Client(base_url=base, timeout=600) as client:
        for i, (kind, path) in enumerate(found):
            if kind in ("overview", "category"):
                static.append((kind, path))
            elif statuses[path] == 200:
                answer = client.get(path)
                if answer.status_code != 200:
                    continue
                suffix = ".json" if "json" in answer.headers.get("content-type", "") else ".html"
                name = f"saved/{kind}-{i}{suffix}"
                (folder / name).write_bytes(answer.content)
                static.append((kind, "/" + name))
    return static


# ---------------------------------------------------------------- the load generator


def schedule(found: list[Target]) -> list[Target]:
    """The URLs in the order the clients walk them: one of each kind in turn, each kind's
    URLs round-robin, so that every kind gets the same share of the requests."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, path in found:
        by_kind[kind].append(path)
    rounds = math.lcm(*(len(paths) for paths in by_kind.values()))
    return [(kind, paths[r % len(paths)]) for r in range(rounds) for kind, paths in by_kind.items()]


class Visitor:
    """One client: a keep-alive HTTP/1.1 connection and its cookies (a browser's CSRF cookie),
    on asyncio streams. Lean on purpose: httpx costs about as much CPU per request as the
    static server does, and the client runs on the same cores as the server."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        """GET ``path``, the whole body read; its status. Raises on a broken exchange."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [f"GET {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: */*"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        first, *rest = head.split("\r\n")
        status = int(first.split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in rest:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                key, _, cookie = value.partition("=")
                self.cookies[key] = cookie.split(";", 1)[0]
            elif name:
                headers[name] = value
        if "content-length" in headers:
            await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                await self.reader.readexactly(size + 2)
            await self.reader.readuntil(b"\r\n")
        else:
            await self.reader.read()  # the body runs to the end of the connection
            self.close()
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def hammer(
    base: str, found: list[Target], clients: int, seconds: float, how: str
) -> dict[str, Any]:
    """``clients`` visitors walking the schedule from evenly spaced places, each sending its
    next request when the last is answered, until ``seconds`` have passed."""
    import httpx

    order = schedule(found)
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    host, port = base.removeprefix("http://").rsplit(":", 1)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        deadline = time.perf_counter() + seconds

        async def one_client(number: int) -> None:
            step = number * len(order) // clients
            visitor = Visitor(host, int(port))
            while time.perf_counter() < deadline:
                kind, path = order[step % len(order)]
                step += 1
                start = time.perf_counter()
                try:
                    if how == "httpx":
                        status = (await client.get(path)).status_code
                    else:
                        status = await asyncio.wait_for(visitor.get(path), 60)
                except (
                    httpx.HTTPError,
                    asyncio.LimitOverrunError,
                    OSError,
                    EOFError,
                    ValueError,
                    IndexError,
                ) as exc:
                    errors[kind][type(exc).__name__] += 1
                    visitor.close()
                    continue
                elapsed = (time.perf_counter() - start) * 1000
                if status == 200:
                    latencies[kind].append(elapsed)
                else:
                    errors[kind][str(status)] += 1
            visitor.close()

        began = time.perf_counter()
        await asyncio.gather(*(one_client(n) for n in range(clients)))
        wall = time.perf_counter() - began
    return {"latencies": latencies, "errors": errors, "wall": wall}


def load(base: str, found_file: str, clients: str, seconds: str, how: str, out: str) -> None:
    """The load generator's process: its results (every latency) into the file ``out``."""
    found = [(k, p) for k, p in json.loads(Path(found_file).read_text())]
    before = resource.getrusage(resource.RUSAGE_SELF)
    result = asyncio.run(hammer(base, found, int(clients), float(seconds), how))
    after = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    Path(out).write_text(json.dumps(result))
    report_phase({"seconds": result["wall"]})


def measure(
    server: Process, found: list[Target], args: argparse.Namespace, seconds: float, scratch: Path
) -> dict[str, Any]:
    """The load generator against ``server`` for ``seconds``, in its own process; with the
    server's CPU time during the load, its peak memory and the load average before and
    after."""
    found_file = scratch / f"{server.name}-targets.json"
    found_file.write_text(json.dumps(found))
    out = scratch / f"{server.name}-load.json"
    load_before = os.getloadavg()[0]
    cpu_before = server.status()["cpu"]
    run_phase(
        __file__,
        "load",
        *(server.url, str(found_file), str(args.clients), str(seconds), args.client),
        str(out),
    )
    status = server.status()
    result: dict[str, Any] = json.loads(out.read_text())
    result.update(
        server_cpu=status["cpu"] - cpu_before,
        server_peak_rss_mb=status["peak_rss_mb"],
        load=[load_before, os.getloadavg()[0]],
    )
    return result


def merge(slices: list[dict[str, Any]]) -> dict[str, Any]:
    """One server's slices of load as one measurement."""
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for part in slices:
        for kind, times in part["latencies"].items():
            latencies[kind] += times
        for kind, counts in part["errors"].items():
            for status, count in counts.items():
                errors[kind][status] += count
    return {
        "latencies": latencies,
        "errors": errors,
        "wall": sum(part["wall"] for part in slices),
        "cpu": sum(part["cpu"] for part in slices),
        "server_cpu": sum(part["server_cpu"] for part in slices),
        "server_peak_rss_mb": max(part["server_peak_rss_mb"] for part in slices),
        "load": [x for part in slices for x in part["load"]],
    }


def alternate(
    web: tuple[Process, list[Target]],
    static: tuple[Process, list[Target]],
    args: argparse.Namespace,
    scratch: Path,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``--rounds`` slices of ``--seconds ÷ rounds`` per server, in the order web, static,
    static, web, … (so a machine getting busier or quieter weighs on both alike)."""
    slices: dict[str, list[dict[str, Any]]] = {"web": [], "static": []}
    part = args.seconds / args.rounds
    for r in range(args.rounds):
        for server, found in (web, static) if r % 2 == 0 else (static, web):
            print(
                f"round {r + 1}/{args.rounds}: {server.name} server, {args.clients} clients "
                f"for {part:g} s…",
                flush=True,
            )
            slices[server.name].append(measure(server, found, args, part, scratch))
    return merge(slices["web"]), merge(slices["static"])


# ---------------------------------------------------------------- the phases


def child(name: str, *args: str) -> None:
    if name == "build":
        from bench_reports import build

        build(Path(args[0]), int(args[1]))
        report_phase({"seconds": 0.0})
    elif name == "site":
        from govsocial.publish.model import ReadModel
        from govsocial.reports.site import write_site

        start = time.perf_counter()
        write_site(ReadModel.open(args[0]), Path(args[1]), args[2])
        report_phase({"seconds": time.perf_counter() - start})
    elif name == "static":
        serve_static(*args)
    elif name == "load":
        load(*args)
    else:
        raise SystemExit(f"unknown phase {name!r}")


def check_published(folder: Path) -> Path:
    folder = folder.absolute()
    if not (folder / "manifest.json").is_file():
        raise SystemExit(
            f"{folder} is not a published run (no manifest.json): give the folder "
            "`govsocial publish` wrote (published/<run_id>/), or use --posts N to build one."
        )
    from govsocial.errors import GovsocialError
    from govsocial.publish.model import ReadModel

    try:
        ReadModel.open(folder)
    except GovsocialError as exc:
        raise SystemExit(f"{folder}: {exc.message}") from None
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--published", type=Path, help="a published run's folder")
    source.add_argument(
        "--posts",
        type=int,
        default=200_000,
        help="without --published: build and publish a synthetic run this big (in a temp dir)",
    )
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=20.0, help="load time per server")
    parser.add_argument(
        "--client",
        choices=["raw", "httpx"],
        default="raw",
        help="the load generator's HTTP client: lean asyncio streams, or httpx (more CPU)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="alternate the servers this many times (web, static, static, web, …)",
    )
    parser.add_argument("--pages", type=int, default=6, help="category × cluster pairs asked")
    parser.add_argument("--lang", default="id", help="the static site's language (the web's)")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    if args.clients < 1 or args.seconds <= 0 or args.pages < 1 or args.rounds < 1:
        parser.error("--clients, --pages and --rounds must be at least 1, --seconds more than 0")
    with tempfile.TemporaryDirectory(prefix="bench-web-") as temporary:
        scratch = Path(temporary)
        if args.published is not None:
            published = check_published(args.published)
        else:
            print(f"building a published run of {args.posts:,} posts…", flush=True)
            (scratch / "build").mkdir()
            run_phase(__file__, "build", str(scratch / "build"), str(args.posts))
            published = Path((scratch / "build" / "published").read_text())
        found = targets(published, args.pages)
        size = size_of(published)
        static_root = scratch / "static"
        site_out = static_root / "runs" / published.name
        site_out.parent.mkdir(parents=True)
        site = run_phase(__file__, "site", str(published), str(site_out), args.lang)

        print("web server: starting, warming up (one request per URL)…", flush=True)
        start = time.perf_counter()
        web = start_web(published, scratch)
        static: Process | None = None
        try:
            statuses = warm(web.url, found)
            warm_seconds = time.perf_counter() - start
            overview = found[0][1]
            if statuses[overview] != 200:
                raise SystemExit(
                    f"The web server answers {statuses[overview]} to {overview}: it does not "
                    f"serve the run {published.name}, so there is nothing to measure. Its "
                    f"output:\n{web.tail()}"
                )
            static_found = snapshot(web.url, found, statuses, static_root)
            static = start_static(static_root, scratch)
            warm(static.url, static_found)
            web_result, static_result = alternate(
                (web, found), (static, static_found), args, scratch
            )
        finally:
            web.stop()
            if static is not None:
                static.stop()
    lines = report(
        args,
        published,
        size,
        found,
        statuses,
        web_result,
        static_result,
        {"site": site["seconds"], "warm": warm_seconds},
    )
    print("\n".join(lines))
    if args.write_docs:
        write_section("bench_web", lines)


# ---------------------------------------------------------------- the report


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))]


def summary(result: dict[str, Any], kind: str | None) -> dict[str, Any]:
    """Requests, errors and latency percentiles of one kind (``None``: all kinds)."""
    kinds = [kind] if kind else list(KINDS)
    times = [t for k in kinds for t in result["latencies"].get(k, [])]
    errors: dict[str, int] = defaultdict(int)
    for k in kinds:
        for status, count in result["errors"].get(k, {}).items():
            errors[status] += count
    out: dict[str, Any] = {
        "ok": len(times),
        "errors": dict(errors),
        "rate": (len(times) + sum(errors.values())) / result["wall"],
    }
    if times:
        out.update({f"p{p}": percentile(times, p) for p in (50, 95, 99)})
    return out


def table_row(
    web: dict[str, Any], static: dict[str, Any], kind: str | None, urls: int
) -> tuple[str, bool]:
    """One page kind's row (``None``: all kinds), and whether it meets the target."""
    w, s = summary(web, kind), summary(static, kind)
    name = KINDS[kind] if kind else "**all pages**"
    errors = ", ".join(f"{n:,} × {code}" for code, n in sorted(w["errors"].items())) or "0"
    cells = f"{w['p50']:.0f} | {w['p95']:.0f} | {w['p99']:.0f}" if "p95" in w else "– | – | –"
    both = "p95" in s and "p95" in w
    base = f"{s['p50']:.0f} / {s['p95']:.0f} | {w['p95'] / s['p95']:.1f}×" if both else "– | –"
    rate = f"{s['rate']:,.0f}" if s["ok"] or s["errors"] else "–"
    met = "p95" in w and w["p95"] < TARGET_MS and not w["errors"]
    verdict = "yes" if met else ("no: errors" if w["errors"] else "no")
    row = (
        f"| {name} | {urls} | {w['rate']:,.0f} ({rate}) | {errors} | {cells} | {base} | {verdict} |"
    )
    return row, met


def stack() -> str:
    """The HTTP parser and event loop uvicorn picks here (both servers alike): httptools and
    uvloop when installed (uvicorn[standard]), else h11 and asyncio."""
    from importlib.util import find_spec

    parser = "httptools" if find_spec("httptools") else "h11"
    loop = "uvloop" if find_spec("uvloop") else "asyncio"
    return f"{parser} + {loop}"


def loads(result: dict[str, Any]) -> str:
    pairs = result["load"]
    return ", ".join(f"{a:.1f}→{b:.1f}" for a, b in zip(pairs[::2], pairs[1::2], strict=True))


def report(
    args: argparse.Namespace,
    published: Path,
    size: tuple[int, float],
    found: list[Target],
    statuses: dict[str, int],
    web: dict[str, Any],
    static: dict[str, Any],
    seconds: dict[str, float],
) -> list[str]:
    command = "python bench/bench_web.py " + (
        f"--published {published}" if args.published else f"--posts {args.posts}"
    )
    if args.clients != 50 or args.seconds != 20:
        command += f" --clients {args.clients} --seconds {args.seconds:g}"
    if args.rounds != 2:
        command += f" --rounds {args.rounds}"
    if args.client != "raw":
        command += f" --client {args.client}"
    client = "httpx" if args.client == "httpx" else "asyncio streams"
    urls: dict[str, int] = defaultdict(int)
    for kind, _ in found:
        urls[kind] += 1
    posts, megabytes = size
    lines = [
        "## The web app under load (`bench/bench_web.py`)",
        "",
        "Target (issue 14): with a published run of 10M posts, the results and leaderboard "
        "pages at p95 under 100 ms with 50 concurrent clients. The real server (`govsocial "
        "serve`, its own process) and, as the baseline, the same pages as files behind the "
        "same HTTP stack (uvicorn + Starlette `StaticFiles`: the results site of `write_site` "
        "for the overview and category pages, the web server's own answers saved as files "
        "for the leaderboards and the API), both loaded by the same clients (another process: "
        "each client a keep-alive connection with its cookies, its next request sent when the "
        "last is answered) for the same time, in alternating slices. Every kind gets the same "
        "share of the requests; any answer but 200 is an error, counted; latencies are of the "
        "200s, client-side, from sending the request to the last byte of the body.",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}: `{command} --write-docs`; "
        f"run `{published.name}` ({posts:,} posts; the published folder is {megabytes:,.1f} MB), "
        f"{args.clients} concurrent clients ({client}, "
        f"keep-alive, no think time) for {args.seconds:g} s per server, in {args.rounds} "
        f"alternating slices. Load average (1 min) around the web server's slices: "
        f"{loads(web)}; around the static server's: {loads(static)}.",
        "",
        "| page kind | URLs | requests/s web (static) | errors | p50 (ms) | p95 (ms) "
        "| p99 (ms) | static p50 / p95 (ms) | web ÷ static p95 | p95 < 100 ms |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    verdicts = []
    for kind in KINDS:
        row, met = table_row(web, static, kind, urls[kind])
        lines.append(row)
        verdicts.append(met)
    lines.append(table_row(web, static, None, len(found))[0])
    web_requests = summary(web, None)
    total = web_requests["ok"] + sum(web_requests["errors"].values())
    static_total = summary(static, None)
    static_requests = static_total["ok"] + sum(static_total["errors"].values())
    web_ms = max(1000 * web["server_cpu"] / max(total, 1), 0.01)
    static_ms = max(1000 * static["server_cpu"] / max(static_requests, 1), 0.01)
    lines += [
        "",
        f"Web server (`govsocial serve`, one uvicorn process on {stack()}): peak RSS "
        f"{web['server_peak_rss_mb']:,.0f} MB, CPU {web['server_cpu']:.1f} s under load "
        f"({web_ms:.1f} ms per request); static server "
        f"{static['server_peak_rss_mb']:,.0f} MB, "
        f"{static_ms:.1f} ms CPU per request. "
        f"The load generator used {web['cpu']:.1f} s CPU against the web server "
        f"({1000 * web['cpu'] / max(total, 1):.1f} ms per request) and {static['cpu']:.1f} s "
        f"against the static one, on the same cores. Start + warm-up (one request per URL) "
        f"{seconds['warm']:.1f} s; the static site took {seconds['site']:.1f} s to write.",
        "",
        f"What the CPU allows (Little's law, closed loop): {args.clients} clients with no think "
        f"time wait {args.clients} ÷ throughput on average, so a p95 under {TARGET_MS:.0f} ms "
        f"needs more than {1000 * args.clients / TARGET_MS:,.0f} requests/s. At "
        f"{web_ms:.1f} ms of server CPU per request, one uvicorn process on one core of its "
        f"own serves at most {1000 / web_ms:,.0f} requests/s (mean wait ≥ "
        f"{args.clients * web_ms:.0f} ms); the static server at {static_ms:.1f} ms, "
        f"{1000 / static_ms:,.0f} requests/s (≥ {args.clients * static_ms:.0f} ms).",
    ]
    missing = sorted({kind for kind, path in found if statuses[path] != 200})
    if missing:
        lines += [
            "",
            "Not answered with 200 at warm-up (so every request of the kind is an error and "
            "it has no baseline): "
            + ", ".join(
                f"{k} ({', '.join(sorted({str(statuses[p]) for kk, p in found if kk == k}))})"
                for k in missing
            )
            + ".",
        ]
    met = all(verdicts)
    lines.append("")
    lines.append(
        f"**Target (p95 < {TARGET_MS:.0f} ms for every page kind, no errors, "
        f"{args.clients} clients): {'met' if met else 'not met'}**"
        + ("" if posts >= 10_000_000 else f" at {posts:,} posts (the target is for 10M)")
        + f"; the same pages as static files on the same stack and machine: p95 "
        f"{static_total.get('p95', 0):.0f} ms over all kinds, "
        f"{'under' if static_total.get('p95', 1e9) < TARGET_MS else 'not under'} "
        f"{TARGET_MS:.0f} ms."
    )
    return lines


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        main()
