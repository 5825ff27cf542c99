"""The text writers, CSV and JSON (an array or JSON Lines), to any function that takes bytes.

Each slice of rows becomes one string array, a line per row, assembled column-wise from the
cells' text (``cells.py``); its data buffer is written as it is, without a copy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govsocial.reports import cells
from govsocial.reports.slices import converted

Write = Callable[[bytes | memoryview], object]


def write_csv(reader: pa.RecordBatchReader, write: Write) -> int:
    names = pa.array(reader.schema.names, pa.string())
    write(",".join(_csv_quote(names).to_pylist()).encode() + b"\n")

    def lines(batch: pa.RecordBatch) -> pa.Array:
        if batch.num_columns == 0:
            return pa.array(["\n"] * batch.num_rows, pa.string())
        parts: list[Any] = []
        for column in batch.columns:
            parts += [_csv_cells(column), ","]
        parts[-1] = "\n"
        return pc.binary_join_element_wise(*parts, "")

    rows = 0
    for batch, text in converted(reader, lines):
        write(_concatenated(text))
        rows += batch.num_rows
    return rows


def write_json(reader: pa.RecordBatchReader, write: Write, *, lines: bool) -> int:
    keys = [cells.json_key(name) for name in cells.unique_names(reader.schema.names)]
    opening = "{" if lines else ",\n{"
    closing = "}\n" if lines else "}"

    def objects(batch: pa.RecordBatch) -> pa.Array:
        return cells.json_objects(keys, batch.columns, batch.num_rows, opening, closing)

    rows = 0
    for batch, text in converted(reader, objects):
        data = _concatenated(text)
        if not lines and rows == 0:
            # ",\n{...},\n{...}": the first object of all opens the array instead
            data = memoryview(b"[" + bytes(data[1:]))
        write(data)
        rows += batch.num_rows
    if not lines:
        write(b"[]\n" if rows == 0 else b"\n]\n")
    return rows


def _csv_cells(column: pa.Array) -> pa.Array:
    column = cells.plain(column)
    text = cells.as_text(column)
    if not (cells.casts_to_text(column.type) or cells.is_moment(column.type)):
        text = _csv_quote(text)  # numbers and times never hold a comma, quote or line break
    return pc.fill_null(text, "")


def _csv_quote(text: pa.Array) -> pa.Array:
    """Quote the values that hold a comma, a quote or a line break, and empty strings (so
    that they differ from NULL, an empty field)."""
    needs = pc.fill_null(
        pc.or_(pc.match_substring_regex(text, r'[",\r\n]'), pc.equal(text, "")), False
    )
    if not pc.any(needs).as_py():
        return text
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, text)


def _concatenated(lines: pa.Array) -> memoryview:
    """The values of a string array without nulls, one after the other: its data buffer."""
    if len(lines) == 0:
        return memoryview(b"")
    _, offsets_buffer, data = lines.buffers()
    width = np.int64 if pa.types.is_large_string(lines.type) else np.int32
    offsets = np.frombuffer(offsets_buffer, dtype=width)
    start, end = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
    return memoryview(data)[start:end] if data is not None else memoryview(b"")
