"""The canonical shape every importer hands to the store.

An importer turns its file into a :class:`Staged` source: a relation (DuckDB table function or
an Arrow table) plus a SELECT that yields the canonical columns below, one row per source
record, with ``_reason``/``_detail`` set for records that must go to quarantine. The store
loads that relation in one transaction per file (``govsocial.store.ingest``).

Columns of a posts relation, in order: :data:`POST_COLUMNS`; of an account snapshots
relation: :data:`ACCOUNT_SNAPSHOT_COLUMNS`. Every relation also carries
:data:`BOOKKEEPING_COLUMNS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

from govsocial.registry.models import PLATFORMS

MEDIA_TYPES = ("image", "video", "text", "link", "carousel", "reel")
COUNT_COLUMNS = ("views", "likes", "reactions", "comments", "shares", "quotes", "saves")

# name -> DuckDB type
POST_COLUMNS: dict[str, str] = {
    "platform": "VARCHAR",
    "account_platform_id": "VARCHAR",
    "account_handle": "VARCHAR",
    "post_id": "VARCHAR",
    "posted_at": "TIMESTAMPTZ",
    "captured_at": "TIMESTAMPTZ",
    "media_type": "VARCHAR",
    "text": "VARCHAR",
    "url": "VARCHAR",
    "is_repost": "BOOLEAN",
    "video_duration_s": "DOUBLE",
    **{c: "BIGINT" for c in COUNT_COLUMNS},
}
ACCOUNT_SNAPSHOT_COLUMNS: dict[str, str] = {
    "platform": "VARCHAR",
    "account_platform_id": "VARCHAR",
    "account_handle": "VARCHAR",
    "captured_at": "TIMESTAMPTZ",
    "followers": "BIGINT",
    "following": "BIGINT",
    "posts_count": "BIGINT",
}
# _row: 1-based record number in the file (origin_label + _row says where, for people);
# _reason: quarantine reason code (NULL = good); _detail: the human explanation;
# _akey: the account reference (platform|platform id|lower-case handle).
BOOKKEEPING_COLUMNS: dict[str, str] = {
    "_row": "BIGINT",
    "_reason": "VARCHAR",
    "_detail": "VARCHAR",
    "_akey": "VARCHAR",
}

Kind = Literal["posts", "account_snapshots"]


@dataclass
class Staged:
    """A file ready to load: ``select_sql`` reads ``{source}`` and yields the canonical columns.

    ``source_sql`` is a DuckDB table expression (e.g. ``read_parquet('f.parquet', ...)``); or
    ``arrow`` holds the records and ``{source}`` names it once registered.
    ``payload_sql`` reads ``{source}`` and yields ``_row, _payload`` (the record as received,
    JSON); the store evaluates it only for quarantined records, and for every record when
    ``keep_record_payloads`` is set (record formats such as API JSON, whose raw shape differs
    from the canonical one). The file's bytes are always kept in ``raw_files``.
    """

    kind: Kind
    source_format: str
    select_sql: str
    payload_sql: str
    origin_label: str  # e.g. "posts.csv, row ": + the record number, names the place
    source_sql: str | None = None
    arrow: pa.Table | None = None
    metrics_version: int = 1
    synthetic: bool = False
    keep_record_payloads: bool = False


def platforms_sql() -> str:
    return ", ".join(f"'{p}'" for p in PLATFORMS)


def media_types_sql() -> str:
    return ", ".join(f"'{m}'" for m in MEDIA_TYPES)
