"""Reading a CSV file's rows as text, for every CSV format (CrowdTangle exports, generic CSV).

The rows are read by pyarrow's multi-threaded CSV reader, every column as text, with quoted
line breaks allowed (a post's message often has several lines). pyarrow refuses a file with a
malformed row (too few or too many fields, a quote left open at the end); such a file is read
again with Python's ``csv`` module, slower but row by row, so that each malformed row becomes
one quarantined record and the other rows still load:

- ``wrong_field_count``: ``Humas Jabar,humasjabar\\r\\n`` under a header of 41 columns;
- ``bad_csv``: a row the ``csv`` module cannot read at all (a quote never closed makes one
  field of the rest of the file, past the 128 KiB field limit).

Their detail names the line of the file where the row starts (``the row starting on line 7
…``), and their payload is the row's raw text. Rows are numbered from 1 after the header,
skipping blank lines as both readers do; a spreadsheet shows row N one line lower, under its
header. An empty cell is the empty string (formats decide what it means).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

import pyarrow as pa
import pyarrow.csv as pacsv

from govsocial.errors import InputError
from govsocial.sources.documents import BOM
from govsocial.sources.payloads import quarantine_payload


def header_of(head: bytes) -> list[str] | None:
    """The header row from a file's first bytes (BOM removed); None if it is not UTF-8 CSV."""
    line = head.removeprefix(BOM).split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = line.decode("utf-8")
        rows = list(csv.reader([text]))
    except (UnicodeDecodeError, csv.Error):
        return None
    return rows[0] if rows and rows[0] else None


def read_header(path: Path) -> list[str]:
    """The header row of a CSV file ([] if the file is empty). Lines are decoded one at a
    time, so that a byte that is not UTF-8 further down is not blamed on the header;
    UnicodeDecodeError if the header itself is not UTF-8."""

    def lines(handle: BinaryIO) -> Iterator[str]:
        for number, line in enumerate(handle):
            yield (line.removeprefix(BOM) if number == 0 else line).decode("utf-8")

    with path.open("rb") as handle:
        return next(csv.reader(lines(handle)), [])


def payload_keys(header: Sequence[str]) -> list[str]:
    """Header names made unique (case-insensitively), as keys of a row's JSON payload; an
    unnamed column is ``column N``."""
    seen: set[str] = set()
    keys = []
    for i, name in enumerate(header):
        key = name.strip() or f"column {i + 1}"
        while key.casefold() in seen:
            key += "'"
        seen.add(key.casefold())
        keys.append(key)
    return keys


def payload_sql(header: Sequence[str]) -> str:
    """The payload SELECT of a relation read by :func:`read_rows` (columns ``_c0 …``): a row
    as a JSON object keyed by the header, ``{"Page Name": "Humas Jabar", …}``, computed by
    DuckDB only for the rows the store keeps a payload of; the raw text of a row that could
    not be split into fields (``_payload``) otherwise."""
    fields = ", ".join(
        "'" + key.replace("'", "''") + f"': s._c{i}" for i, key in enumerate(payload_keys(header))
    )
    payload = f"coalesce(s._payload::JSON, to_json({{{fields}}}))"
    return f"SELECT s._row, {payload} AS _payload FROM {{source}} AS s"


@dataclass
class TextRows:
    """A CSV file's rows: one text column per header column (NULL in rows that could not be
    split into fields), and what went wrong with such rows."""

    columns: list[pa.ChunkedArray | pa.Array]
    reason: pa.Array  # wrong_field_count / bad_csv, else NULL
    detail: pa.Array
    payload: pa.Array  # the raw text of unsplittable rows (a JSON string), else NULL

    @property
    def count(self) -> int:
        return len(self.reason)

    def table(self) -> pa.Table:
        """``_row``, ``_reason``, ``_detail``, ``_payload``, ``_c0 …`` as one Arrow table."""
        return pa.table(
            {
                "_row": pa.array(range(1, self.count + 1), pa.int64()),
                "_reason": self.reason,
                "_detail": self.detail,
                "_payload": self.payload,
                **{f"_c{i}": c for i, c in enumerate(self.columns)},
            }
        )


def read_rows(path: Path, width: int) -> TextRows:
    """The rows after the header of ``path``, a UTF-8 CSV whose header has ``width`` columns."""
    names = [f"_c{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:  # a malformed row or invalid UTF-8: read it again row by row
        return read_rows_slowly(path, width)
    empty = pa.nulls(table.num_rows, pa.string())
    return TextRows(list(table.columns), empty, empty, empty)


class _Lines:
    """A text file's lines, remembering those read since the last :meth:`take`."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.taken: list[str] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self.handle)
        self.taken.append(line)
        return line

    def take(self) -> str:
        text = "".join(self.taken)
        self.taken.clear()
        return text


def read_rows_slowly(path: Path, width: int) -> TextRows:
    """:func:`read_rows` with Python's ``csv`` module, row by row (the same rows for a
    well-formed file; each malformed row quarantined)."""
    try:
        return _split_rows(path, width, "strict")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":  # cut off inside a character: keep the rest
            return _split_rows(path, width, "replace")
        raise InputError(
            f"is not UTF-8 text ({_undecodable(path)}: latin-1 or a Windows code page?). Save "
            "it again as UTF-8 (in a spreadsheet: 'CSV UTF-8'), or convert it: "
            "iconv -f latin1 -t utf-8 FILE > FILE.utf8.csv.",
            path=path,
        ) from exc


def _undecodable(path: Path) -> str:
    """Where the first byte that is not UTF-8 is (a line break is never inside a character)."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                return f"line {number}, byte {exc.start + 1} is 0x{line[exc.start]:02x}"
    return "a character is cut"


def _split_rows(path: Path, width: int, errors: str) -> TextRows:
    values: list[list[str | None]] = [[] for _ in range(width)]
    reasons: list[str | None] = []
    details: list[str | None] = []
    payloads: list[str | None] = []
    with path.open("r", encoding="utf-8-sig", errors=errors, newline="") as handle:
        lines = _Lines(handle)
        reader = csv.reader(lines)
        next(reader, None)  # the header
        lines.take()
        while True:
            start = reader.line_num + 1  # the line this row starts on (the header is line 1)
            try:
                fields = next(reader)
                problem = None
                if len(fields) != width and fields:
                    problem = (
                        "wrong_field_count",
                        f"the row starting on line {start} has {len(fields)} fields where the "
                        f"header has {width} (a quote or line break out of place, or a "
                        "cut-off file?)",
                    )
            except StopIteration:
                break
            except csv.Error as exc:
                problem = (
                    "bad_csv",
                    f"the row starting on line {start} cannot be read as CSV: {exc}",
                )
                fields = []
            raw = lines.take()
            if not fields and problem is None:
                continue  # a blank line, skipped as pyarrow does
            reasons.append(problem[0] if problem else None)
            details.append(problem[1] if problem else None)
            payloads.append(quarantine_payload(raw) if problem else None)
            for i, column in enumerate(values):
                column.append(None if problem else fields[i])
    return TextRows(
        [pa.array(v, pa.string()) for v in values],
        pa.array(reasons, pa.string()),
        pa.array(details, pa.string()),
        pa.array(payloads, pa.string()),
    )
