"""`govsocial awards ...`: run a methodology, show and list runs."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from govsocial.awards.methodology import list_methodologies, load_methodology
from govsocial.awards.results import dumps
from govsocial.cli_common import err, open_warehouse, out, print_rows
from govsocial.config import SETTINGS, resolve
from govsocial.errors import ConfigError
from govsocial.registry import default_clusters
from govsocial.store import Warehouse, known_clusters
from govsocial.store.runs import RunRecord, get_run, list_runs, save_run

awards_app = typer.Typer(help="Award methodologies, runs and nominees.", no_args_is_help=True)
FORMATS = ("table", "json", "csv")


def run_and_save(wh: Warehouse, methodology: str, engine: str) -> dict[str, Any]:
    """Run a methodology on the open warehouse, keep the run, return the results document."""
    from govsocial.awards.engine import run_awards  # Ibis loads here, not at every CLI start

    clusters = {c.id for c in (*default_clusters(), *known_clusters(wh))}
    m = load_methodology(methodology, sorted(clusters))
    with err.status(f"Running {m.id} on {engine} ...") as status:
        run = run_awards(wh, m, engine, step=lambda s: status.update(f"{m.id}: {s} ..."))
    save_run(
        wh,
        RunRecord(
            run.run_id,
            m.id,
            m.sha256,
            m.text,
            run.data_fingerprint,
            run.document["code_version"],
            engine,
            run.seconds,
            run.text,
        ),
    )
    err.print(f"Run [bold]{run.run_id}[/bold] ({m.id}, {engine}) in {run.seconds:.1f} s.")
    document: dict[str, Any] = json.loads(run.text)  # the canonical (kept) form
    return document


@awards_app.command("run")
def awards_run(
    methodology: Annotated[
        str,
        typer.Option(
            help="A shipped methodology (" + ", ".join(list_methodologies()) + ") or a .toml path."
        ),
    ] = "gsm2025",
    engine: Annotated[
        str | None, typer.Option(help=SETTINGS["engine"].help + " [env: GOVSOCIAL_ENGINE]")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results document.")] = False,
) -> None:
    """Run a methodology: nominees per category and cluster, with evidence. Prints the run id."""
    chosen = str(resolve("engine", engine).value)
    with open_warehouse() as wh:
        document = run_and_save(wh, methodology, chosen)
    if as_json:
        sys.stdout.write(dumps(document))  # only the document on stdout, for scripts
        return
    print_nominees(document)
    out.print(f"run id: {document['run_id']}")


@awards_app.command("show")
def awards_show(
    run_id: Annotated[str, typer.Argument(help="The run id (or its first characters).")],
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
) -> None:
    """Show a run's nominees (table), its whole results document (json) or a flat CSV."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format: '{fmt}' is not one of {', '.join(FORMATS)}.")
    with open_warehouse(read_only=True) as wh:
        record = get_run(wh, run_id)
    if fmt == "json":
        sys.stdout.write(record.results if record.results.endswith("\n") else record.results + "\n")
        return
    document = json.loads(record.results)
    if fmt == "csv":
        print_rows(CSV_COLUMNS, list(flat_rows(document)), "csv")
    else:
        print_nominees(document)


@awards_app.command("list")
def awards_list() -> None:
    """List the runs kept in the warehouse, newest first."""
    with open_warehouse(read_only=True) as wh:
        runs = list_runs(wh)
    print_rows(
        ["run_id", "methodology", "engine", "created_at", "seconds"],
        [(r, m, e, f"{c:%Y-%m-%d %H:%M}", f"{s:.1f}") for r, m, e, c, s in runs],
        "table",
    )


@awards_app.command("methodologies")
def awards_methodologies() -> None:
    """List the shipped methodologies with their categories."""
    rows = []
    for name in list_methodologies():
        m = load_methodology(name)
        rows.append(
            (
                name,
                m.edition,
                len(m.categories),
                len(m.clusters),
                ", ".join(c.id for c in m.categories),
            )
        )
    print_rows(["name", "edition", "categories", "clusters", "category ids"], rows, "table")


CSV_COLUMNS = [
    "category",
    "cluster",
    "rank",
    "institution_id",
    "institution_name",
    "account_id",
    "platform",
    "handle",
    "score",
    "posts",
    "followers",
    "flags",
]


def flat_rows(document: dict[str, Any]) -> Any:
    for category in document["categories"]:
        for cluster in category["clusters"]:
            for n in cluster["nominees"]:
                yield (
                    category["id"],
                    cluster["cluster_id"],
                    n["rank"],
                    n["institution_id"],
                    n["institution_name"],
                    n.get("account_id"),
                    n.get("platform"),
                    n.get("handle"),
                    n["score"],
                    n["posts"],
                    n["followers"],
                    ";".join(sorted({f["flag"] for f in n["flags"]})),
                )


def print_nominees(document: dict[str, Any]) -> None:
    if document.get("synthetic_data"):
        out.print("[bold yellow]SYNTHETIC DATA[/bold yellow]: these nominees are not real results.")
    m = document["methodology"]
    out.print(
        f"[bold]{m['edition']}[/bold] ({m['id']} v{m['version']}), "
        f"{document['data']['posts_in_scope']:,} posts in scope"
    )
    for category in document["categories"]:
        table = Table(
            "cluster",
            "#",
            "nominee",
            "score",
            "posts",
            "flags",
            title=f"{category['title']['en']} / {category['title']['id']}",
        )
        for cluster in category["clusters"]:
            if not cluster["nominees"]:
                table.add_row(cluster["cluster_id"], "-", cluster["note"] or "", "", "", "")
            for n in cluster["nominees"]:
                name = n["institution_name"] + (
                    f" (@{n['handle']}, {n['platform']})" if n.get("handle") else ""
                )
                flags = ", ".join(sorted({f["flag"] for f in n["flags"]}))
                table.add_row(
                    cluster["cluster_id"] if n["rank"] == 1 else "",
                    str(n["rank"]),
                    name,
                    f"{n['score']:.3f}",
                    f"{n['posts']:,}",
                    flags,
                )
        out.print(table)
