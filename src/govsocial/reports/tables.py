"""The table writers: rows from any Arrow source out to CSV, JSON, JSON Lines, Parquet or XLSX.

One set of writers for every table govsocial hands out (`govsocial sql`, `awards show`,
reports). They read an Arrow ``RecordBatchReader`` (a query's stream, a table's
``to_reader()``, ``pa.RecordBatchReader.from_batches(schema, batches)``, or Python rows through
:func:`rows_reader`) one batch at a time, so memory stays bounded whatever the number of rows.

Values in the text formats (CSV, JSON, JSON Lines), and in XLSX where a cell cannot hold them:

- NULL: an empty CSV field (an empty string is written ``""``, so the two stay apart), JSON null;
- timestamps: ISO 8601, with the offset when the column has a time zone
  (``2025-03-01T01:00:00+00:00``); a fraction of a second only when there is one;
- dates and times: ISO 8601; intervals: ISO 8601 durations (``P3D``);
- numbers as they are, decimals included (JSON numbers, not strings); NaN and infinities are
  ``nan``/``inf`` in CSV and null in JSON, which has no such numbers;
- lists, structs and maps: JSON text in CSV and XLSX, JSON values in JSON (maps as objects);
- binary: base64 (as JSON encoders write bytes);
- CSV: UTF-8, commas, ``\\n`` line endings, a header row, quotes only where needed (a value
  holding a comma, quote or line break, or an empty string);
- JSON: an array of objects, one object per line, characters beyond ASCII as they are;
  JSON Lines: one object per line.

The conversions are Arrow compute kernels over whole columns (lists, structs and maps are
assembled from their children's text); only binary and exotic values, and the strings JSON
must escape, go through Python one value at a time. Slices of 16,384 rows are converted in a
few threads (the kernels release the GIL) while the slice before is written. The first
kernel call of a process costs about 0.25 s (Arrow sets up its function registry).

A file is written under a temporary name in its folder and renamed into place at the end, so
a failure (full disk, Ctrl-C, a query error mid-way) never leaves a half-written file, and an
older file of that name stays as it was.

Here: the formats, :func:`write_table`, :func:`rows_reader`, and the Parquet writer (pyarrow's,
intervals as ISO 8601 text). The parts: ``files.py`` (the temporary name and the rename, the
target's checks, :func:`atomic_write`), ``slices.py`` (the source read slice by slice, converted
ahead in threads), ``cells.py`` and ``times.py`` (the value conversions above), ``text.py`` (CSV
and JSON), ``xlsx.py`` (XLSX and Excel's limits).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any, Literal, cast

import pyarrow as pa

from govsocial.errors import OutputError, UsageError
from govsocial.reports import cells
from govsocial.reports.files import atomic_write, refuse_folder, replacing, synced
from govsocial.reports.slices import SourceFailure, slices
from govsocial.reports.text import Write, write_csv, write_json
from govsocial.reports.xlsx import EXCEL_MAX_COLUMNS, EXCEL_MAX_ROWS, EXCEL_MAX_TEXT, write_xlsx

__all__ = [
    "EXCEL_MAX_COLUMNS",
    "EXCEL_MAX_ROWS",
    "EXCEL_MAX_TEXT",
    "EXTENSIONS",
    "STREAM_FORMATS",
    "TableFormat",
    "Target",
    "Write",
    "atomic_write",
    "format_for",
    "rows_reader",
    "write_table",
]

TableFormat = Literal["csv", "json", "jsonl", "parquet", "xlsx"]
EXTENSIONS: dict[str, TableFormat] = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".parquet": "parquet",
    ".xlsx": "xlsx",
}
STREAM_FORMATS: tuple[TableFormat, ...] = ("csv", "json", "jsonl")  # can go to stdout

Target = Path | str | IO[str] | IO[bytes]


def format_for(path: Path | str) -> TableFormat:
    """The format a file name asks for, by its extension."""
    refuse_folder(path, "result.csv")
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        has = f"its extension {suffix!r}" if suffix else "it has no extension"
        raise UsageError(
            f"Cannot tell the format to write {path} in ({has}). Name the file with one of "
            f"{', '.join(EXTENSIONS)}, e.g. result.csv."
        )
    return EXTENSIONS[suffix]


def rows_reader(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> pa.RecordBatchReader:
    """Python rows (already in memory: a service's result) as a reader for :func:`write_table`.
    Each column's type is inferred from its values; a column of mixed values becomes text."""
    data = [tuple(row) for row in rows]
    arrays = [_column([row[i] for row in data]) for i in range(len(columns))]
    return pa.Table.from_arrays(arrays, names=list(columns)).to_reader()


def _column(values: list[Any]) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())


def write_table(
    source: pa.RecordBatchReader | pa.Table, target: Target, fmt: TableFormat | None = None
) -> int:
    """Write every row of ``source`` to ``target`` and return how many there were.

    ``target`` is a file path (the format from its extension unless ``fmt`` is given; written
    under a temporary name and renamed at the end) or an open stream (text or binary, e.g.
    ``sys.stdout``) for CSV, JSON and JSON Lines.
    """
    reader = source.to_reader() if isinstance(source, pa.Table) else source
    path = Path(target) if isinstance(target, str | Path) else None
    chosen = fmt or (format_for(path) if path is not None else "csv")
    try:
        if path is None:
            return _write_stream(reader, cast(IO[Any], target), chosen)
        with replacing(path, f"result.{chosen}") as partial:
            return _FILE_WRITERS[chosen](reader, partial)
    except SourceFailure as failure:
        raise failure.error from None
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise OutputError(
            f"A column of the result cannot be written as {chosen.upper()} ({exc}). Convert it "
            f"in the query (CAST(column AS VARCHAR)) or choose another format (.csv, .json, "
            f".parquet)."
        ) from exc


def _write_stream(
    reader: pa.RecordBatchReader, target: IO[str] | IO[bytes], fmt: TableFormat
) -> int:
    if fmt not in STREAM_FORMATS:
        raise UsageError(
            f"{fmt.upper()} is a binary format: write it to a file (e.g. --output "
            f"result.{fmt}) rather than to the terminal or a pipe."
        )
    write, flush = _stream_writer(target)
    try:
        rows = _TEXT_WRITERS[fmt](reader, write)
        flush()
    except BrokenPipeError:
        raise  # the reader went away (`| head`): the CLI ends quietly
    except OSError as exc:
        raise OutputError(
            f"Could not write the output ({exc.strerror or exc}); it is incomplete."
        ) from exc
    return rows


def _stream_writer(target: IO[str] | IO[bytes]) -> tuple[Write, Callable[[], object]]:
    """How to write bytes to ``target`` (a text stream's own byte buffer if it has one), and
    how to flush it."""
    if isinstance(target, io.TextIOBase) or hasattr(target, "encoding"):
        text = cast(IO[str], target)
        buffer = getattr(text, "buffer", None)
        if buffer is not None:
            text.flush()  # what was printed before comes first
            return cast(Write, buffer.write), buffer.flush
        return (lambda data: text.write(bytes(data).decode("utf-8"))), text.flush
    binary = cast(IO[bytes], target)
    return cast(Write, binary.write), binary.flush


def _file_writer(
    write_to: Callable[[pa.RecordBatchReader, Write], int],
) -> Callable[[pa.RecordBatchReader, Path], int]:
    def write_file(reader: pa.RecordBatchReader, path: Path) -> int:
        with synced(path) as handle:
            rows = write_to(reader, handle.write)
        return rows

    return write_file


def _write_parquet(reader: pa.RecordBatchReader, path: Path) -> int:
    import pyarrow.parquet as pq

    # Parquet needs distinct column names, and has no type for intervals: ISO 8601 text
    names = cells.unique_names(reader.schema.names)
    as_text = [pa.types.is_interval(field.type) for field in reader.schema]
    schema = pa.schema(
        [
            pa.field(name, pa.string() if text else field.type, field.nullable)
            for field, name, text in zip(reader.schema, names, as_text, strict=True)
        ],
        metadata=reader.schema.metadata,  # e.g. the exports' run id (reports/exports.py)
    )
    rows = 0
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        for batch in slices(reader, 131_072):
            columns = [
                cells.as_text(column) if text else column
                for column, text in zip(batch.columns, as_text, strict=True)
            ]
            writer.write_batch(pa.record_batch(columns, schema=schema))
            rows += batch.num_rows
    return rows


_TEXT_WRITERS: dict[TableFormat, Callable[[pa.RecordBatchReader, Write], int]] = {
    "csv": write_csv,
    "json": functools.partial(write_json, lines=False),
    "jsonl": functools.partial(write_json, lines=True),
}
_FILE_WRITERS: dict[TableFormat, Callable[[pa.RecordBatchReader, Path], int]] = {
    **{fmt: _file_writer(write_to) for fmt, write_to in _TEXT_WRITERS.items()},
    "parquet": _write_parquet,
    "xlsx": write_xlsx,
}
