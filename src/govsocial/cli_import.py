"""`govsocial import`, `quarantine ...` and `raw ...`: bringing files in, what was rejected,
and the files as they came."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from govsocial.cli_common import err, open_warehouse, out, print_rows, progress
from govsocial.errors import ConfigError
from govsocial.sources.formats import FORMATS
from govsocial.sources.staging import ImportOptions
from govsocial.store import ImportSummary
from govsocial.store.importing import import_paths
from govsocial.store.quarantine import (
    get_quarantined,
    list_quarantine,
    reasons,
)
from govsocial.store.rawfiles import file_bytes, list_files

quarantine_app = typer.Typer(help="Records rejected at import, with why.", no_args_is_help=True)


def _options(tz: str | None, captured_at: str | None) -> ImportOptions:
    zone = None
    if tz:
        from govsocial.sources.timezones import resolve_tz

        zone = resolve_tz(tz)
    moment = None
    if captured_at:
        try:
            moment = datetime.fromisoformat(captured_at)
        except ValueError:
            raise ConfigError(
                f"--captured-at: '{captured_at}' is not an ISO 8601 time; write e.g. "
                "2025-08-15T09:00:00+07:00."
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone or UTC)
    return ImportOptions(tz=tz, captured_at=moment)


def import_files(
    files: Annotated[
        list[Path], typer.Argument(help="Files or folders (every file under them) to import.")
    ],
    fmt: Annotated[
        str, typer.Option("--format", help="auto, or one of: " + ", ".join(FORMATS))
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
            help="When the file's counts were read (ISO 8601), for formats that "
            "do not record it. Default: the export time in the file's name "
            "(CrowdTangle's 2021-07-05-22-49-20-BRT-…), else its modification time.",
        ),
    ] = None,
    assign_to: Annotated[
        str | None,
        typer.Option(
            "--assign-to", help="Give accounts not in the registry to this institution id."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summaries as JSON.")] = False,
) -> None:
    """Import export files into the warehouse (idempotent: the same file twice adds nothing).

    A folder imports every file under it (recursively, in name order); gzip-compressed files
    (.gz) are read as their content. Each file is loaded in its own transaction; a file that
    cannot be read is reported and the other files still load (the exit code is then 1).
    """
    options = _options(tz, captured_at)
    with open_warehouse(create=True) as wh, progress() as bar:
        task = bar.add_task("Importing", total=None)

        def show(path: Path, index: int, total: int) -> None:
            bar.update(task, total=total, completed=index)
            bar.update(task, description=f"Importing {escape(path.name)}{_size(path)}")

        report = import_paths(
            wh, files, format_name=fmt, options=options, assign_to=assign_to, on_file=show
        )
        bar.update(task, completed=bar.tasks[0].total or 0)
    summaries = report.summaries
    failures = [(f.path, f.message) for f in report.failures]
    if as_json:
        rows = [s.__dict__ for s in summaries]
        rows += [{"path": str(p), "status": "failed", "error": m} for p, m in failures]
        out.print_json(json.dumps(rows, default=str))
    else:
        for s in summaries:
            _print_import(s, assign_to)
    for _, message in failures:
        err.print(f"[bold red]Not imported:[/bold red] {escape(message)}", highlight=False)
    if failures:
        raise typer.Exit(1)


def _size(path: Path) -> str:
    try:
        return f" ({path.stat().st_size / 1e6:,.1f} MB)"
    except OSError:
        return ""  # reported by the import itself


def _print_import(s: ImportSummary, assign_to: str | None) -> None:
    if s.status == "skipped":
        out.print(f"{s.path}: already loaded (batch {s.batch_id}); 0 new posts, 0 new snapshots.")
        if assign_to and s.unassigned_account_ids:
            out.print(f"  {len(s.unassigned_account_ids)} account(s) assigned to {assign_to}.")
        return
    q = ", ".join(f"{k} {v}" for k, v in s.quarantined.items()) or "none"
    if s.quarantined_before:
        q += f" ({s.quarantined_before:,} already in quarantine from an earlier file)"
    out.print(
        f"{s.path} ({s.source_format}): {s.records_read:,} records, {s.posts_new:,} new posts, "
        f"{s.posts_updated:,} updated, {s.snapshots_new:,} new snapshots; "
        f"quarantined: {q} (batch {s.batch_id})."
    )
    if s.quarantined:
        out.print(f"  See them with `govsocial quarantine list --batch {s.batch_id}`.")
    if assign_to and s.unassigned_account_ids:
        out.print(f"  {len(s.unassigned_account_ids)} account(s) assigned to {assign_to}.")
    elif s.unassigned_accounts:
        shown = ", ".join(s.unassigned_accounts[:10])
        more = " ..." if len(s.unassigned_accounts) > 10 else ""
        out.print(
            f"  {len(s.unassigned_accounts)} account(s) not in the registry, kept unassigned: "
            f"{shown}{more}. Add them to a registry file and run `govsocial registry load`, "
            "or import with --assign-to INSTITUTION."
        )


@quarantine_app.command("list")
def quarantine_list(
    batch: Annotated[int | None, typer.Option(help="Only this import batch.")] = None,
    reason: Annotated[str | None, typer.Option(help="Only this reason code.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many rows.")] = 50,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """List rejected records (batch, record, where in the file, reason, explanation)."""
    if fmt not in {"table", "csv", "json"}:
        raise ConfigError(f"--format: '{fmt}' is not one of table, csv, json.")
    with open_warehouse(read_only=True) as wh:
        rows = list_quarantine(wh, batch=batch, reason=reason, limit=limit)
        counts = reasons(wh)
    print_rows(["batch", "record", "origin", "reason", "detail"], rows, fmt)
    if fmt == "table":
        total = ", ".join(f"{r} {n:,}" for r, n in counts) or "none"
        out.print(
            f"All quarantined records by reason: {total}. "
            "Show one with `govsocial quarantine show BATCH:RECORD`."
        )


@quarantine_app.command("show")
def quarantine_show(
    record: Annotated[str, typer.Argument(help="BATCH:RECORD, as `quarantine list` shows.")],
) -> None:
    """Show one rejected record: where it came from, why, and the record as received."""
    try:
        batch_text, index_text = record.split(":")
        batch_id, index = int(batch_text), int(index_text)
    except ValueError:
        raise ConfigError(
            f"'{record}' is not BATCH:RECORD (e.g. 12:345); see `govsocial quarantine list`."
        ) from None
    with open_warehouse(read_only=True) as wh:
        records = get_quarantined(wh, batch_id, index)
    for q in records:
        out.print(f"[bold]{q.origin}[/bold] ({q.source_format}, batch {q.batch_id}, file {q.file})")
        out.print(f"reason: {q.reason}\ndetail: {escape(q.detail)}")
        payload = json.loads(q.payload) if q.payload else None
        out.print("record as received:")
        out.print_json(json.dumps(payload, ensure_ascii=False))


raw_app = typer.Typer(help="Imported files, kept byte for byte.", no_args_is_help=True)


@raw_app.command("list")
def raw_list(
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """List the kept files: SHA-256, name, size, size kept (compressed), first batch."""
    if fmt not in {"table", "csv", "json"}:
        raise ConfigError(f"--format: '{fmt}' is not one of table, csv, json.")
    with open_warehouse(read_only=True) as wh:
        files = list_files(wh)
    rows = [
        (f.sha256[:12], f.name, f.size, f.stored, f.first_batch_id, f.imported_at) for f in files
    ]
    print_rows(["sha256", "name", "bytes", "kept bytes", "batch", "imported at"], rows, fmt)


@raw_app.command("get")
def raw_get(
    file: Annotated[str, typer.Argument(help="A kept file's name, or its SHA-256's start.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (default: its name).")
    ] = None,
) -> None:
    """Write a kept file back out, byte for byte as it was imported."""
    with open_warehouse(read_only=True) as wh:
        name, content = file_bytes(wh, file)
    target = output or Path(name)
    if target.exists() and output is None:
        raise ConfigError(f"{target} exists; choose where to write with --output.")
    target.write_bytes(content)
    out.print(f"Wrote {target} ({len(content):,} bytes).")
