"""Benchmark: the report of a published run: the results site, and one scorecard per institution
in HTML and A4 PDF, against floors measured in the same run.

Each phase runs in its own process (its memory and CPU are its own) on the same published run:
- ``read floor``: ``ReadModel.open`` (every file's SHA-256 checked) and every table read into
  Python rows: what any report must do before writing anything;
- ``site``: ``govsocial.reports.site.write_site`` (skipped, and said so, if it is not there);
- ``PDF floor``: a one-page PDF (the institution's name and a line) per institution through
  WeasyPrint, in the same pool of worker processes as the scorecards: the least a PDF per
  institution can cost here, worker start included;
- ``scorecards, HTML``: ``write_scorecards(pdf=False)``: every institution's page with its four
  charts (vl-convert), no PDF;
- ``scorecards, HTML + PDF``: ``write_scorecards()``: the same and the A4 PDFs.

Targets (issue 13), for a 211-institution run: the site under 30 s; all 211 PDF scorecards
under 3 minutes on 2 cores. On a shared machine the wall time depends on the other jobs, so
each phase also reports its CPU time (its own and its worker processes'), and ``CPU ÷ 2`` is
what the phase would take on two cores of its own.

    python bench/bench_reports.py --published /tmp/pub/a69552ce2daf01aa --write-docs
    python bench/bench_reports.py --posts 100000 --write-docs   # builds and publishes a run
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import report_phase, run_phase, write_section

ROOT = Path(__file__).resolve().parents[1]
CORES = 2  # the target machine


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the pool's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def children_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def phase_read(folder: str) -> dict[str, float]:
    from govsocial.publish.model import TABLES, ReadModel

    start = time.perf_counter()
    model = ReadModel.open(folder)
    rows = sum(len(model.table(name).to_pylist()) for name in TABLES)
    assert model.results and model.coverage
    return {"seconds": time.perf_counter() - start, "rows": rows}


def phase_site(folder: str, out: str, lang: str) -> dict[str, float]:
    from govsocial.publish.model import ReadModel

    try:
        from govsocial.reports.site import write_site
    except ImportError:
        return {"missing": 1.0}
    model = ReadModel.open(folder)
    start = time.perf_counter()
    write_site(model, Path(out), lang)
    return {"seconds": time.perf_counter() - start}


def _one_page(args: tuple[str, str]) -> int:
    import weasyprint  # type: ignore[import-untyped]

    name, out = args
    html = f"<html><body><h1>{name}</h1><p>{name}: 1.234 unggahan.</p></body></html>"
    pdf = weasyprint.HTML(string=html).write_pdf()
    Path(out).write_bytes(pdf)
    return len(pdf)


def phase_pdf_floor(folder: str, out: str) -> dict[str, float]:
    from govsocial.publish.model import ReadModel
    from govsocial.reports.scorecards import WORKERS

    model = ReadModel.open(folder)
    names = sorted({r["institution_name"] for r in model.table("accounts").to_pylist()})
    Path(out).mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(WORKERS, mp_context=context) as pool:
        jobs = [(n, str(Path(out) / f"{i}.pdf")) for i, n in enumerate(names)]
        list(pool.map(_one_page, jobs))
    return {"seconds": time.perf_counter() - start, "cards": len(names)}


def phase_cards(folder: str, out: str, lang: str, pdf: str) -> dict[str, float]:
    from govsocial.publish.model import ReadModel
    from govsocial.reports.scorecards import write_scorecards

    model = ReadModel.open(folder)
    start = time.perf_counter()
    paths = write_scorecards(model, Path(out), lang, pdf=pdf == "pdf")
    return {
        "seconds": time.perf_counter() - start,
        "cards": len([p for p in paths if p.suffix == ".html"]),
        "pdf_pages_bytes": sum(p.stat().st_size for p in paths if p.suffix == ".pdf"),
    }


PHASES = {
    "read": phase_read,
    "site": phase_site,
    "pdf_floor": phase_pdf_floor,
    "cards": phase_cards,
}


def child(name: str, *args: str) -> None:
    if name == "build":
        build(Path(args[0]), int(args[1]))
        report_phase({"seconds": 0.0})
        return
    before = cpu_seconds()
    result = PHASES[name](*args)
    result["cpu"] = cpu_seconds() - before
    result["workers_peak_rss_mb"] = children_peak_mb()
    report_phase(result)


def build(folder: Path, posts: int) -> None:
    """A synthetic world of ``posts`` posts, run with gsm2025 and published into folder/pub."""
    from govsocial.awards.runs import run_and_keep
    from govsocial.demo import load_world
    from govsocial.publish.build import publish_run
    from govsocial.store import Warehouse
    from govsocial.synth import generate

    db = folder / "w.duckdb"
    with Warehouse.open(db, create=True) as wh:
        load_world(wh, generate(folder / "files", seed=7, posts=posts))
    run = run_and_keep(db, "gsm2025", "duckdb", replicates=20)
    published = publish_run(db, run.run_id, folder / "pub").folder
    (folder / "published").write_text(str(published))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--published", type=Path, help="a published run's folder")
    parser.add_argument(
        "--posts",
        type=int,
        default=100_000,
        help="without --published: build and publish a synthetic run this big",
    )
    parser.add_argument("--lang", default="id")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        scratch = Path(temporary)
        published = args.published
        if published is None:
            run_phase(__file__, "build", str(scratch), str(args.posts))
            published = Path((scratch / "published").read_text())
        load = os.getloadavg()[0]
        results = {
            "read": run_phase(__file__, "read", str(published)),
            "site": run_phase(__file__, "site", str(published), str(scratch / "site"), args.lang),
            "pdf_floor": run_phase(__file__, "pdf_floor", str(published), str(scratch / "floor")),
            "html": run_phase(
                __file__, "cards", str(published), str(scratch / "html"), args.lang, "html"
            ),
            "pdf": run_phase(
                __file__, "cards", str(published), str(scratch / "pdf"), args.lang, "pdf"
            ),
        }
        load_after = os.getloadavg()[0]
        shutil.rmtree(scratch / "pdf", ignore_errors=True)
    lines = report(results, published, args, load, load_after)
    print("\n".join(lines))
    if args.write_docs:
        write_section("bench_reports", lines)


def report(
    results: dict[str, dict[str, float]],
    published: Path,
    args: argparse.Namespace,
    load: float,
    load_after: float,
) -> list[str]:
    cards = int(results["pdf"]["cards"])
    command = "python bench/bench_reports.py " + (
        f"--published {published}" if args.published else f"--posts {args.posts}"
    )
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}: `{command} --write-docs`; {cards} institutions, "
        f"language `{args.lang}`, load average {load:.1f} before and {load_after:.1f} after.",
        "",
        "| phase | wall (s) | CPU (s) | CPU ÷ 2 cores (s) | per institution, CPU (s) "
        "| ÷ floor (CPU) | peak RSS, main / workers (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]

    def row(name: str, key: str, floor: str | None) -> str:
        r = results[key]
        ratio = f"{r['cpu'] / results[floor]['cpu']:.1f}×" if floor else "1 (floor)"
        per = f"{r['cpu'] / cards:.2f}" if key in ("pdf_floor", "html", "pdf") else "–"
        workers = f"{r['workers_peak_rss_mb']:,.0f}" if r.get("workers_peak_rss_mb") else "–"
        return (
            f"| {name} | {r['seconds']:.1f} | {r['cpu']:.1f} | {r['cpu'] / CORES:.1f} | {per} "
            f"| {ratio} | {r['peak_rss_mb']:,.0f} / {workers} |"
        )

    lines.append(row("read floor: open the read model, read every table", "read", None))
    if results["site"].get("missing"):
        lines.append("| site | not measured: `govsocial.reports.site` is not there yet | | | | | |")
    else:
        lines.append(row("site (`write_site`)", "site", "read"))
    lines.append(row("PDF floor: a one-page PDF per institution, 2 workers", "pdf_floor", None))
    lines.append(row("scorecards, HTML with charts (`pdf=False`)", "html", "pdf_floor"))
    lines.append(row("scorecards, HTML + A4 PDF", "pdf", "pdf_floor"))
    return lines


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        main()
