"""The typed row buffer every record reader fills: records in, an Arrow relation out.

A reader that parses records itself (JSON formats, API pages) adds one row per source record
to a :class:`Rows` of its kind: a good record with its canonical values, or a rejected one
with its quarantine reason and detail. ``_row`` is the record's number in the file, 1-based
in reading order and counted across a file's relations (pass them one shared ``numbers``), so
that a number names one record. Rows become Arrow batches of :data:`BATCH_ROWS` as they come
(Python objects cost several times the memory of the same values in Arrow), and
:meth:`Rows.staged` hands them to the loader through
:func:`~govsocial.sources.staging.staged_from_arrow`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from govsocial.errors import RecordError
from govsocial.sources.payloads import payload_json, quarantine_payload
from govsocial.sources.staging import (
    ACCOUNT_SNAPSHOT_COLUMNS,
    POST_COLUMNS,
    Kind,
    Staged,
    staged_from_arrow,
)

BATCH_ROWS = 65_536  # rows held as Python objects before they become an Arrow batch
ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "BOOLEAN": pa.bool_(),
    "DOUBLE": pa.float64(),
    "BIGINT": pa.int64(),
}


def canonical(kind: Kind) -> dict[str, str]:
    """The canonical columns of a relation of ``kind`` (name → DuckDB type)."""
    return POST_COLUMNS if kind == "posts" else ACCOUNT_SNAPSHOT_COLUMNS


class Rows:
    """The rows of one relation being built: ``_row, _reason, _detail, _payload, *fields``.

    ``fields`` are canonical columns of ``kind`` in the order :meth:`add` gives their values
    (default: all but ``platform``); ``platform`` is then written on every good row.
    """

    def __init__(
        self,
        kind: Kind,
        platform: str | None,
        *,
        fields: Sequence[str] | None = None,
        numbers: Iterator[int] | None = None,
    ) -> None:
        columns = canonical(kind)
        self.kind: Kind = kind
        self.platform = platform
        self.fields = tuple(fields or (c for c in columns if c != "platform"))
        unknown = [f for f in self.fields if f not in columns]
        if unknown:
            raise ValueError(f"not canonical {kind} columns: {unknown}")
        self._types = [ARROW_TYPES[columns[f]] for f in self.fields]
        self._numbers = numbers if numbers is not None else itertools.count(1)
        self.rows: list[tuple[Any, ...]] = []  # the rows not yet in Arrow
        self._batches: list[pa.RecordBatch] = []
        self._count = 0
        self._blank = (None,) * len(self.fields)

    def __len__(self) -> int:
        return self._count + len(self.rows)

    def add(self, payload: str, values: tuple[Any, ...]) -> None:
        """A good record: its payload (JSON text) and its values in :attr:`fields` order."""
        self.rows.append((next(self._numbers), None, None, payload, *values))
        if len(self.rows) >= BATCH_ROWS:
            self._flush()

    def good(self, raw: Any, values: Mapping[str, Any], place: str = "") -> None:
        """A good record as received (``raw``) with its values by column name.

        A record that cannot be kept as JSON (an unpaired surrogate) is quarantined instead.
        """
        try:
            payload = payload_json(raw)
        except RecordError as exc:
            self.reject(raw, exc.reason, f"{place}: {exc.detail}" if place else exc.detail)
            return
        self.add(payload, tuple(values.get(f) for f in self.fields))

    def build(self, raw: Any, values: Callable[[], Mapping[str, Any]], place: str = "") -> None:
        """Add the record whose values ``values()`` reads; a :class:`RecordError` quarantines it."""
        try:
            found = values()
        except RecordError as exc:
            self.reject(raw, exc.reason, f"{place}: {exc.detail}" if place else exc.detail)
            return
        self.good(raw, found, place)

    def reject(self, raw: Any, reason: str, detail: str) -> None:
        """A record that cannot be read; ``raw`` is kept as received (or as text)."""
        payload = quarantine_payload(raw)
        self.rows.append((next(self._numbers), reason, detail, payload, *self._blank))
        if len(self.rows) >= BATCH_ROWS:
            self._flush()

    def _flush(self) -> None:
        names = ["_row", "_reason", "_detail", "_payload", *self.fields]
        types = [pa.int64(), pa.string(), pa.string(), pa.string(), *self._types]
        columns = list(zip(*self.rows, strict=True)) or [()] * len(names)
        self._count += len(self.rows)
        self.rows = []
        arrays = [_array(list(v), t) for v, t in zip(columns, types, strict=True)]
        self._batches.append(pa.RecordBatch.from_arrays(arrays, names=names))

    def to_arrow(self) -> pa.Table:
        """The rows as an Arrow table (handed over: the buffer is empty afterwards)."""
        if self.rows or not self._batches:
            self._flush()
        table = pa.Table.from_batches(self._batches)
        self._batches, self._count = [], 0
        if self.platform is None:
            return table
        platform = pc.if_else(
            pc.is_null(table["_reason"]), pa.scalar(self.platform), pa.scalar(None, pa.string())
        )
        return table.append_column("platform", platform)

    def staged(self, source_format: str, origin_label: str) -> Staged:
        return staged_from_arrow(
            self.to_arrow(), kind=self.kind, source_format=source_format, origin_label=origin_label
        )


def stage_rows(
    relations: Sequence[Rows], primary: Rows, source_format: str, label: str
) -> list[Staged]:
    """The relations that have rows (and always ``primary``, so an empty file says so)."""
    return [rows.staged(source_format, label) for rows in relations if len(rows) or rows is primary]


def _array(values: list[Any], kind: pa.DataType) -> pa.Array:
    try:
        return pa.array(values, kind)
    except UnicodeEncodeError:  # an unpaired surrogate in a value not checked as a payload
        return pa.array(
            [v.encode("utf-8", "replace").decode() if isinstance(v, str) else v for v in values],
            kind,
        )
