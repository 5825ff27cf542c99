"""The import service: paths in (files and folders), one loaded batch or one failure per file.

The CLI's ``govsocial import`` and, later, the web app call :func:`import_paths`. Each file
is recognised (``auto``) or staged with the chosen format, and loaded in its own transaction;
a file that cannot be imported (missing, unreadable, not of the format, corrupt) becomes a
:class:`Failure` naming the file and the fix, and the other files still load.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sized
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from govsocial.errors import (
    GovsocialError,
    InputError,
    Interrupted,
    StoreError,
    UsageError,
    interrupted_query,
)
from govsocial.sources.formats import detect, stager
from govsocial.sources.opening import expand
from govsocial.sources.staging import ImportOptions
from govsocial.store.ingest import ImportSummary, load_file
from govsocial.store.quarantine import assign_accounts, require_institution, unassigned_from_batch
from govsocial.store.warehouse import Warehouse


@dataclass(frozen=True)
class Failure:
    """A file that was not imported, and why (the message names the file and the fix)."""

    path: Path
    message: str


@dataclass
class ImportReport:
    summaries: list[ImportSummary] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


def import_options(tz: str | None = None, captured_at: str | None = None) -> ImportOptions:
    """The options as a person types them (``--tz WIB``, ``--captured-at 2025-08-15T09:00``).

    A capture time without an offset is read in ``tz`` (else UTC).
    """
    for flag, given in (("--tz", tz), ("--captured-at", captured_at)):
        if given is not None and not given.strip():
            raise UsageError(f"{flag} is empty. Give a value, or leave the option out.")
    zone = None
    if tz:
        from govsocial.sources.timezones import resolve_tz

        zone = resolve_tz(tz)
    moment = None
    if captured_at:
        try:
            moment = datetime.fromisoformat(captured_at)
        except ValueError:
            raise UsageError(
                f"--captured-at: '{captured_at}' is not an ISO 8601 time; write e.g. "
                "2025-08-15T09:00:00+07:00."
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone or UTC)
    return ImportOptions(tz=tz, captured_at=moment)


def import_paths(
    wh: Warehouse,
    paths: list[Path],
    *,
    format_name: str = "auto",
    options: ImportOptions | None = None,
    assign_to: str | None = None,
    on_file: Callable[[Path, int, int], None] | None = None,
) -> ImportReport:
    """Import every file of ``paths`` (a folder: all files under it, recursively, sorted).

    ``on_file(path, index, total)`` is called before each file (for progress).

    A warehouse failure (disk full, a damaged file) stops the import: the files before it stay
    loaded, and the error says so. Ctrl-C does the same with :class:`Interrupted`.
    """
    options = options or ImportOptions()
    if format_name != "auto":
        stager(format_name)  # an unknown --format fails before anything is read
    if assign_to:
        require_institution(wh, assign_to)
    report = ImportReport()
    # The warehouse itself (and its log) may sit in a folder being imported: never a file to
    # import. realpath, unlike Path.resolve, does not raise on a symlink loop.
    own = {os.path.realpath(wh.path), os.path.realpath(wh.path) + ".wal"}
    found = [f for f in expand(paths) if os.path.realpath(f.path) not in own]
    for index, item in enumerate(found):
        if on_file is not None:
            on_file(item.path, index, len(found))
        if item.problem is not None:
            report.failures.append(Failure(item.path, f"{item.path}: {item.problem}."))
            continue
        try:
            report.summaries.append(_import_one(wh, item.path, format_name, options, assign_to))
        except KeyboardInterrupt:
            raise Interrupted(_stopped("Interrupted", item.path, index, found, report)) from None
        except RuntimeError as exc:  # DuckDB's own Ctrl-C
            if not interrupted_query(exc):
                raise
            raise Interrupted(_stopped("Interrupted", item.path, index, found, report)) from None
        except StoreError as exc:  # the warehouse, not the file: the next files would fail too
            raise StoreError(
                _stopped(
                    exc.message.rstrip(".") + ". Import stopped", item.path, index, found, report
                )
            ) from exc
        except GovsocialError as exc:  # this file failed; the others still load
            report.failures.append(Failure(item.path, exc.message))
        except OSError as exc:  # vanished or unreadable between listing and reading
            error = InputError(
                f"cannot be read ({exc.strerror or exc}). Check the path and its permissions.",
                path=item.path,
            )
            report.failures.append(Failure(item.path, error.message))
    return report


def _import_one(
    wh: Warehouse, path: Path, format_name: str, options: ImportOptions, assign_to: str | None
) -> ImportSummary:
    stage = stager(detect(path) if format_name == "auto" else format_name, options)
    summary = load_file(wh, path, stage)
    if assign_to and summary.status == "skipped":
        summary.unassigned_account_ids = unassigned_from_batch(wh, summary.batch_id)
    if assign_to and summary.unassigned_account_ids:
        assign_accounts(wh, summary.unassigned_account_ids, assign_to)
        summary.unassigned_accounts = []
    return summary


def _stopped(what: str, path: Path, index: int, found: Sized, report: ImportReport) -> str:
    from govsocial.words import count

    done = len(report.summaries)
    return (
        f"{what} while importing {path} (file {index + 1:,} of {len(found):,}): nothing of it "
        f"was kept; {count(done, 'file')} before it {'was' if done == 1 else 'were'} imported "
        "and kept. Run the same command again to go on: files already imported are skipped."
    )
