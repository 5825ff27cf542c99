"""Reading a CrowdTangle CSV export: recognising it, its header, and its rows as text.

The rows are read by pyarrow's multi-threaded CSV reader, every column as text, with quoted
line breaks allowed (a post's ``Message`` often has several lines). pyarrow refuses a file
with a malformed row (too few or too many fields, a quote left open at the end); such a file
is read again with Python's ``csv`` module, slower but row by row, so that each malformed row
becomes one quarantined record (reason ``wrong_field_count`` or ``bad_csv``, payload the raw
text) and the other rows still load. Rows are numbered from 1 after the header, skipping blank
lines as both readers do; a spreadsheet shows row N one line lower, under its header.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import pyarrow as pa
import pyarrow.csv as pacsv

from govsocial.errors import InputError
from govsocial.sources.crowdtangle.records import Layout

BOM = b"\xef\xbb\xbf"


def header_of(head: bytes) -> list[str] | None:
    """The header row from the first bytes of a file (BOM removed); None if unreadable."""
    if head.startswith(BOM):
        head = head[len(BOM) :]
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    rows = list(csv.reader([text]))
    return rows[0] if rows and len(rows[0]) > 1 else None


def sniff(path: Path, head: bytes) -> bool:
    """A CSV whose header is a CrowdTangle Facebook (``Facebook Id``, ``Post Created``, …) or
    Instagram (``Account``, ``User Name``, ``Post Created``, …) export's."""
    try:
        header = header_of(head)
        layout = Layout.from_header(header) if header else None
        return layout is not None and not layout.missing
    except Exception:  # sniffing must never fail; the file is then simply not ours
        return False


def layout_of(path: Path) -> Layout:
    """The layout of ``path``'s header; InputError (naming the fix) if it is not an export."""
    try:
        with path.open("rb") as handle:
            head = handle.read(64 * 1024)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc}). Check the path.", path=path) from exc
    if not head.strip(BOM + b" \r\n\t"):
        raise InputError("the file is empty. Export the CrowdTangle CSV again.", path=path)
    header = header_of(head)
    layout = Layout.from_header(header) if header else None
    if layout is None:
        raise InputError(
            "this is not a CrowdTangle CSV export: its first line should be the header of a "
            "Facebook export (Page Name, User Name, Facebook Id, …) or an Instagram export "
            "(Account, User Name, Followers at Posting, …), in UTF-8. Check the file, or choose "
            "another --format.",
            path=path,
        )
    if layout.missing:
        raise InputError(
            f"this CrowdTangle {layout.platform} export lacks the column(s) "
            f"{', '.join(layout.missing)}. Export it again with all columns.",
            path=path,
        )
    return layout


@dataclass
class Rows:
    """The rows of an export as text: one column per header column (NULL in rows that could
    not be split into fields), and what went wrong with such rows."""

    columns: list[pa.ChunkedArray | pa.Array]
    reason: pa.Array
    detail: pa.Array
    payload: pa.Array  # the raw text of unsplittable rows (JSON string), else NULL

    @property
    def count(self) -> int:
        return len(self.reason)


def read_rows(path: Path, width: int) -> Rows:
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
        return _read_rows_slowly(path, width)
    empty = pa.nulls(table.num_rows, pa.string())
    return Rows(list(table.columns), empty, empty, empty)


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


def _read_rows_slowly(path: Path, width: int) -> Rows:
    try:
        return _split_rows(path, width, "strict")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":  # cut off inside a character: keep the rest
            return _split_rows(path, width, "replace")
        raise InputError(
            f"is not UTF-8 text ({exc.reason} at byte {exc.start} of a block). CrowdTangle "
            "exports UTF-8; if the file was re-saved by a spreadsheet, save it again as "
            "'CSV UTF-8'.",
            path=path,
        ) from exc


def _split_rows(path: Path, width: int, errors: str) -> Rows:
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
            try:
                fields = next(reader)
                problem = None
                if len(fields) != width and fields:
                    problem = (
                        "wrong_field_count",
                        f"the row has {len(fields)} fields where the header has {width} "
                        "(a quote or line break out of place, or a cut-off file?)",
                    )
            except StopIteration:
                break
            except csv.Error as exc:
                fields, problem = [], ("bad_csv", f"the row cannot be read as CSV: {exc}")
            raw = lines.take()
            if not fields and problem is None:
                continue  # a blank line, skipped as pyarrow does
            reasons.append(problem[0] if problem else None)
            details.append(problem[1] if problem else None)
            payloads.append(json.dumps(raw, ensure_ascii=False) if problem else None)
            for i, column in enumerate(values):
                column.append(None if problem else fields[i])
    return Rows(
        [pa.array(v, pa.string()) for v in values],
        pa.array(reasons, pa.string()),
        pa.array(details, pa.string()),
        pa.array(payloads, pa.string()),
    )
