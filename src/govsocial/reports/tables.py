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
"""

from __future__ import annotations

import base64
import collections
import concurrent.futures
import contextlib
import errno
import functools
import io
import math
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any, Literal, cast

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govsocial.errors import ConfigError, OutputError, UsageError

TableFormat = Literal["csv", "json", "jsonl", "parquet", "xlsx"]
EXTENSIONS: dict[str, TableFormat] = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".parquet": "parquet",
    ".xlsx": "xlsx",
}
STREAM_FORMATS: tuple[TableFormat, ...] = ("csv", "json", "jsonl")  # can go to stdout
EXCEL_MAX_ROWS = 1_048_576  # rows of a worksheet, the header row included
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_TEXT = 32_767  # characters in a cell
_SLICE_ROWS = 16_384  # rows converted at a time: bounded memory, Arrow's 2 GB string limit

Target = Path | str | IO[str] | IO[bytes]
Write = Callable[[bytes | memoryview], object]


def format_for(path: Path | str) -> TableFormat:
    """The format a file name asks for, by its extension."""
    if Path(path).is_dir():
        raise ConfigError(
            f"{path} is a folder. Give a file name, e.g. {Path(path) / 'result.csv'}."
        )
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
    if isinstance(target, str | Path):
        path = Path(target)
        chosen = fmt or format_for(path)
        _check_target(path, f"result.{chosen}")
        try:
            with _replacing(path) as partial:
                return _WRITERS[chosen](reader, partial)
        except _SourceFailure as failure:
            raise failure.error from None
        except OSError as exc:
            raise _output_failure(path, exc) from exc
        except (pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            raise _unwritable(chosen, exc) from exc
    chosen = fmt or "csv"
    if chosen not in STREAM_FORMATS:
        raise UsageError(
            f"{chosen.upper()} is a binary format: write it to a file (e.g. --output "
            f"result.{chosen}) rather than to the terminal or a pipe."
        )
    write, flush = _stream_writer(target)
    try:
        if chosen == "csv":
            rows = _write_csv(reader, write)
        else:
            rows = _write_json(reader, write, lines=chosen == "jsonl")
        flush()
        return rows
    except _SourceFailure as failure:
        raise failure.error from None
    except BrokenPipeError:
        raise  # the reader went away (`| head`): the CLI ends quietly
    except OSError as exc:
        raise OutputError(
            f"Could not write the output ({exc.strerror or exc}); it is incomplete."
        ) from exc
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise _unwritable(chosen, exc) from exc


def _unwritable(fmt: TableFormat, exc: Exception) -> OutputError:
    return OutputError(
        f"A column of the result cannot be written as {fmt.upper()} ({exc}). Convert it in the "
        f"query (CAST(column AS VARCHAR)) or choose another format (.csv, .json, .parquet)."
    )


def atomic_write(path: Path | str, content: bytes) -> None:
    """Write ``content`` to the file ``path`` the same careful way: under a temporary name,
    renamed into place at the end; the same errors (a folder, a missing folder, a full disk)."""
    path = Path(path)
    _check_target(path, "file.bin")
    try:
        with _replacing(path) as partial, partial.open("xb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise _output_failure(path, exc) from exc


# -- files -------------------------------------------------------------------------------------
def _check_target(path: Path, example: str) -> None:
    """Refuse a folder given as the file, and a file in a folder that does not exist."""
    folder = path.parent
    if path.is_dir():
        raise ConfigError(f"{path} is a folder. Give a file name, e.g. {path / example}.")
    if not folder.exists():
        raise ConfigError(
            f"Cannot write {path}: the folder {folder} does not exist. Create it first "
            f"(mkdir -p {folder}) or choose another path."
        )
    if not folder.is_dir():
        raise ConfigError(f"Cannot write {path}: {folder} is a file, not a folder.")


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A new name beside ``path`` to write to; renamed to ``path`` if the block succeeds,
    removed if it fails (a half-written file never takes the place of ``path``)."""
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        yield partial
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise


def _output_failure(path: Path, exc: OSError) -> OutputError:
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        fix = "Free space on that disk, or write the file to another disk"
    elif code == errno.EFBIG:
        fix = "The file system or a file-size limit (`ulimit -f`) refused a larger file"
    elif code in (errno.EROFS, errno.EACCES, errno.EPERM):
        fix = "Choose a folder you can write to"
    else:
        fix = "Check the folder and the disk, then try again"
    kept = "the file that was there is as it was" if path.exists() else "no file was left"
    return OutputError(f"Could not write {path}: {exc.strerror or exc}. {fix}; {kept}.")


class _SourceFailure(Exception):
    """An error of the rows' source (not of writing), passed through the writers as it is."""

    def __init__(self, error: BaseException):
        super().__init__(str(error))
        self.error = error


def _slices(reader: pa.RecordBatchReader, rows: int = _SLICE_ROWS) -> Iterator[pa.RecordBatch]:
    batches = iter(reader)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except OSError as exc:  # so that it is not taken for a failure to write
            raise _SourceFailure(exc) from exc
        for start in range(0, batch.num_rows, rows):
            yield batch.slice(start, rows)


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
        with path.open("xb") as handle:
            rows = write_to(reader, handle.write)
            handle.flush()
            os.fsync(handle.fileno())  # a full disk shows here, before the rename
        return rows

    return write_file


# -- CSV ---------------------------------------------------------------------------------------
def _write_csv(reader: pa.RecordBatchReader, write: Write) -> int:
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
    for batch, text in _converted(reader, lines):
        write(_concatenated(text))
        rows += batch.num_rows
    return rows


def _converted(
    reader: pa.RecordBatchReader, convert: Callable[[pa.RecordBatch], pa.Array]
) -> Iterator[tuple[pa.RecordBatch, pa.Array]]:
    """Each slice of rows with its text, in order. Slices are converted in threads (Arrow's
    kernels release the GIL) while the caller writes the ones before: a few in flight."""
    workers = min(4, os.cpu_count() or 1)
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        pending: collections.deque[tuple[pa.RecordBatch, Any]] = collections.deque()
        try:
            for batch in _slices(reader):
                if batch.num_rows == 0:
                    continue
                pending.append((batch, pool.submit(convert, batch)))
                if len(pending) > workers:
                    done, future = pending.popleft()
                    yield done, future.result()
            while pending:
                done, future = pending.popleft()
                yield done, future.result()
        finally:
            for _, future in pending:
                future.cancel()


def _csv_cells(column: pa.Array) -> pa.Array:
    column = _plain(column)
    text = _text(column)
    if not (_casts_to_text(column.type) or _is_moment(column.type)):
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


# -- JSON and JSON Lines -----------------------------------------------------------------------
_JSON = msgspec.json.Encoder(decimal_format="number", enc_hook=lambda v: _value_text(v))


def _write_json(reader: pa.RecordBatchReader, write: Write, *, lines: bool) -> int:
    keys = [_JSON.encode(name).decode() + ":" for name in _unique(reader.schema.names)]
    opening = "{" if lines else ",\n{"
    closing = "}\n" if lines else "}"

    def objects(batch: pa.RecordBatch) -> pa.Array:
        if not keys:
            return pa.array([opening + closing] * batch.num_rows, pa.string())
        parts: list[Any] = []
        for i, column in enumerate(batch.columns):
            parts += [("," if i else opening) + keys[i], _json_values(column)]
        parts.append(closing)
        return pc.binary_join_element_wise(*parts, "")

    rows = 0
    for batch, text in _converted(reader, objects):
        data = _concatenated(text)
        if not lines and rows == 0:
            # ",\n{...},\n{...}": the first object of all opens the array instead
            data = memoryview(b"[" + bytes(data[1:]))
        write(data)
        rows += batch.num_rows
    if not lines:
        write(b"[]\n" if rows == 0 else b"\n]\n")
    return rows


def _json_values(column: pa.Array) -> pa.Array:
    """Each value as JSON text (``null`` for NULL)."""
    return pc.fill_null(_json_text(column), "null")


def _json_text(column: pa.Array) -> pa.Array:
    """Each value as JSON text, NULL left NULL. Lists, structs and maps are assembled from
    their children's JSON text, column-wise."""
    column = _plain(column)
    kind = column.type
    if pa.types.is_string(kind):
        return _json_quote(column)
    if pa.types.is_floating(kind):  # JSON has no NaN or infinity
        return pc.if_else(pc.is_finite(column), pc.cast(column, pa.string()), None)
    if _casts_to_text(kind) and not pa.types.is_date(kind):
        return pc.cast(column, pa.string())
    if _is_list(kind):
        return _json_list(column)
    if pa.types.is_struct(kind):
        fields = column.flatten()
        if not fields:
            return pc.if_else(column.is_null(), None, "{}")
        parts: list[Any] = []
        for i, field in enumerate(fields):
            key = _JSON.encode(kind.field(i).name).decode() + ":"
            parts += [("," if i else "{") + key, _json_values(field)]
        parts.append("}")
        return pc.if_else(column.is_null(), None, pc.binary_join_element_wise(*parts, ""))
    if pa.types.is_map(kind):
        return _json_map(column)
    if pa.types.is_union(kind) or pa.types.is_null(kind):
        return pa.array([_JSON.encode(v).decode() for v in _python(column)], pa.string())
    return _json_quote(_text(column))  # times, dates, intervals, binary (base64) as strings


def _json_list(column: pa.Array) -> pa.Array:
    lists, values = _list_parts(column)
    items = _rebuilt(lists, _json_values(values))
    return pc.binary_join_element_wise("[", pc.binary_join(items, ","), "]", "")


def _json_map(column: pa.Array) -> pa.Array:
    start, end = _bounds(column)
    keys = _plain(column.keys.slice(start, end - start))
    if pa.types.is_string(keys.type) or _is_moment(keys.type):
        keys_text = _json_text(keys)
    else:
        keys_text = _json_quote(pc.fill_null(_text(keys), "null"))  # object keys are strings
    values = _json_values(column.items.slice(start, end - start))
    entries = _rebuilt(column, pc.binary_join_element_wise(keys_text, values, ":"))
    return pc.binary_join_element_wise("{", pc.binary_join(entries, ","), "}", "")


def _json_quote(text: pa.Array) -> pa.Array:
    quoted = pc.binary_join_element_wise('"', text, '"', "")
    # JSON escapes quotes, backslashes and control characters: those few values by msgspec
    needs = pc.fill_null(pc.match_substring_regex(text, r'[\x00-\x1f"\\]'), False)
    if not pc.any(needs).as_py():
        return quoted
    escaped = [_JSON.encode(v).decode() for v in text.filter(needs).to_pylist()]
    return pc.replace_with_mask(quoted, needs, pa.array(escaped, pa.string()))


def _unique(names: list[str]) -> list[str]:
    """Column names as object keys: a repeated name gets _2, _3 (JSON keys must differ)."""
    seen: set[str] = set()
    unique = []
    for name in names:
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name}_{n}"
        seen.add(candidate)
        unique.append(candidate)
    return unique


# -- shared conversions ------------------------------------------------------------------------
def _plain(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if pa.types.is_large_string(column.type) or pa.types.is_string_view(column.type):
        column = column.cast(pa.string())
    return column


def _text(column: pa.Array) -> pa.Array:
    """Each value as plain text, NULL left NULL: what a CSV field or a text cell holds."""
    column = _plain(column)
    kind = column.type
    if pa.types.is_string(kind):
        return column
    if pa.types.is_null(kind):
        return pa.nulls(len(column), pa.string())
    if pa.types.is_timestamp(kind):
        return _iso_timestamps(column)
    if pa.types.is_time(kind):
        return _without_zero_fraction(pc.cast(column, pa.string()))
    if _casts_to_text(kind):
        return pc.cast(column, pa.string())
    if _is_list(kind) or pa.types.is_struct(kind) or pa.types.is_map(kind):
        return _json_text(column)
    return pa.array([_value_text(v) for v in _python(column)], pa.string())


def _casts_to_text(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_date(kind)
    )


def _is_moment(kind: pa.DataType) -> bool:
    return bool(pa.types.is_timestamp(kind) or pa.types.is_time(kind) or pa.types.is_date(kind))


def _is_list(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_list(kind)
        or pa.types.is_large_list(kind)
        or pa.types.is_fixed_size_list(kind)
        or pa.types.is_list_view(kind)
        or pa.types.is_large_list_view(kind)
    )


def _list_parts(column: pa.Array) -> tuple[pa.Array, pa.Array]:
    """A list column as a variable-size list, and the values its rows hold."""
    kind = column.type
    if not (pa.types.is_list(kind) or pa.types.is_large_list(kind)):
        wide = pa.types.is_large_list_view(kind)
        column = column.cast((pa.large_list if wide else pa.list_)(kind.value_field))
    start, end = _bounds(column)
    return column, column.values.slice(start, end - start)


def _bounds(column: pa.Array) -> tuple[int, int]:
    offsets = column.offsets
    return int(offsets[0].as_py()), int(offsets[-1].as_py())


def _rebuilt(lists: pa.Array, values_text: pa.Array) -> pa.Array:
    """A list column with each value replaced by its text (the same rows, the same NULLs)."""
    start, _ = _bounds(lists)
    wide = pa.types.is_large_list(lists.type)
    offsets = pc.subtract(lists.offsets, start).cast(pa.int64() if wide else pa.int32())
    build = pa.LargeListArray if wide else pa.ListArray
    return build.from_arrays(offsets, values_text, mask=lists.is_null())


def _iso_timestamps(column: pa.Array) -> pa.Array:
    """ISO 8601: the offset if the column has a time zone, a fraction of a second where a
    value has one. UTC and zone-less columns (DuckDB's, in the warehouse's UTC session) are
    assembled from their distinct dates and a table of the day's 86,400 seconds: strftime
    costs about 2 µs a value, fifteen times more."""
    zone = column.type.tz
    if zone not in (None, "UTC", "Etc/UTC", "+00:00", "Z"):
        return _without_zero_fraction(pc.strftime(column, format="%Y-%m-%dT%H:%M:%S%Ez"))
    per_second = _TICKS[column.type.unit]
    ticks = pc.fill_null(column.cast(pa.int64()), 0).to_numpy()
    seconds, fraction = np.divmod(ticks, per_second)
    days, second_of_day = np.divmod(seconds, 86_400)
    unique_days, day_index = np.unique(days, return_inverse=True)
    day_text = pc.strftime(
        pa.array(unique_days * 86_400, pa.int64()).cast(pa.timestamp("s")), format="%Y-%m-%dT"
    )
    parts = [day_text.take(pa.array(day_index)), _clock_table().take(pa.array(second_of_day))]
    if fraction.any():
        digits = len(str(per_second)) - 1
        padded = pc.utf8_lpad(pc.cast(pa.array(fraction), pa.string()), digits, "0")
        parts.append(
            pc.if_else(pa.array(fraction != 0), pc.binary_join_element_wise(".", padded, ""), "")
        )
    parts.append("+00:00" if zone else "")
    return pc.if_else(column.is_null(), None, pc.binary_join_element_wise(*parts, ""))


_TICKS = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


@functools.cache
def _clock_table() -> pa.Array:
    return pa.array(
        [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)], pa.string()
    )


def _without_zero_fraction(text: pa.Array) -> pa.Array:
    return pc.replace_substring_regex(text, r"\.0+(\+|-|$)", r"\1")


def _python(column: pa.Array) -> list[Any]:
    return list(column.to_pylist(maps_as_pydicts="lossy"))


def _value_text(value: Any) -> str | None:
    """One value as plain text (nested values as JSON text): the fallback for rare types,
    and msgspec's hook for values it does not know."""
    if value is None:
        return None
    if isinstance(value, pa.MonthDayNano):  # a named tuple: before the tuples
        return _duration(value.months, value.days, value.nanoseconds)
    if isinstance(value, list | dict | tuple):
        return _JSON.encode(value).decode()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    try:
        encoded = _JSON.encode(value)
    except (TypeError, msgspec.EncodeError):
        return str(value)
    text = encoded.decode()
    return str(msgspec.json.decode(encoded)) if text.startswith('"') else text


def _duration(months: int, days: int, nanoseconds: int) -> str:
    """An interval as an ISO 8601 duration: P1Y2M3DT4H5M6.5S, PT0S."""
    years, months = divmod(months, 12)
    hours, rest = divmod(nanoseconds, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = f"{rest / 1e9:.9f}".rstrip("0").rstrip(".")
    date_part = "".join(f"{n}{u}" for n, u in ((years, "Y"), (months, "M"), (days, "D")) if n)
    time_part = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M")) if n)
    time_part += f"{seconds}S" if rest else ""
    if not date_part and not time_part:
        return "PT0S"
    return "P" + date_part + ("T" + time_part if time_part else "")


def _concatenated(lines: pa.Array) -> memoryview:
    """The values of a string array without nulls, one after the other: its data buffer."""
    if len(lines) == 0:
        return memoryview(b"")
    _, offsets_buffer, data = lines.buffers()
    width = np.int64 if pa.types.is_large_string(lines.type) else np.int32
    offsets = np.frombuffer(offsets_buffer, dtype=width)
    start, end = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
    return memoryview(data)[start:end] if data is not None else memoryview(b"")


# -- Parquet -----------------------------------------------------------------------------------
def _write_parquet(reader: pa.RecordBatchReader, path: Path) -> int:
    import pyarrow.parquet as pq

    # Parquet needs distinct column names, and has no type for intervals: ISO 8601 text
    names = _unique(reader.schema.names)
    as_text = [pa.types.is_interval(field.type) for field in reader.schema]
    schema = pa.schema(
        [
            pa.field(name, pa.string() if text else field.type, field.nullable)
            for field, name, text in zip(reader.schema, names, as_text, strict=True)
        ]
    )
    rows = 0
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        for batch in _slices(reader, 131_072):
            columns = [
                pa.array([_value_text(v) for v in column.to_pylist()], pa.string())
                if text
                else column
                for column, text in zip(batch.columns, as_text, strict=True)
            ]
            writer.write_batch(pa.record_batch(columns, schema=schema))
            rows += batch.num_rows
    return rows


# -- XLSX --------------------------------------------------------------------------------------
def _write_xlsx(reader: pa.RecordBatchReader, path: Path) -> int:
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
    cells = [_xlsx_cell(workbook, sheet, field.type) for field in schema]
    rows = 0
    for batch in _slices(reader):
        if rows + batch.num_rows >= EXCEL_MAX_ROWS:
            raise OutputError(
                f"The result has more rows than an Excel worksheet holds "
                f"({EXCEL_MAX_ROWS - 1:,} below the header). Write it as CSV or Parquet "
                f"instead (e.g. --output result.csv or result.parquet), which have no row "
                f"limit, or narrow the query (WHERE, LIMIT)."
            )
        values = [
            _python(_plain(column)) if _in_cells(column.type) else _text(column).to_pylist()
            for column in batch.columns
        ]
        for offset, row in enumerate(zip(*values, strict=True)):
            for col, value in enumerate(row):
                if value is not None:
                    cells[col](rows + offset + 1, col, value)
        rows += batch.num_rows
    return rows


def _in_cells(kind: pa.DataType) -> bool:
    """Whether values of this type go into cells as they are (else as text)."""
    kind = kind.value_type if pa.types.is_dictionary(kind) else kind
    return bool(
        _casts_to_text(kind)
        or _is_moment(kind)
        or pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_string_view(kind)
    )


def _xlsx_cell(workbook: Any, sheet: Any, kind: pa.DataType) -> Callable[[int, int, Any], Any]:
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

    def moment(style: Any) -> Callable[[int, int, Any], Any]:
        def write(row: int, col: int, value: Any) -> None:
            if isinstance(value, datetime):
                value = value.replace(tzinfo=None)  # already in the column's time zone
            if isinstance(value, date) and value.year < 1900:  # before Excel's calendar
                text(row, col, value.isoformat())
            else:
                sheet.write_datetime(row, col, value, style)

        return write

    kind = kind.value_type if pa.types.is_dictionary(kind) else kind
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


_WRITERS: dict[TableFormat, Callable[[pa.RecordBatchReader, Path], int]] = {
    "csv": _file_writer(_write_csv),
    "json": _file_writer(lambda reader, write: _write_json(reader, write, lines=False)),
    "jsonl": _file_writer(lambda reader, write: _write_json(reader, write, lines=True)),
    "parquet": _write_parquet,
    "xlsx": _write_xlsx,
}
