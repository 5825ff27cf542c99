"""`govsocial demo` and `govsocial synth`: the realistic SYNTHETIC world."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from govsocial.cli.common import (
    DbOption,
    db_path,
    interrupted,
    open_warehouse,
    progress,
    say,
    styled,
    warn,
)

if TYPE_CHECKING:
    from rich.progress import Progress

    from govsocial.demo import Progress as BuildProgress


def _build_progress(bar: Progress, posts: int) -> BuildProgress:
    from govsocial.demo import Progress as BuildProgress

    gen = bar.add_task("Generating posts", total=posts)
    load = bar.add_task("Loading files", total=None)
    read = bar.add_task("Reading post texts", total=None)

    def generated(n: int) -> None:
        bar.advance(gen, n)
        if bar.tasks[gen].completed >= posts and bar.tasks[load].total is None:
            bar.update(load, total=max(2, posts // 1_000_000 + 2))

    return BuildProgress(
        generated=generated,
        loaded=lambda _: bar.advance(load),
        read=lambda done, total: bar.update(read, completed=done, total=total),
    )


def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help="Folder for the demo warehouse and files.")
    ] = Path("govsocial-demo"),
    posts: Annotated[
        int, typer.Option(min=1000, max=99_999_999, help="Posts to generate.")
    ] = 500_000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic world.")] = 2025,
    collect: Annotated[
        bool,
        typer.Option(
            help="Also collect from the fake platform server (all five APIs, with faults) "
            "into DIR/collected.duckdb."
        ),
    ] = True,
    pdf: Annotated[
        bool, typer.Option("--pdf/--no-pdf", help="Also write the institutions' PDF scorecards.")
    ] = True,
) -> None:
    """Build a demo warehouse from a realistic SYNTHETIC world, run the award on it, publish
    it and write its report (site, scorecards, exports; in Indonesian), and show collection
    from the five platform APIs against the fake platform server."""
    from govsocial.cli.awards import print_nominees, run_with_progress
    from govsocial.cli.publishing import publish_with_progress, report_with_progress
    from govsocial.cli.warehouse import print_summary
    from govsocial.config import resolve
    from govsocial.demo import build_demo
    from govsocial.publish.model import ReadModel
    from govsocial.store.summary import summarise
    from govsocial.store.warehouse import Warehouse

    warn(f"Building a demo in {folder}/ (synthetic data, seed {seed}) ...")
    stopped = (
        f"Interrupted: the demo warehouse in {folder}/ was not built (nothing half-built is "
        "left). Run `govsocial demo` again to build it."
    )
    with interrupted(stopped), progress() as bar:
        path, _ = build_demo(folder, posts=posts, seed=seed, progress=_build_progress(bar, posts))
    with Warehouse.open(path, read_only=True) as wh:
        print_summary(summarise(wh))
    document = run_with_progress("gsm2025", str(resolve("engine").value), path)
    print_nominees(document)
    published = publish_with_progress(document["run_id"], None, path)
    written = report_with_progress(ReadModel.open(published.folder), folder / "report", "id", pdf)
    collected = _collect_demo(folder) if collect else None
    nominee = document["categories"][0]["clusters"][0]["nominees"]
    logins = _demo_web(folder, str(nominee[0]["institution_id"]) if nominee else "demo")
    say(styled("\nNext, try:", "bold"))
    for line in (
        f"export GOVSOCIAL_DB={path}",
        f"govsocial awards show {document['run_id']} --format csv",
        "govsocial awards run --methodology gsm2020",
        "govsocial text keywords --by cluster",
        "govsocial text trends",
        "govsocial info",
        'govsocial sql "SELECT media_type, count(*) AS posts FROM posts GROUP BY 1"',
        "govsocial sql \"SELECT * FROM institutions WHERE cluster_id = 'pemda'\" --format csv",
        "govsocial registry list",
        *([f"govsocial collect status --db {collected}"] if collected else []),
        f"govsocial report {document['run_id']} --lang en --pdf",
    ):
        say(f"  {line}")
    say(
        styled("\nThe report (Bahasa Indonesia): open ", "bold"), styled(str(written.index), "bold")
    )
    say(styled("\nThe web app (results, registration, jury):", "bold"))
    say(f"  govsocial serve --db {path}")
    say(f"  then open http://localhost:8000/ and sign in (Masuk) with a login of {logins}")


def _demo_web(folder: Path, institution: str) -> Path:
    """The demo's web users (an organiser, three jurors, an operator), their passwords in a
    file of the demo folder; returns that file."""
    from govsocial.demo import DEMO_LOGINS_FILE, demo_users

    _, people = demo_users(folder, institution)
    listing = folder / DEMO_LOGINS_FILE
    if people:
        say(styled("\nWeb app users of the demo (kept in ", "bold"), str(listing), "):")
        for person in people:
            say(f"  {person.role:<10} {person.login:<8} {person.password}")
    return listing


def _collect_demo(folder: Path) -> Path:
    """The demo's collection from the fake platform server, with its check, on screen."""
    from govsocial.demo import collect_demo

    warn("\nCollecting from the fake platform server (YouTube, Facebook, Instagram, X, TikTok) ...")
    with progress() as bar:
        task = bar.add_task("Collecting", total=None)

        def step(account: object, what: str) -> None:
            name = getattr(account, "handle", "")
            bar.update(task, description=f"{getattr(account, 'platform', '')} @{name}: {what}")

        done = collect_demo(
            folder, step=step, on_wait=lambda w: bar.console.print(str(w), markup=False)
        )
        bar.update(task, description="Collected", total=1, completed=1)
    report = done.report
    say(
        f"Collected {sum(done.collected.values()):,} posts of {len(report.accounts):,} accounts "
        f"in {report.pages:,} pages into {done.path}, through injected faults "
        f"({done.faults})."
    )
    for platform, expected in done.expected.items():
        got = done.collected.get(platform, 0)
        mark = "all arrived, once each" if got == expected else "MISSING POSTS"
        say(f"  {platform:<10} {got:>6,} of {expected:,} posts the server holds: {mark}")
    for result in report.errors:
        warn(f"  {result.account.platform} @{result.account.handle}: {result.error}")
    from govsocial.cli.awards import run_with_progress

    awarded = run_with_progress("gsm2025", "duckdb", done.path)
    nominees = sum(len(c["nominees"]) for k in awarded["categories"] for c in k["clusters"])
    say(
        f"gsm2025 on the collected posts: run {awarded['run_id']}, {nominees:,} nominees "
        f"(govsocial awards show {awarded['run_id']} --db {done.path})."
    )
    return done.path


def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the generated files.")] = Path(
        "synth-world"
    ),
    posts: Annotated[
        int, typer.Option(min=1000, max=99_999_999, help="Posts to generate.")
    ] = 500_000,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same world.")] = 2025,
    load: Annotated[bool, typer.Option(help="Load the world into the warehouse (--db).")] = True,
    with_real_data: Annotated[
        bool,
        typer.Option(
            help="Load it even into a warehouse holding real data (every award run on that "
            "warehouse is then labelled SYNTHETIC)."
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Generate a SYNTHETIC world as generic Parquet files and load it into the warehouse."""
    from govsocial.cli.warehouse import print_summary
    from govsocial.demo import Progress as BuildProgress
    from govsocial.demo import check_target, load_world
    from govsocial.store.summary import summarise
    from govsocial.synth import generate
    from govsocial.words import count

    if load and not with_real_data and db_path(db).exists():
        with open_warehouse(db, read_only=True) as wh:
            check_target(wh)  # before minutes of generating, not after
    incomplete = f"Interrupted: the files in {out_dir}/ are incomplete; run again."
    with interrupted(incomplete), progress() as bar:
        task = bar.add_task("Generating posts", total=posts)
        world = generate(
            out_dir, seed=seed, posts=posts, on_progress=lambda n: bar.advance(task, n)
        )
    warn(
        f"Wrote {count(world.posts, 'post')} of {count(world.accounts, 'account')} "
        f"({count(world.institutions, 'institution')}) to {out_dir}/"
    )
    if not load:
        return
    stopped = (
        "Interrupted: the files loaded so far are kept; run the same command again to load "
        "the rest (files already loaded are skipped)."
    )
    with interrupted(stopped), open_warehouse(db, create=True) as wh, progress() as bar:
        files = 1 + len(world.account_snapshot_files) + len(world.post_files)
        task = bar.add_task("Loading files", total=files)
        bar.advance(task)
        load_world(
            wh,
            world,
            BuildProgress(loaded=lambda _: bar.advance(task)),
            with_real_data=with_real_data,
        )
        summary = summarise(wh)
    print_summary(summary)
