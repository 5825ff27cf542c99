"""Records → one Arrow table per kind, in the canonical columns (the contract of
:func:`govsocial.sources.staging.staged_from_arrow`): one row per source record, good or
quarantined (``_reason``/``_detail``), with the record as received in ``_payload``."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pyarrow as pa

from govsocial.sources.facebook.graph import RecordError, payload_json
from govsocial.sources.staging import (
    ACCOUNT_SNAPSHOT_COLUMNS,
    POST_COLUMNS,
    Kind,
    Staged,
    staged_from_arrow,
)

_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "BOOLEAN": pa.bool_(),
    "DOUBLE": pa.float64(),
    "BIGINT": pa.int64(),
}


class Rows:
    """One Arrow table in the making: one row per source record, good or quarantined."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind
        self.columns = POST_COLUMNS if kind == "posts" else ACCOUNT_SNAPSHOT_COLUMNS
        self.data: dict[str, list[object]] = {
            name: [] for name in ("_row", "_reason", "_detail", "_payload", *self.columns)
        }

    def __len__(self) -> int:
        return len(self.data["_row"])

    def good(self, row: int, payload: object, values: Mapping[str, object]) -> None:
        self._add(row, None, None, payload, values)

    def bad(self, row: int, payload: object, reason: str, detail: str) -> None:
        self._add(row, reason, detail, payload, {})

    def _add(
        self,
        row: int,
        reason: str | None,
        detail: str | None,
        payload: object,
        values: Mapping[str, object],
    ) -> None:
        self.data["_row"].append(row)
        self.data["_reason"].append(reason)
        self.data["_detail"].append(detail)
        self.data["_payload"].append(payload_json(payload))
        for name in self.columns:
            self.data[name].append(values.get(name))

    def staged(self, source_format: str, origin_label: str) -> Staged:
        types = {"_row": pa.int64(), "_reason": pa.string(), "_detail": pa.string()}
        types["_payload"] = pa.string()
        types.update({name: _ARROW_TYPES[duck] for name, duck in self.columns.items()})
        table = pa.table({name: pa.array(self.data[name], types[name]) for name in self.data})
        return staged_from_arrow(
            table, kind=self.kind, source_format=source_format, origin_label=origin_label
        )


def quarantine_or(
    rows: Rows, row: int, payload: object, build: Callable[[], Mapping[str, object]]
) -> None:
    """Add the record built by ``build``; a :class:`RecordError` sends it to quarantine."""
    try:
        values = build()
    except RecordError as exc:
        rows.bad(row, payload, exc.reason, exc.detail)
        return
    rows.good(row, payload, values)
