"""CrowdTangle CSV exports (Facebook pages and groups, Instagram accounts).

See docs/import-crowdtangle.md for the mapping and the quirks handled. A file stages as two
relations loaded together: the posts (one row per CSV row) and the accounts' follower counts
at posting time (``Followers at Posting``).
"""

from __future__ import annotations

from pathlib import Path

from govsocial.sources.crowdtangle.files import layout_of, read_rows, sniff
from govsocial.sources.crowdtangle.records import Layout
from govsocial.sources.crowdtangle.tables import posts_table, snapshots_table, thousands_separator
from govsocial.sources.staging import Format, ImportOptions, Staged, staged_from_arrow

NAME = "crowdtangle"
# A CSV is tabular: its bytes are kept whole in raw_files, so its rows are not copied again
# into raw_records (docs/schema.md); quarantined rows keep their payload.
KEEP_RECORD_PAYLOADS = False


def _payload_sql(layout: Layout) -> str:
    """The record as received, as JSON: the row's fields keyed by the header, computed by
    DuckDB only for the rows the store keeps a payload of; the raw text of a row that could
    not be split into fields (``_payload``) otherwise."""
    fields = ", ".join(
        "'" + key.replace("'", "''") + f"': s._c{i}" for i, key in enumerate(layout.payload_keys())
    )
    payload = f"coalesce(s._payload::JSON, to_json({{{fields}}}))"
    return f"SELECT s._row, {payload} AS _payload FROM {{source}} AS s"


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
            source_format=NAME,
            origin_label=label,
            keep_record_payloads=KEEP_RECORD_PAYLOADS,
        )
    ]
    staged[0].payload_sql = _payload_sql(layout)
    snapshots = snapshots_table(layout, rows, posts, sep)
    if snapshots is not None:
        staged.append(
            staged_from_arrow(
                snapshots,
                kind="account_snapshots",
                source_format=NAME,
                origin_label=label,
                keep_record_payloads=KEEP_RECORD_PAYLOADS,
            )
        )
    return staged


FORMAT = Format(
    NAME,
    "CrowdTangle CSV export of Facebook pages/groups or Instagram accounts",
    sniff,
    stage,
)

__all__ = ["FORMAT", "NAME", "sniff", "stage"]
