"""`govsocial awards ...`: run a methodology, show and list runs, list methodologies."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from govsocial.cli.common import (
    DbOption,
    FormatOption,
    OutputFormat,
    db_path,
    emit,
    err,
    open_warehouse,
    out,
    say,
    styled,
    warn,
)
from govsocial.config import SETTINGS

app = typer.Typer(help="Award methodologies, runs and nominees.", no_args_is_help=True)


def _shipped() -> str:
    from govsocial.awards.methodology import list_methodologies

    return ", ".join(list_methodologies())


@app.command("run")
def run(
    methodology: Annotated[
        str, typer.Option(help=f"A shipped methodology ({_shipped()}) or a .toml path.")
    ] = "gsm2025",
    engine: Annotated[str | None, typer.Option(help=SETTINGS["engine"].option_help())] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results document.")] = False,
    stability: Annotated[
        int | None,
        typer.Option(
            "--stability",
            min=0,
            max=10_000,
            help="Resampled years of the stability analysis (default 20; 200 gives sharper "
            "rank intervals for a run to publish; about 0.15 s each on the demo).",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Run a methodology: nominees per category and cluster, with evidence. Prints the run id.

    The warehouse is only read while the run computes (other commands can read it meanwhile);
    the run is kept at the end.
    """
    document = run_with_progress(methodology, engine, db, stability)
    if as_json:
        from govsocial.awards.results import dumps

        sys.stdout.write(dumps(document))  # only the document on stdout, for scripts
        return
    print_nominees(document)
    say(f"run id: {document['run_id']}")


def run_with_progress(
    methodology: str, engine: str | None, db: Path | None = None, replicates: int | None = None
) -> dict[str, Any]:
    """Run and keep (awards.runs.run_and_keep) with progress; the results document."""
    from govsocial.awards import runs
    from govsocial.config import resolve
    from govsocial.words import number

    chosen = str(resolve("engine", engine).value)
    with err.status("Starting ...") as status:

        def step(name: str) -> None:
            index = runs.STEPS.index(name) + 1 if name in runs.STEPS else 0
            status.update(f"{methodology} on {chosen}: {name} ({index} of {len(runs.STEPS)}) ...")

        computed = runs.run_and_keep(db_path(db), methodology, chosen, step, replicates)
    warn(
        "Run ",
        styled(computed.run_id, "bold"),
        f" ({computed.methodology.id}, {chosen}) in {number(round(computed.seconds, 1))} s.",
    )
    return computed.document


@app.command("show")
def show(
    run_id: Annotated[str, typer.Argument(help="The run id (or its first characters).")],
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Show a run's nominees (table), its whole results document (json) or a flat CSV."""
    import json

    from govsocial.awards.results import NOMINEE_COLUMNS, nominee_rows
    from govsocial.store.runs import get_run

    with open_warehouse(db, read_only=True) as wh:
        record = get_run(wh, run_id)
    if fmt is OutputFormat.json:
        sys.stdout.write(record.results if record.results.endswith("\n") else record.results + "\n")
        return
    document = json.loads(record.results)
    if fmt is OutputFormat.csv:
        emit(NOMINEE_COLUMNS, nominee_rows(document), fmt)
    else:
        print_nominees(document)


@app.command("list")
def list_(fmt: FormatOption = OutputFormat.table, db: DbOption = None) -> None:
    """List the runs kept in the warehouse, newest first, with every engine and time that
    produced each (a run is keyed by its inputs: methodology, data and code)."""
    from govsocial.store.runs import list_runs
    from govsocial.words import when

    with open_warehouse(db, read_only=True) as wh:
        runs = list_runs(wh)
    table = fmt is OutputFormat.table
    rows = [
        (
            r.run_id,
            r.methodology_id,
            e.engine,
            when(e.created_at) if table else e.created_at,
            f"{e.seconds:.1f}" if table else round(e.seconds, 3),
        )
        for r in runs
        for e in r.executions
    ]
    emit(
        ["run_id", "methodology", "engine", "run_at", "seconds"],
        rows,
        fmt,
        keep=("run_id", "run_at"),
    )
    if fmt is OutputFormat.table and not rows:
        say("No runs yet: make one with `govsocial awards run`.")


@app.command("methodologies")
def methodologies(fmt: FormatOption = OutputFormat.table) -> None:
    """List the shipped methodologies: id, title, edition and categories."""
    from govsocial.awards.methodology import list_methodologies, load_methodology

    rows = []
    for name in list_methodologies():
        m = load_methodology(name)
        rows.append(
            (name, m.title_en, m.edition, len(m.categories), ", ".join(c.id for c in m.categories))
        )
    emit(["name", "title", "edition", "categories", "category ids"], rows, fmt, keep=("name",))


def print_nominees(document: dict[str, Any]) -> None:
    if document.get("synthetic_data"):
        say(styled("SYNTHETIC DATA", "bold yellow"), ": these nominees are not real results.")
    m = document["methodology"]
    say(
        styled(m["edition"], "bold"),
        f" ({m['id']} v{m['version']}), {document['data']['posts_in_scope']:,} posts in scope",
    )
    for category in document["categories"]:
        grid = Table(
            "cluster",
            "#",
            "nominee",
            "score",
            "posts",
            "flags",
            title=f"{category['title']['en']} / {category['title']['id']}",
        )
        for column in grid.columns:  # wrap long words, never cut them with an ellipsis
            column.overflow = "fold"
        for cluster in category["clusters"]:
            shown = sorted(
                [*cluster["nominees"], *cluster.get("held", [])], key=lambda n: n["rank"]
            )
            if not shown:
                grid.add_row(cluster["cluster_id"], "-", cluster["note"] or "", "", "", "")
            for position, n in enumerate(shown):
                name = n["institution_name"] + (
                    f" (@{n['handle']}, {n['platform']})" if n.get("handle") else ""
                )
                if n in cluster.get("held", []):
                    name += " (held for review)"
                if n.get("stability") is not None:
                    low, high = n["rank_interval"]
                    name += f" [stays {n['stability']:.0%}; ranks {low}–{high}]"
                grid.add_row(
                    cluster["cluster_id"] if position == 0 else "",
                    str(n["rank"]),
                    name,
                    f"{n['score']:.3f}",
                    f"{n['posts']:,}",
                    ", ".join(sorted({f["flag"] for f in n["flags"]})),
                )
            if shown and cluster.get("note"):
                grid.add_row("", "", cluster["note"], "", "", "")
            certainty = cluster.get("certainty")
            if shown and certainty:
                grid.add_row("", "", certainty["statement"], "", "", "")
        out.print(grid)
