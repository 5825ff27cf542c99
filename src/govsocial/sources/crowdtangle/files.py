"""Reading a CrowdTangle CSV export: recognising it, its header, and staging its rows.

The rows are read as text by the shared CSV reader (:mod:`govsocial.sources.csvrows`: a
malformed row is quarantined as ``wrong_field_count`` or ``bad_csv`` and the other rows load),
then converted column by column (:mod:`govsocial.sources.crowdtangle.tables`). A file stages
as two relations loaded together: the posts (one row per CSV row) and the accounts' follower
counts at posting time (``Followers at Posting``).
"""

from __future__ import annotations

from pathlib import Path

from govsocial.errors import InputError
from govsocial.sources.crowdtangle.records import Layout
from govsocial.sources.crowdtangle.tables import posts_table, snapshots_table, thousands_separator
from govsocial.sources.csvrows import header_of, payload_sql, read_rows
from govsocial.sources.documents import BOM
from govsocial.sources.staging import ImportOptions, Staged, staged_from_arrow

FORMAT_NAME = "crowdtangle"
# A CSV is tabular: its bytes are kept whole in raw_files, so its rows are not copied again
# into raw_records (docs/schema.md); quarantined rows keep their payload.
KEEP_RECORD_PAYLOADS = False


def sniff(path: Path, head: bytes) -> bool:
    """A CSV whose header is a CrowdTangle Facebook (``Facebook Id``, ``Post Created``, …) or
    Instagram (``Account``, ``User Name``, ``Post Created``, …) export's."""
    try:
        header = header_of(head)
        layout = Layout.from_header(header) if header else None
        return layout is not None and not layout.missing
    except Exception:  # sniffing must never fail; the file is then simply not ours
        return False


def layout_of(path: Path) -> Layout:
    """The layout of ``path``'s header; InputError (naming the fix) if it is not an export."""
    try:
        with path.open("rb") as handle:
            head = handle.read(64 * 1024)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc}). Check the path.", path=path) from exc
    if not head.strip(BOM + b" \r\n\t"):
        raise InputError("the file is empty. Export the CrowdTangle CSV again.", path=path)
    header = header_of(head)
    layout = Layout.from_header(header) if header else None
    if layout is None:
        raise InputError(
            "this is not a CrowdTangle CSV export: its first line should be the header of a "
            "Facebook export (Page Name, User Name, Facebook Id, …) or an Instagram export "
            "(Account, User Name, Followers at Posting, …), in UTF-8. Check the file, or choose "
            "another --format.",
            path=path,
        )
    if layout.missing:
        raise InputError(
            f"this CrowdTangle {layout.platform} export lacks the column(s) "
            f"{', '.join(layout.missing)}. Export it again with all columns.",
            path=path,
        )
    return layout


def stage(path: Path, options: ImportOptions) -> list[Staged]:
    """Read one export into a posts relation and, if it has ``Followers at Posting``, an
    account-snapshots relation."""
    layout = layout_of(path)
    rows = read_rows(path, len(layout.header))
    sep = thousands_separator(layout, rows)
    posts = posts_table(path, layout, rows, options, sep)
    label = f"{path.name}, row "
    staged = [
        staged_from_arrow(
            posts,
            kind="posts",
            source_format=FORMAT_NAME,
            origin_label=label,
            keep_record_payloads=KEEP_RECORD_PAYLOADS,
        )
    ]
    staged[0].payload_sql = payload_sql(layout.header)
    snapshots = snapshots_table(layout, rows, posts, sep)
    if snapshots is not None:
        staged.append(
            staged_from_arrow(
                snapshots,
                kind="account_snapshots",
                source_format=FORMAT_NAME,
                origin_label=label,
                keep_record_payloads=KEEP_RECORD_PAYLOADS,
            )
        )
    return staged
