"""`govsocial import`: files and folders into the warehouse, one batch per file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from govsocial.cli.common import DbOption, open_warehouse, out, progress, say, styled, warn
from govsocial.vocabulary import FORMAT_NAMES

if TYPE_CHECKING:
    from govsocial.store.ingest import ImportSummary


def import_files(
    files: Annotated[
        list[Path], typer.Argument(help="Files or folders (every file under them) to import.")
    ],
    fmt: Annotated[
        str, typer.Option("--format", help="auto, or one of: " + ", ".join(FORMAT_NAMES) + ".")
    ] = "auto",
    tz: Annotated[
        str | None,
        typer.Option(
            "--tz",
            help="Time zone of times without an offset, e.g. WIB or Asia/Jakarta; "
            "overrides a file's own abbreviation.",
        ),
    ] = None,
    captured_at: Annotated[
        str | None,
        typer.Option(
            "--captured-at",
            help="When the file's counts were read (ISO 8601), for formats that do not record "
            "it. Default: the export time in the file's name (CrowdTangle's "
            "2021-07-05-22-49-20-BRT-...), else its modification time.",
        ),
    ] = None,
    assign_to: Annotated[
        str | None,
        typer.Option(
            "--assign-to", help="Give accounts not in the registry to this institution id."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summaries as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Import export files into the warehouse (idempotent: the same file twice adds nothing).

    A folder imports every file under it (recursively, in name order); gzip-compressed files
    (.gz) are read as their content. Each file is loaded in its own transaction; a file that
    cannot be read is reported and the other files still load (the exit code is then 1).
    Ctrl-C keeps the files already imported; running the command again goes on.
    """
    from govsocial.store.importing import import_options, import_paths

    options = import_options(tz, captured_at)
    with open_warehouse(db, create=True) as wh, progress() as bar:
        task = bar.add_task("Importing", total=None)

        def show(path: Path, index: int, total: int) -> None:
            bar.update(task, total=total, completed=index, description=f"Importing {path.name}")

        report = import_paths(
            wh, files, format_name=fmt, options=options, assign_to=assign_to, on_file=show
        )
        bar.update(task, completed=bar.tasks[0].total or 0)
    if as_json:
        rows = [s.__dict__ for s in report.summaries]
        rows += [
            {"path": str(f.path), "status": "failed", "error": f.message} for f in report.failures
        ]
        out.print_json(json.dumps(rows, default=str))
    else:
        for summary in report.summaries:
            _print_summary(summary, assign_to)
    for failure in report.failures:
        warn(styled("Not imported: ", "bold red"), failure.message)
    if report.failures:
        raise typer.Exit(1)


def _print_summary(s: ImportSummary, assign_to: str | None) -> None:
    from govsocial.words import count

    if s.status == "skipped":
        say(f"{s.path}: already loaded (batch {s.batch_id}); 0 new posts, 0 new snapshots.")
    else:
        q = ", ".join(f"{k} {v:,}" for k, v in s.quarantined.items()) or "none"
        if s.quarantined_before:
            q += f" ({s.quarantined_before:,} already in quarantine from an earlier file)"
        say(
            f"{s.path} ({s.source_format}): {count(s.records_read, 'record')}, "
            f"{count(s.posts_new, 'new post')}, {s.posts_updated:,} updated, "
            f"{count(s.snapshots_new, 'new snapshot')}; quarantined: {q} (batch {s.batch_id})."
        )
        if s.quarantined:
            say(f"  See them with `govsocial quarantine list --batch {s.batch_id}`.")
    if assign_to and s.unassigned_account_ids:
        say(f"  {count(len(s.unassigned_account_ids), 'account')} assigned to {assign_to}.")
    elif s.unassigned_accounts and s.status != "skipped":
        shown = ", ".join(s.unassigned_accounts[:10])
        more = " ..." if len(s.unassigned_accounts) > 10 else ""
        n = len(s.unassigned_accounts)
        say(
            f"  {count(n, 'account')} not in the registry, kept unassigned: {shown}{more}. "
            "Add them to a registry file and run `govsocial registry load`, or import with "
            "--assign-to INSTITUTION."
        )
