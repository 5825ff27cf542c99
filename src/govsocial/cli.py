"""The `govsocial` command: a thin layer over the library (docs/cli.md lists every command)."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from govsocial import __version__
from govsocial.cli_awards import awards_app, print_nominees, run_and_save
from govsocial.cli_common import State, err, open_warehouse, out, print_rows, progress
from govsocial.cli_import import import_files, quarantine_app, raw_app
from govsocial.config import SETTINGS, resolve
from govsocial.demo import Progress as BuildProgress
from govsocial.demo import build_demo, load_world
from govsocial.errors import GovsocialError
from govsocial.registry import read_registry
from govsocial.store import (
    ImportSummary,
    Warehouse,
    WarehouseSummary,
    apply_registry,
    known_clusters,
    run_read_only,
    summarise,
)
from govsocial.synth import generate
from govsocial.vocabulary import WIB

app = typer.Typer(
    help="govsocial: government social media monitoring and awards.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
registry_app = typer.Typer(help="Institutions, clusters and accounts.", no_args_is_help=True)
app.add_typer(registry_app, name="registry")
app.add_typer(awards_app, name="awards")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(raw_app, name="raw")
app.command("import")(import_files)


def _version(value: bool) -> None:
    if value:
        out.print(f"govsocial {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    db: Annotated[
        Path | None,
        typer.Option(
            help=SETTINGS["db"].help + " [env: GOVSOCIAL_DB; default: ./govsocial.duckdb]"
        ),
    ] = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    State.db = db


def _build_progress(bar: Progress, posts: int, files: int | None) -> BuildProgress:
    gen = bar.add_task("Generating posts", total=posts)
    load = bar.add_task("Loading files", total=files)

    def loaded(summary: ImportSummary) -> None:
        bar.advance(load)

    def generated(n: int) -> None:
        bar.advance(gen, n)
        if bar.tasks[gen].completed >= posts and bar.tasks[load].total is None:
            bar.update(load, total=max(2, posts // 1_000_000 + 2))

    return BuildProgress(generated=generated, loaded=loaded)


@app.command()
def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help="Folder for the demo warehouse and files.")
    ] = Path("govsocial-demo"),
    posts: Annotated[int, typer.Option(min=1000, help="Posts to generate.")] = 500_000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic world.")] = 2025,
) -> None:
    """Build a demo warehouse from a realistic SYNTHETIC world and summarise it."""
    err.print(f"Building a demo in {folder}/ (synthetic data, seed {seed}) ...")
    with progress() as bar:
        path, _ = build_demo(
            folder, posts=posts, seed=seed, progress=_build_progress(bar, posts, None)
        )
    with Warehouse.open(path) as wh:
        _print_summary(summarise(wh))
        document = run_and_save(wh, "gsm2025", str(resolve("engine").value))
    print_nominees(document)
    out.print("\n[bold]Next, try:[/bold]")
    out.print(f"  export GOVSOCIAL_DB={path}")
    out.print(f"  govsocial awards show {document['run_id']} --format csv")
    out.print("  govsocial awards run --methodology gsm2020")
    out.print("  govsocial info")
    out.print('  govsocial sql "SELECT media_type, count(*) AS posts FROM posts GROUP BY 1"')
    out.print(
        "  govsocial sql \"SELECT * FROM institutions WHERE cluster_id = 'pemda'\" --format csv"
    )
    out.print("  govsocial registry list")


@app.command()
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the generated files.")] = Path(
        "synth-world"
    ),
    posts: Annotated[int, typer.Option(min=1000, help="Posts to generate.")] = 500_000,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same world.")] = 2025,
    load: Annotated[bool, typer.Option(help="Load the world into the warehouse (--db).")] = True,
) -> None:
    """Generate a SYNTHETIC world as generic Parquet files and load it into the warehouse."""
    with progress() as bar:
        task = bar.add_task("Generating posts", total=posts)
        world = generate(
            out_dir, seed=seed, posts=posts, on_progress=lambda n: bar.advance(task, n)
        )
    err.print(
        f"Wrote {world.posts:,} posts of {world.accounts:,} accounts "
        f"({world.institutions} institutions) to {out_dir}/"
    )
    if not load:
        return
    with open_warehouse(create=True) as wh, progress() as bar:
        task = bar.add_task(
            "Loading files", total=1 + len(world.account_snapshot_files) + len(world.post_files)
        )
        bar.advance(task)
        load_world(wh, world, BuildProgress(loaded=lambda s: bar.advance(task)))
        summary = summarise(wh)
    _print_summary(summary)


@registry_app.command("load")
def registry_load(
    file: Annotated[Path, typer.Argument(help="Registry file (.yaml/.yml/.csv).")],
) -> None:
    """Load institutions and accounts from FILE (all of it, or nothing if it has errors)."""
    with open_warehouse(create=True) as wh:
        registry = read_registry(file, known_clusters(wh))
        result = apply_registry(wh, registry, file)
    out.print(
        f"Loaded {file}: {result.institutions_new} new and {result.institutions_updated} "
        f"updated institutions, {result.accounts_new} new and {result.accounts_updated} "
        f"updated accounts (batch {result.batch_id})."
    )


@registry_app.command("list")
def registry_list(
    cluster: Annotated[str | None, typer.Option(help="Only this cluster id.")] = None,
) -> None:
    """List institutions with their cluster and number of accounts."""
    with open_warehouse(read_only=True) as wh:
        result = run_read_only(
            wh,
            f"""
            SELECT i.institution_id AS id, i.name, i.cluster_id AS cluster, i.sub_cluster,
                   i.region, count(a.account_id) AS accounts
            FROM institutions i LEFT JOIN accounts a USING (institution_id)
            {"WHERE i.cluster_id = '" + cluster.replace("'", "''") + "'" if cluster else ""}
            GROUP BY ALL ORDER BY cluster, id""",
        )
    print_rows(result.columns, result.rows, "table")


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="SQL to run (read-only).")],
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Run a read-only SQL query on the warehouse (tables in docs/schema.md)."""
    if fmt not in {"table", "csv", "json"}:
        raise typer.BadParameter(f"'{fmt}' is not one of table, csv, json.", param_hint="--format")
    with open_warehouse(read_only=True) as wh:
        result = run_read_only(wh, query)
    print_rows(result.columns, result.rows, fmt)


@app.command()
def info() -> None:
    """Summarise the warehouse: institutions, accounts, posts, period."""
    with open_warehouse(read_only=True) as wh:
        _print_summary(summarise(wh))


@app.command()
def settings() -> None:
    """List the settings, their environment variables and where each value comes from."""
    table = Table("setting", "flag", "env var", "value", "from", "help")
    for s in SETTINGS.values():
        resolved = resolve(s.name, State.db if s.name == "db" else None)
        table.add_row(
            s.name,
            s.flag if s.has_flag else "-",
            s.env_var,
            str(resolved.value),
            resolved.origin,
            s.help,
        )
    out.print(table)


def _print_summary(s: WarehouseSummary) -> None:
    if s.synthetic:
        out.print(
            "[bold yellow]SYNTHETIC DATA[/bold yellow] — generated by `govsocial synth`, "
            "not real institutions' activity."
        )
    out.print(f"Warehouse {s.path} (schema v{s.schema_version})")
    clusters = Table("cluster", "name", "institutions", title="Institutions per cluster")
    for cid, name, n in s.institutions_by_cluster:
        clusters.add_row(cid, name, f"{n:,}")
    clusters.add_row("[b]total[/b]", "", f"[b]{s.institutions:,}[/b]")
    platforms = Table("platform", "accounts", "unassigned", title="Accounts per platform")
    for platform, n, unassigned in s.accounts_by_platform:
        platforms.add_row(platform, f"{n:,}", f"{unassigned:,}")
    platforms.add_row("[b]total[/b]", f"[b]{s.accounts:,}[/b]", "")
    out.print(clusters, platforms)
    period = (
        f"{s.first_post.astimezone(WIB):%Y-%m-%d} – {s.last_post.astimezone(WIB):%Y-%m-%d} (WIB)"
        if s.first_post and s.last_post
        else "no posts yet"
    )
    out.print(
        f"Posts: {s.posts:,} ({s.post_snapshots:,} metric snapshots; "
        f"{s.account_snapshots:,} follower snapshots); period {period}; "
        f"quarantined records: {s.quarantined:,}"
    )


def main() -> None:
    """Entry point: Typer handles usage errors (exit 2); our errors become one paragraph."""
    debug = "--debug" in sys.argv
    try:
        app()
    except GovsocialError as exc:
        if debug:
            traceback.print_exc()
        err.print(f"[bold red]Error:[/bold red] {escape(exc.message)}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("Interrupted; nothing of the unfinished step was kept.")
        sys.exit(130)
