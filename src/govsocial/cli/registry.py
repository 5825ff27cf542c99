"""`govsocial registry ...`: institutions, clusters and accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from govsocial.cli.common import (
    DbOption,
    FormatOption,
    OutputFormat,
    db_path,
    emit,
    open_warehouse,
    say,
)

app = typer.Typer(help="Institutions, clusters and accounts.", no_args_is_help=True)


@app.command("load")
def load(
    file: Annotated[Path, typer.Argument(help="Registry file (.yaml/.yml/.csv).")],
    db: DbOption = None,
) -> None:
    """Load institutions and accounts from FILE (all of it, or nothing if it has errors)."""
    from govsocial.store.registry import load_registry
    from govsocial.words import count

    result = load_registry(db_path(db), file)
    say(
        f"Loaded {file}: {count(result.institutions_new, 'new institution')} and "
        f"{result.institutions_updated:,} updated, {count(result.accounts_new, 'new account')} "
        f"and {result.accounts_updated:,} updated (batch {result.batch_id})."
    )


@app.command("list")
def list_(
    cluster: Annotated[str | None, typer.Option(help="Only this cluster id.")] = None,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """List institutions with their cluster and number of accounts."""
    from govsocial.store.registry import list_institutions
    from govsocial.words import count

    with open_warehouse(db, read_only=True) as wh:
        rows = list_institutions(wh, cluster)
    emit(
        ["id", "name", "cluster", "sub_cluster", "region", "accounts"],
        [
            (r.institution_id, r.name, r.cluster_id, r.sub_cluster, r.region, r.accounts)
            for r in rows
        ],
        fmt,
        keep=("id",),
    )
    if fmt is OutputFormat.table:
        where = f" in cluster {cluster}" if cluster else ""
        say(f"{count(len(rows), 'institution')}{where}.")
