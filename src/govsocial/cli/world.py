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

    def generated(n: int) -> None:
        bar.advance(gen, n)
        if bar.tasks[gen].completed >= posts and bar.tasks[load].total is None:
            bar.update(load, total=max(2, posts // 1_000_000 + 2))

    return BuildProgress(generated=generated, loaded=lambda _: bar.advance(load))


def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help="Folder for the demo warehouse and files.")
    ] = Path("govsocial-demo"),
    posts: Annotated[
        int, typer.Option(min=1000, max=99_999_999, help="Posts to generate.")
    ] = 500_000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic world.")] = 2025,
) -> None:
    """Build a demo warehouse from a realistic SYNTHETIC world and summarise it."""
    from govsocial.cli.awards import print_nominees, run_with_progress
    from govsocial.cli.warehouse import print_summary
    from govsocial.config import resolve
    from govsocial.demo import build_demo
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
    say(styled("\nNext, try:", "bold"))
    for line in (
        f"export GOVSOCIAL_DB={path}",
        f"govsocial awards show {document['run_id']} --format csv",
        "govsocial awards run --methodology gsm2020",
        "govsocial info",
        'govsocial sql "SELECT media_type, count(*) AS posts FROM posts GROUP BY 1"',
        "govsocial sql \"SELECT * FROM institutions WHERE cluster_id = 'pemda'\" --format csv",
        "govsocial registry list",
    ):
        say(f"  {line}")


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
