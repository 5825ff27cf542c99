"""`govsocial quarantine ...` (records rejected at import) and `govsocial raw ...` (the files
as they came, kept byte for byte)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from govsocial.cli.common import (
    DbOption,
    FormatOption,
    OutputFormat,
    emit,
    open_warehouse,
    out,
    piped,
    say,
    styled,
)

quarantine_app = typer.Typer(help="Records rejected at import, with why.", no_args_is_help=True)
raw_app = typer.Typer(help="Imported files, kept byte for byte.", no_args_is_help=True)


@quarantine_app.command("list")
def quarantine_list(
    batch: Annotated[int | None, typer.Option(help="Only this import batch.")] = None,
    reason: Annotated[str | None, typer.Option(help="Only this reason code.")] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=1_000_000_000, help="At most this many rows.")
    ] = 50,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """List rejected records (batch, record, where in the file, reason, explanation)."""
    from govsocial.store.quarantine import count_quarantine, list_quarantine, reasons
    from govsocial.words import of

    with open_warehouse(db, read_only=True) as wh:
        rows = list_quarantine(wh, batch=batch, reason=reason, limit=limit)
        total = count_quarantine(wh, batch=batch, reason=reason)
        counts = reasons(wh)
    emit(
        ["batch", "record", "origin", "reason", "detail"],
        rows,
        fmt,
        keep=("batch", "record", "reason"),
    )
    if fmt is OutputFormat.table:
        listing = ", ".join(f"{r} {n:,}" for r, n in counts) or "none"
        say(
            f"Shown: {of(len(rows), total, 'record')}. All quarantined records by reason: "
            f"{listing}. Show one with `govsocial quarantine show BATCH:RECORD`."
        )


@quarantine_app.command("show")
def quarantine_show(
    record: Annotated[str, typer.Argument(help="BATCH:RECORD, as `quarantine list` shows.")],
    db: DbOption = None,
) -> None:
    """Show one rejected record: where it came from, why, and the record as received."""
    import json

    from govsocial.errors import UsageError
    from govsocial.store.quarantine import get_quarantined

    try:
        batch_text, index_text = record.split(":")
        batch_id, index = int(batch_text), int(index_text)
    except ValueError:
        raise UsageError(
            f"'{record}' is not BATCH:RECORD (e.g. 12:345); see `govsocial quarantine list`."
        ) from None
    with open_warehouse(db, read_only=True) as wh:
        records = get_quarantined(wh, batch_id, index)
    for q in records:
        say(
            styled(q.origin, "bold"),
            f" ({q.source_format}, batch {q.batch_id}, file {q.file})",
        )
        say(f"reason: {q.reason}\ndetail: {q.detail}")
        say("record as received:")
        out.print_json(json.dumps(json.loads(q.payload) if q.payload else None, ensure_ascii=False))


@raw_app.command("list")
def raw_list(fmt: FormatOption = OutputFormat.table, db: DbOption = None) -> None:
    """List the kept files: SHA-256, name, size, size kept (compressed), first batch."""
    from govsocial.store.rawfiles import list_files
    from govsocial.words import when

    with open_warehouse(db, read_only=True) as wh:
        files = list_files(wh)
    table = fmt is OutputFormat.table
    rows = [
        (
            f.sha256[:12] if table else f.sha256,  # the table shows the start people type
            f.name,
            f.size,
            f.stored,
            f.first_batch_id,
            when(f.imported_at) if table else f.imported_at,
        )
        for f in files
    ]
    emit(
        ["sha256", "name", "bytes", "kept_bytes", "batch", "imported_at"],
        rows,
        fmt,
        keep=("sha256", "name", "imported_at"),
    )


@raw_app.command("get")
def raw_get(
    file: Annotated[str, typer.Argument(help="A kept file's name, or its SHA-256's start.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write here: a file, or a folder to write it into under its name; - for "
            "standard output. Default: its name, in the current folder.",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Write a kept file back out, byte for byte as it was imported."""
    from govsocial.errors import UsageError
    from govsocial.reports.tables import atomic_write
    from govsocial.store.rawfiles import file_bytes
    from govsocial.words import count

    with open_warehouse(db, read_only=True) as wh:
        name, content = file_bytes(wh, file)
    if output is not None and str(output) == "-":
        with piped():
            sys.stdout.buffer.write(content)
            sys.stdout.buffer.flush()
        return
    target = output or Path(name)
    if target.is_dir():
        target = target / Path(name).name
    if target.exists() and output is None:
        raise UsageError(f"{target} exists; choose where to write with --output.")
    atomic_write(target, content)
    say(f"Wrote {target} ({count(len(content), 'byte')}).")
