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
# _row: 1-based record number in the file; _origin: where it came from (file, row/line);
# _reason: quarantine reason code (NULL = good); _detail: the human explanation;
# _payload: the record as received (JSON).
BOOKKEEPING_COLUMNS: dict[str, str] = {
    "_row": "BIGINT",
    "_origin": "VARCHAR",
    "_reason": "VARCHAR",
    "_detail": "VARCHAR",
    "_payload": "JSON",
}

Kind = Literal["posts", "account_snapshots"]


@dataclass
class Staged:
    """A file ready to load: ``select_sql`` reads ``{source}`` and yields the canonical columns.

    ``source_sql`` is a DuckDB table expression (e.g. ``read_parquet('f.parquet', ...)``); or
    ``arrow`` holds the records and ``{source}`` names it once registered.
    """

    kind: Kind
    source_format: str
    select_sql: str
    source_sql: str | None = None
    arrow: pa.Table | None = None
    metrics_version: int = 1
    synthetic: bool = False


def platforms_sql() -> str:
    return ", ".join(f"'{p}'" for p in PLATFORMS)


def media_types_sql() -> str:
    return ", ".join(f"'{m}'" for m in MEDIA_TYPES)
