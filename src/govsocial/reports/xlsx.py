"""The XLSX writer: worksheets with a bold frozen header row, the values as Excel's own.

Numbers, booleans, dates and times go into cells as numbers (a timestamp column's time zone
named in its cells' format); everything else as text (``cells.py``). Excel's limits (rows,
columns, characters in a cell) are refused with the alternatives rather than cut. xlsxwriter
is imported only when a workbook is written.

:func:`write_xlsx` writes one worksheet of a query's columns (``govsocial sql``, ``--format``);
:func:`write_workbook` writes several, each a :class:`Sheet` that may also say what people see:
headers in their language, number formats (the value stays a number; Excel shows it in the
reader's locale, ``1.234,5`` in Indonesian), column widths, a filter on the header row and a
line printed at the top of each page. Both stream each sheet's rows in constant memory.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from govsocial.errors import OutputError
from govsocial.reports import cells
from govsocial.reports.slices import slices

EXCEL_MAX_ROWS = 1_048_576  # rows of a worksheet, the header row included
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_TEXT = 32_767  # characters in a cell

# Column widths fitted to the contents (in characters of the default font): at least the
# narrow, at most the wide; a header wraps onto more lines rather than widen a column past
# HEADER_WIDTH when its values are narrower.
NARROW, WIDE, HEADER_WIDTH = 6, 50, 16

Cell = Callable[[int, int, Any], Any]  # writes (row, column, value) into the worksheet


@dataclass(frozen=True)
class Sheet:
    """A worksheet of :func:`write_workbook`: its name (at most 31 characters, none of
    ``[]:*?/\\``), its rows, and optionally what people see: ``headers`` in place of the column
    names, Excel number ``formats`` by column name (``"#,##0"``, ``"0.0%"``), column widths
    fitted to the header and the first rows, a filter on the header row, and a line printed
    at the top of every page."""

    name: str
    source: pa.RecordBatchReader | pa.Table
    headers: Sequence[str] | None = None
    formats: Mapping[str, str] = field(default_factory=dict)
    fit_widths: bool = False
    autofilter: bool = False
    print_header: str | None = None


def write_xlsx(reader: pa.RecordBatchReader, path: Path) -> int:
    """One worksheet, ``result``, with the column names as its header row."""
    return write_workbook([Sheet("result", reader)], path)[0]


def write_workbook(sheets: Sequence[Sheet], path: Path) -> list[int]:
    """A workbook of ``sheets``, in order, at ``path``; the rows each sheet had."""
    import xlsxwriter
    import xlsxwriter.exceptions

    for sheet in sheets:
        width = len(sheet.source.schema)
        if width > EXCEL_MAX_COLUMNS:
            raise OutputError(
                f"The result has {width:,} columns; an Excel worksheet holds "
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
        rows = [_fill_sheet(workbook, sheet) for sheet in sheets]
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


def _fill_sheet(workbook: Any, spec: Sheet) -> int:
    source = spec.source
    reader = source.to_reader() if isinstance(source, pa.Table) else source
    schema = reader.schema
    sheet = workbook.add_worksheet(spec.name)
    headers = list(spec.headers) if spec.headers is not None else schema.names
    if len(headers) != len(schema):
        raise ValueError(f"sheet {spec.name!r}: {len(headers)} headers for {len(schema)} columns")
    wrapped = {"text_wrap": True, "valign": "top"} if spec.fit_widths else {}  # long headers
    header = workbook.add_format({"bold": True, **wrapped})
    for col, name in enumerate(headers):
        sheet.write_string(0, col, name, header)
    sheet.freeze_panes(1, 0)
    if spec.print_header:
        sheet.set_header("&C&B" + spec.print_header.replace("&", "&&"))
    kinds = [_value_type(field.type) for field in schema]
    as_is = [_in_cells(kind) for kind in kinds]
    styles = [
        workbook.add_format({"num_format": spec.formats[name]}) if name in spec.formats else None
        for name in schema.names
    ]
    writers = [
        _cell(workbook, sheet, kind, style) for kind, style in zip(kinds, styles, strict=True)
    ]
    rows = 0
    for batch in slices(reader):
        if rows == 0 and spec.fit_widths:
            _fit_widths(sheet, headers, batch)
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
    if rows == 0 and spec.fit_widths:
        _fit_widths(sheet, headers, None)
    if spec.autofilter and headers:
        sheet.autofilter(0, 0, rows, len(headers) - 1)
    return rows


def _fit_widths(sheet: Any, headers: Sequence[str], batch: pa.RecordBatch | None) -> None:
    """Each column as wide as its longest value in ``batch`` (the first slice of rows: the
    writer streams, so later rows are not seen), its header wrapping onto more lines past
    :data:`HEADER_WIDTH`. Widths are in characters; the header's bold takes a little more."""
    for col, header in enumerate(headers):
        longest = 0
        if batch is not None and batch.num_rows:
            longest = _longest(cells.plain(batch.column(col)))
        widest_word = max((len(word) for word in header.split()), default=0)
        wanted = max(longest, min(len(header), HEADER_WIDTH), widest_word) * 1.1 + 2
        sheet.set_column(col, col, min(max(wanted, NARROW), WIDE))


def _longest(column: pa.Array) -> int:
    """The characters of the column's widest value as shown: a number as its integer part
    with thousands separators and (for a fraction) three decimals, not its full repr."""
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        finite = pc.filter(column, pc.is_finite(column)) if pa.types.is_floating(kind) else column
        largest = pc.max(pc.abs(finite.cast(pa.float64()))).as_py()
        if largest is None:
            return 0
        negative = bool(pc.any(pc.less(finite, 0)).as_py())
        fraction = 0 if pa.types.is_integer(kind) else 4
        return len(f"{int(largest):,}") + fraction + negative
    lengths = pc.utf8_length(pc.fill_null(cells.as_text(column), ""))
    return int(pc.max(lengths).as_py() or 0)


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


def _cell(workbook: Any, sheet: Any, kind: pa.DataType, style: Any = None) -> Cell:
    """How a value of an Arrow type goes into a cell: numbers, booleans, dates and times as
    Excel's own (a time zone named in the cell's format), anything else as text. ``style``: a
    number format for numbers."""

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
            sheet.write_number(row, col, as_float, style)

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
