"""The rows of one relation being built, and their Arrow table for the loader.

Every source record is one row: ``_row`` (its number in the file, 1-based in reading order,
counted across both relations so that it names one record), ``_reason``/``_detail``
(NULL for a good record), ``_payload`` (the record as received, JSON text) and the canonical
columns (all NULL for a rejected record).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from govsocial.sources.staging import ACCOUNT_SNAPSHOT_COLUMNS, COUNT_COLUMNS, POST_COLUMNS
from govsocial.sources.x.records import RecordError

# The canonical columns an X record fills (platform is added per file; X has no reactions).
POST_FIELDS = tuple(c for c in POST_COLUMNS if c not in ("platform", "reactions"))
SNAPSHOT_FIELDS = tuple(c for c in ACCOUNT_SNAPSHOT_COLUMNS if c != "platform")

_TYPES: dict[str, pa.DataType] = {
    "_row": pa.int64(),
    "posted_at": pa.timestamp("us", tz="UTC"),
    "captured_at": pa.timestamp("us", tz="UTC"),
    "is_repost": pa.bool_(),
    "video_duration_s": pa.float64(),
    **dict.fromkeys((*COUNT_COLUMNS, "followers", "following", "posts_count"), pa.int64()),
}
_LONE_SURROGATE = re.compile(
    r"\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}"
)
BATCH_ROWS = 65_536  # rows held as Python objects before they become an Arrow batch
_ENCODER = json.JSONEncoder(separators=(",", ":"))  # one encoder: dumps() makes one per call


def payload_json(value: Any) -> str:
    """The record as received, as JSON text the warehouse accepts."""
    text = _ENCODER.encode(value)
    # Emoji are escaped as surrogate pairs; an unpaired one (a cut emoji) DuckDB refuses.
    if "\\ud" in text and _LONE_SURROGATE.search(text):
        try:  # the pattern can also match an escaped backslash before "ud800": make sure
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise RecordError(
                "bad_value", "it contains an unpaired UTF-16 surrogate escape (\\udXXX)"
            ) from None
    return text


class Table:
    """Rows of one relation being built: ``_row, _reason, _detail, _payload, *fields``."""

    def __init__(self, fields: tuple[str, ...], numbers: Iterator[int]) -> None:
        self.fields = fields
        self._numbers = numbers  # shared by the relations of a file: a record number is unique
        self.rows: list[tuple[Any, ...]] = []  # the rows not yet in Arrow
        self._batches: list[pa.RecordBatch] = []
        self._count = 0
        self._blank = (None,) * len(fields)

    def __len__(self) -> int:
        return self._count + len(self.rows)

    def add(self, payload: str, values: tuple[Any, ...]) -> None:
        self.rows.append((next(self._numbers), None, None, payload, *values))
        if len(self.rows) >= BATCH_ROWS:
            self._flush()

    def reject(self, raw: Any, reason: str, detail: str) -> None:
        """A record that cannot be read; ``raw`` is kept as received (or as text)."""
        try:
            payload = payload_json(raw)
        except RecordError:  # unpaired surrogates become "?" so the payload stays valid JSON
            text = json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
            payload = text.encode("utf-8", "replace").decode("utf-8")
        self.rows.append((next(self._numbers), reason, detail, payload, *self._blank))
        if len(self.rows) >= BATCH_ROWS:
            self._flush()

    def _flush(self) -> None:
        """Move the pending rows into an Arrow batch: Python objects cost several times the
        memory of the same values in Arrow, so a large file is held as Arrow as it is read."""
        names = ["_row", "_reason", "_detail", "_payload", *self.fields]
        columns = list(zip(*self.rows, strict=True)) or [()] * len(names)
        self._count += len(self.rows)
        self.rows = []
        arrays = [
            _array(list(values), _TYPES.get(name, pa.string()))
            for name, values in zip(names, columns, strict=True)
        ]
        self._batches.append(pa.RecordBatch.from_arrays(arrays, names=names))

    def to_arrow(self) -> pa.Table:
        """The rows as an Arrow table for ``staged_from_arrow`` (platform "x" on good rows).

        The rows are handed over: the table is empty afterwards.
        """
        if self.rows or not self._batches:
            self._flush()
        table = pa.Table.from_batches(self._batches)
        self._batches, self._count = [], 0
        platform = pc.if_else(
            pc.is_null(table["_reason"]), pa.scalar("x"), pa.scalar(None, pa.string())
        )
        return table.append_column("platform", platform)


def _array(values: list[Any], kind: pa.DataType) -> pa.Array:
    try:
        return pa.array(values, kind)
    except UnicodeEncodeError:  # an unpaired surrogate in an expanded user's name, say
        return pa.array(
            [v.encode("utf-8", "replace").decode() if isinstance(v, str) else v for v in values],
            kind,
        )
