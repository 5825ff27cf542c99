"""The generic format's records (docs/formats.md, "The generic format"): which columns a file
has, what each must hold, and the typed SELECT that reads every row by those rules.

A file with a ``post_id`` column is a **posts** file, one with ``followers`` (and no
``post_id``) an **account snapshots** file; their columns are the canonical ones of
:mod:`govsocial.sources.staging`. A column comes as text (every CSV column, a Parquet string
column, dictionary-encoded or not) or as a typed Parquet column, and :meth:`Layout.from_columns`
decides once per file how each is read, in one place:

- text is trimmed (``text`` and ``url`` kept as written) and an empty cell is NULL; a cell
  that does not convert is quarantined (``bad_value``: ``column likes: 12.5 is not a valid
  whole number``);
- counts come from integer columns of any width, or from float and decimal columns holding
  whole values; a value past the largest count (``uint64`` 2^63) is quarantined as too large;
- times: a timestamp with a zone as it is; one without (a naive Parquet timestamp, a date,
  text without an offset) in ``--tz``, else UTC; a date alone is its midnight; a time past
  the year 9999 (or before the year 1) is quarantined (``bad_time``), however far out;
- a column whose type cannot hold its values (dates as ``likes``, binary as ``post_id``,
  floating-point ids) refuses the file, naming the column and the fix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa

from govsocial.errors import InputError
from govsocial.sources.generic.values import Read, Unfit, read_as
from govsocial.sources.staging import (
    ACCOUNT_SNAPSHOT_COLUMNS,
    POST_COLUMNS,
    Kind,
    case_sql,
    validated_select,
)

REQUIRED: dict[Kind, tuple[str, ...]] = {
    "posts": ("platform", "post_id", "posted_at", "captured_at", "media_type"),
    "account_snapshots": ("platform", "captured_at", "followers"),
}
ACCOUNT_REF = ("account_platform_id", "account_handle")  # one of the two is required


@dataclass(frozen=True)
class Column:
    """One column of a file: its name, how ``{source} AS s`` refers to it, its Arrow type.

    ``overflow``: for a timestamp column holding times DuckDB cannot hold, SQL of the raw
    count of the column's units since 1970 of those cells (NULL elsewhere: ``sql`` has the
    others)."""

    name: str
    sql: str
    type: pa.DataType = field(default_factory=pa.string)
    overflow: str | None = None

    @property
    def payload_sql(self) -> str:
        """The cell as the record's payload shows it."""
        if self.overflow is None:
            return self.sql
        unit = f" {self.type.unit} since 1970-01-01"
        return (
            f"coalesce(CAST({self.sql} AS VARCHAR), CAST({self.overflow} AS VARCHAR) || '{unit}')"
        )


def kind_of(names: Sequence[str]) -> Kind | None:
    """The kind of file whose columns are ``names``; None if it is not a generic file."""
    if "post_id" in names:
        return "posts"
    if "followers" in names:
        return "account_snapshots"
    return None


@dataclass(frozen=True)
class Layout:
    """What a generic file's columns say: its kind, and how each canonical column is read."""

    kind: Kind
    reads: Mapping[str, Read]  # canonical column -> its typed value and per-cell checks

    @classmethod
    def from_columns(cls, columns: Sequence[Column], path: Path, zone: tzinfo | None) -> Layout:
        """The layout of a file with ``columns`` (``zone``: ``--tz``, for times without one);
        InputError naming every problem if the columns do not make a generic file."""
        target_names = {*POST_COLUMNS, *ACCOUNT_SNAPSHOT_COLUMNS}
        padded = [c.name for c in columns if c.name != c.name.strip()]
        if any(name.strip() in target_names for name in padded):
            raise InputError(
                f"column name(s) {', '.join(repr(n) for n in padded)} have spaces around "
                "them; remove the spaces in the header line.",
                path=path,
                place="line 1",
            )
        kind = kind_of([c.name for c in columns])
        if kind is None:
            raise InputError(
                "not a generic posts file (no 'post_id' column) nor an account "
                "snapshots file (no 'followers' column). See docs/formats.md for the "
                "columns, or choose another --format.",
                path=path,
            )
        target = POST_COLUMNS if kind == "posts" else ACCOUNT_SNAPSHOT_COLUMNS
        found: dict[str, Column] = {}
        problems = []
        for column in columns:
            if column.name in target and column.name in found:
                problems.append(f"column {column.name} appears twice: keep one")
            found.setdefault(column.name, column)
        missing = [c for c in REQUIRED[kind] if c not in found]
        if not any(c in found for c in ACCOUNT_REF):
            missing.append("account_platform_id or account_handle")
        if missing:
            raise InputError(
                f"missing required column(s): {', '.join(missing)}. Add them "
                "(docs/formats.md lists every column); nothing was loaded.",
                path=path,
            )
        reads: dict[str, Read] = {}
        for name, duck_type in target.items():
            if name not in found:
                reads[name] = Read(f"NULL::{duck_type}")
                continue
            try:
                local = _local_sql(zone) if zone is not None else None
                reads[name] = read_as(found[name], duck_type, local)
            except Unfit as exc:
                problems.append(str(exc))
        if problems:
            raise InputError(
                f"{'; '.join(problems)}. Nothing was loaded: fix the column(s) "
                "(docs/formats.md gives each column's type).",
                path=path,
            )
        return cls(kind, reads)

    def select_sql(self, *, reader_findings: bool = False) -> str:
        """The typed SELECT over ``{source} AS s`` with every rule of the format and the
        loader's (:func:`~govsocial.sources.staging.validated_select`). ``reader_findings``:
        the source has ``_reason``/``_detail`` from reading (a CSV row that could not be
        split), which win over the per-cell checks."""
        checks = [check for read in self.reads.values() for check in read.checks]
        reason, detail = case_sql(checks, "reason"), case_sql(checks, "detail")
        if reader_findings:
            reason, detail = f"coalesce(s._reason, {reason})", f"coalesce(s._detail, {detail})"
        values = ", ".join(f"{read.value} AS {name}" for name, read in self.reads.items())
        inner = f"""
            SELECT s._row, {values},
                   {reason} AS _cast_reason,
                   {detail} AS _cast_detail
            FROM {{source}} AS s"""
        return validated_select(inner, self.kind)


def _local_sql(zone: tzinfo) -> str:
    """SQL turning ``{0}`` (a TIMESTAMP without zone) into TIMESTAMPTZ, read in ``zone``."""
    if isinstance(zone, ZoneInfo):
        return f"timezone('{zone.key}', {{0}})"
    offset = zone.utcoffset(None)
    seconds = int(offset.total_seconds()) if offset is not None else 0
    if not seconds:
        return "timezone('UTC', {0})"
    # Out of range the shift could overflow; such times are quarantined (bad_time) anyway.
    inside = "{0} BETWEEN TIMESTAMP '0002-01-01' AND TIMESTAMP '9999-01-01'"
    shifted = f"{{0}} - INTERVAL ({seconds}) SECOND"
    return f"timezone('UTC', CASE WHEN {inside} THEN {shifted} ELSE {{0}} END)"
