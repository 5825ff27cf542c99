"""The XLSX writer: one worksheet, a bold frozen header row, the values as Excel's own.

Numbers, booleans, dates and times go into cells as numbers (a timestamp column's time zone
named in its cells' format); everything else as text (``cells.py``). Excel's limits (rows,
columns, characters in a cell) are refused with the alternatives rather than cut. xlsxwriter
is imported only when a workbook is written.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from govsocial.errors import OutputError
from govsocial.reports import cells
from govsocial.reports.slices import slices

EXCEL_MAX_ROWS = 1_048_576  # rows of a worksheet, the header row included
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_TEXT = 32_767  # characters in a cell

Cell = Callable[[int, int, Any], Any]  # writes (row, column, value) into the worksheet


def write_xlsx(reader: pa.RecordBatchReader, path: Path) -> int:
    import xlsxwriter
    import xlsxwriter.exceptions

    schema = reader.schema
    if len(schema) > EXCEL_MAX_COLUMNS:
        raise OutputError(
            f"The result has {len(schema):,} columns; an Excel worksheet holds "
            f"{EXCEL_MAX_COLUMNS:,}. Write it as CSV or Parquet instead (.csv, .parquet)."
        )
    # constant_memory: each row goes to disk once the next begins (rows in order only)
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "use_zip64": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    try:
        rows = _fill_sheet(workbook, reader)
    except BaseException:
        _discard(workbook)
        raise
    try:
        workbook.close()  # assembles the .xlsx from the rows written so far
    except xlsxwriter.exceptions.FileCreateError as exc:
        raise (exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else exc) from exc
    return rows


def _discard(workbook: Any) -> None:
    """Remove the temporary files of rows written so far, without assembling the workbook
    (which would take as long as writing it did)."""
    for sheet in workbook.worksheets():
        with contextlib.suppress(Exception):
            sheet.row_data_fh.close()
        with contextlib.suppress(Exception):
            os.unlink(sheet.row_data_filename)


def _fill_sheet(workbook: Any, reader: pa.RecordBatchReader) -> int:
    schema = reader.schema
    sheet = workbook.add_worksheet("result")
    header = workbook.add_format({"bold": True})
    for col, name in enumerate(schema.names):
        sheet.write_string(0, col, name, header)
    sheet.freeze_panes(1, 0)
    kinds = [_value_type(field.type) for field in schema]
    as_is = [_in_cells(kind) for kind in kinds]
    writers = [_cell(workbook, sheet, kind) for kind in kinds]
    rows = 0
    for batch in slices(reader):
        if rows + batch.num_rows >= EXCEL_MAX_ROWS:
            raise OutputError(
                f"The result has more rows than an Excel worksheet holds "
                f"({EXCEL_MAX_ROWS - 1:,} below the header). Write it as CSV or Parquet "
                f"instead (e.g. --output result.csv or result.parquet), which have no row "
                f"limit, or narrow the query (WHERE, LIMIT)."
            )
        values = [
            cells.python_values(cells.plain(column)) if plain else cells.as_text(column).to_pylist()
            for column, plain in zip(batch.columns, as_is, strict=True)
        ]
        for offset, row in enumerate(zip(*values, strict=True)):
            for col, value in enumerate(row):
                if value is not None:
                    writers[col](rows + offset + 1, col, value)
        rows += batch.num_rows
    return rows


def _value_type(kind: pa.DataType) -> pa.DataType:
    """The type of a column's values (a dictionary's values, not its indices)."""
    return kind.value_type if pa.types.is_dictionary(kind) else kind


def _in_cells(kind: pa.DataType) -> bool:
    """Whether values of this type go into cells as they are (else as text)."""
    return bool(
        cells.casts_to_text(kind)
        or cells.is_moment(kind)
        or pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_string_view(kind)
    )


def _cell(workbook: Any, sheet: Any, kind: pa.DataType) -> Cell:
    """How a value of an Arrow type goes into a cell: numbers, booleans, dates and times as
    Excel's own (a time zone named in the cell's format), anything else as text."""

    def text(row: int, col: int, value: Any) -> None:
        written = str(value)
        if len(written) > EXCEL_MAX_TEXT:
            raise OutputError(
                f"A value in row {row:,}, column {col + 1} has {len(written):,} characters; "
                f"an Excel cell holds {EXCEL_MAX_TEXT:,}. Write the result as CSV or Parquet "
                f"instead (.csv, .parquet), or shorten it in the query (left(text, 30000))."
            )
        sheet.write_string(row, col, written)

    def number(row: int, col: int, value: Any) -> None:
        as_float = float(value)
        if not math.isfinite(as_float) or (isinstance(value, int) and abs(value) > 2**53):
            text(row, col, value)  # Excel has no NaN, and keeps 15 digits only
        else:
            sheet.write_number(row, col, as_float)

    def moment(style: Any) -> Cell:
        def write(row: int, col: int, value: Any) -> None:
            if isinstance(value, datetime):
                value = value.replace(tzinfo=None)  # already in the column's time zone
            if isinstance(value, date) and value.year < 1900:  # before Excel's calendar
                text(row, col, value.isoformat())
            else:
                sheet.write_datetime(row, col, value, style)

        return write

    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return number
    if pa.types.is_boolean(kind):
        return lambda row, col, value: sheet.write_boolean(row, col, value)
    if pa.types.is_timestamp(kind):
        zone = f' "{kind.tz}"' if kind.tz else ""
        return moment(workbook.add_format({"num_format": f"yyyy-mm-dd hh:mm:ss{zone}"}))
    if pa.types.is_date(kind):
        return moment(workbook.add_format({"num_format": "yyyy-mm-dd"}))
    if pa.types.is_time(kind):
        clock = workbook.add_format({"num_format": "hh:mm:ss"})
        return lambda row, col, value: sheet.write_datetime(row, col, value, clock)
    return text
