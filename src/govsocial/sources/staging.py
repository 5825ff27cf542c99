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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import pyarrow as pa

from govsocial.vocabulary import (
    ACCOUNT_COUNT_COLUMNS,
    COUNT_COLUMNS,
    FUTURE_TOLERANCE,
    MEDIA_TYPES,
    PLATFORM_LAUNCH,
    PLATFORMS,
)

# name -> DuckDB type
POST_COLUMNS: dict[str, str] = {
    "platform": "VARCHAR",
    "account_platform_id": "VARCHAR",
    "account_handle": "VARCHAR",
    "account_name": "VARCHAR",  # the account's display name, when the record carries it
    "post_id": "VARCHAR",
    "posted_at": "TIMESTAMPTZ",
    "captured_at": "TIMESTAMPTZ",
    "media_type": "VARCHAR",
    "text": "VARCHAR",
    "url": "VARCHAR",
    "is_repost": "BOOLEAN",
    # true: a reply to another account's post; false: not one (an original, a repost, the next
    # post of the author's own thread); NULL: the source cannot tell (docs/schema.md).
    "is_reply_to_other": "BOOLEAN",
    "video_duration_s": "DOUBLE",
    **{c: "BIGINT" for c in COUNT_COLUMNS},
}
ACCOUNT_SNAPSHOT_COLUMNS: dict[str, str] = {
    "platform": "VARCHAR",
    "account_platform_id": "VARCHAR",
    "account_handle": "VARCHAR",
    "account_name": "VARCHAR",
    "captured_at": "TIMESTAMPTZ",
    **dict.fromkeys(ACCOUNT_COUNT_COLUMNS, "BIGINT"),
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


_REQUIRED = {
    "posts": ("platform", "post_id", "posted_at", "captured_at", "media_type"),
    "account_snapshots": ("platform", "captured_at", "followers"),
}


def case_sql(rules: list[tuple[str, str, str]], part: str) -> str:
    """CASE over (condition, reason code, detail SQL) rules: the first that holds wins."""
    if not rules:
        return "NULL::VARCHAR"
    whens = " ".join(
        f"WHEN {cond} THEN {_literal(reason) if part == 'reason' else detail}"
        for cond, reason, detail in rules
    )
    return f"CASE {whens} END"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _timestamp(moment: datetime) -> str:
    return f"TIMESTAMPTZ '{moment.isoformat()}'"


def _launch_sql(platform: str) -> str:
    whens = " ".join(f"WHEN '{p}' THEN {_timestamp(t)}" for p, t in PLATFORM_LAUNCH.items())
    return f"CASE {platform} {whens} END"


def time_rules(kind: Kind) -> list[tuple[str, str, str]]:
    """The documented rules for times (docs/formats.md, "Times"), first match wins:

    - ``bad_time``: not a real time (``infinity``, or past the year 9999);
    - ``implausible_time``: a post (or reading) dated before its platform opened
      (:data:`~govsocial.vocabulary.PLATFORM_LAUNCH`): a placeholder such as 1970-01-01;
    - ``future_time``: later than the import's clock by more than an hour;
    - ``captured_before_posted``: counts read before the post was published.
    """
    times = ("posted_at", "captured_at") if kind == "posts" else ("captured_at",)
    end = "TIMESTAMPTZ '10000-01-01 00:00:00+00'"  # past what Python's datetime can hold
    soon = f"(now() + INTERVAL {int(FUTURE_TOLERANCE.total_seconds())} SECOND)"
    rules = [
        (
            f"NOT isfinite(c.{t}) OR c.{t} >= {end}",
            "bad_time",
            f"'{t} ' || c.{t} || ' is not a real time'",
        )
        for t in times
    ]
    rules += [
        (
            f"c.{t} < {_launch_sql('c.platform')}",
            "implausible_time",
            f"'{t} ' || c.{t} || ' is before ' || c.platform || ' existed (' || "
            f"strftime({_launch_sql('c.platform')}, '%Y-%m-%d') || ')'",
        )
        for t in times
    ]
    rules += [
        (
            f"c.{t} > {soon}",
            "future_time",
            f"'{t} ' || c.{t} || ' is in the future (the import ran at ' || now() || ')'",
        )
        for t in times
    ]
    if kind == "posts":
        rules.append(
            (
                "c.captured_at < c.posted_at",
                "captured_before_posted",
                "'captured_at ' || c.captured_at || ' is before posted_at ' || c.posted_at",
            )
        )
    return rules


_CONTROL = "'[\\x00-\\x1f\\x7f]'"  # NUL, line breaks and other control characters


def validated_select(inner_sql: str, kind: Kind) -> str:
    """Wrap a format's typed SELECT with the rules every record of every format must follow.

    ``inner_sql`` yields ``_row``, the canonical columns of ``kind`` (typed), and
    ``_cast_reason``/``_cast_detail`` (the format's own finding, NULL when fine). The result
    adds ``_reason``/``_detail`` (the format's finding first, then these rules) and ``_akey``.
    """
    target = POST_COLUMNS if kind == "posts" else ACCOUNT_SNAPSHOT_COLUMNS
    rules = [(f"c.{r} IS NULL", "missing_value", f"'column {r} is empty'") for r in _REQUIRED[kind]]
    rules.append(
        (
            "c.account_platform_id IS NULL AND c.account_handle IS NULL",
            "missing_value",
            "'both account_platform_id and account_handle are empty'",
        )
    )
    rules.append(
        (
            f"c.platform NOT IN ({platforms_sql()})",
            "unknown_platform",
            f"'platform ' || c.platform || ' is not one of {', '.join(PLATFORMS)}'",
        )
    )
    identifiers = ("account_platform_id", "account_handle") + (
        ("post_id",) if kind == "posts" else ()
    )
    rules += [
        (
            f"regexp_matches(c.{name}, {_CONTROL})",
            "bad_value",
            f"'column {name} holds a control character (NUL, a line break, …): ' || "
            f"to_json(c.{name})::VARCHAR",
        )
        for name in identifiers
    ]
    rules += time_rules(kind)
    counts = [c for c in (*COUNT_COLUMNS, *ACCOUNT_COUNT_COLUMNS) if c in target]
    rules += [
        (f"c.{c} < 0", "negative_count", f"'column {c} is negative: ' || c.{c}") for c in counts
    ]
    if kind == "posts":
        rules.append(
            (
                f"c.media_type NOT IN ({media_types_sql()})",
                "unknown_media_type",
                f"'media_type ' || c.media_type || ' is not one of {', '.join(MEDIA_TYPES)}'",
            )
        )
    canonical = ", ".join(f"c.{name}" for name in target)
    handle = "lower(ltrim(c.account_handle, '@'))"
    return f"""
        SELECT c._row,
               coalesce(c._cast_reason, {case_sql(rules, "reason")}) AS _reason,
               coalesce(c._cast_detail, {case_sql(rules, "detail")}) AS _detail,
               {canonical},
               c.platform || '|' || coalesce(c.account_platform_id, '') || '|' ||
                   coalesce({handle}, '') AS _akey
        FROM ({inner_sql}) AS c
    """


def staged_from_arrow(
    table: pa.Table,
    *,
    kind: Kind,
    source_format: str,
    origin_label: str,
    metrics_version: int = 1,
    keep_record_payloads: bool = True,
) -> Staged:
    """A :class:`Staged` for readers that parse records themselves (JSON formats, CSV exports).

    ``table`` has one row per source record: ``_row`` (int64, 1-based record number),
    ``_reason``/``_detail`` (string; the reader's own finding, e.g. ``bad_json``, or NULL),
    ``_payload`` (string: the record as received, JSON text) and any of the canonical columns
    of ``kind`` (missing ones are NULL), with types castable to the canonical ones.
    """
    target = POST_COLUMNS if kind == "posts" else ACCOUNT_SNAPSHOT_COLUMNS
    have = set(table.column_names)
    columns = [
        f"TRY_CAST(s.{name} AS {duck_type}) AS {name}"
        if name in have
        else f"NULL::{duck_type} AS {name}"
        for name, duck_type in target.items()
    ]
    inner = f"""SELECT s._row, {", ".join(columns)},
                       s._reason AS _cast_reason, s._detail AS _cast_detail
                FROM {{source}} AS s"""
    payload = "SELECT s._row, s._payload::JSON AS _payload FROM {source} AS s"
    return Staged(
        kind,
        source_format,
        validated_select(inner, kind),
        payload,
        origin_label,
        arrow=table,
        metrics_version=metrics_version,
        keep_record_payloads=keep_record_payloads,
    )


@dataclass(frozen=True)
class ImportOptions:
    """What a user can tell an importer that the file does not say.

    ``tz``: the time zone of timestamps written without an offset (an IANA name such as
    ``Asia/Jakarta`` or an abbreviation from ``govsocial.sources.timezones``, e.g. ``WIB``);
    it overrides a file's own abbreviation. ``captured_at``: when the counts in the file were
    read, for files that do not record it (tz-aware).
    """

    tz: str | None = None
    captured_at: datetime | None = None


@dataclass(frozen=True)
class Format:
    """One import format: ``sniff(path, head)`` says whether a file looks like it (``head`` is
    its first 64 KiB); ``stage(path, options)`` turns it into one or more relations."""

    name: str
    about: str
    sniff: Callable[[Path, bytes], bool]
    stage: Callable[[Path, ImportOptions], Staged | Sequence[Staged]]
