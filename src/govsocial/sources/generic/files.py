"""Reading a generic file (docs/formats.md), CSV or Parquet, into one staged relation.

- **CSV**: the rows are read as text by the shared CSV reader (:mod:`govsocial.sources.csvrows`,
  as CrowdTangle exports are): row numbers are exact, and a row with too few or too many fields
  is quarantined (``wrong_field_count``, its detail naming the line where it starts, its
  payload the raw text) while the other rows load.
- **Parquet**: read by DuckDB (``read_parquet`` with row numbers), each column with the type
  it was written with; :mod:`govsocial.sources.generic.records` decides how each type is read.

Either way a cell that cannot be converted, or breaks a rule of the format, quarantines its
row with the reason and the column; a file without the required columns, or with a column of
a type that cannot hold its values, is refused whole.
"""

from __future__ import annotations

import csv
from datetime import tzinfo
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from govsocial.errors import InputError
from govsocial.sources.capture import time_zone
from govsocial.sources.csvrows import header_of, payload_sql, read_header, read_rows
from govsocial.sources.generic.records import Column, Layout, kind_of
from govsocial.sources.staging import ImportOptions, Staged

FORMAT_NAME = "generic"
PARQUET_MAGIC = b"PAR1"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sniff(path: Path, head: bytes) -> bool:
    """A .csv file whose header has the generic columns (``post_id`` or ``followers``), read
    from ``head`` (the file may be gzip), or a Parquet file with them."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        names = header_of(head)
        return names is not None and kind_of(names) is not None
    if suffix == ".parquet" and head.startswith(PARQUET_MAGIC):
        try:
            return kind_of(pq.read_schema(path).names) is not None
        except (OSError, pa.ArrowException):
            # Damaged, or gzip-compressed (its columns are at its end): only this format
            # reads Parquet, and staging it says what is wrong.
            return True
    return False


def stage(path: Path, options: ImportOptions | None = None, *, synthetic: bool = False) -> Staged:
    """Prepare ``path`` (generic Parquet or CSV) for loading; refuse a file lacking columns.

    ``options.tz``: the zone of times written without one (default UTC)."""
    zone = time_zone(options or ImportOptions(), default=None)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _parquet(path, zone, synthetic)
    if suffix == ".csv":
        return _csv(path, zone, synthetic)
    raise InputError(
        f"the generic format is .parquet or .csv, not '{suffix}'. Convert the file "
        "(docs/formats.md describes the columns).",
        path=path,
    )


def _parquet(path: Path, zone: tzinfo | None, synthetic: bool) -> Staged:
    try:
        schema = pq.read_schema(path)
        far = _beyond_duckdb(path, schema)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(
            f"cannot read the file ({exc}). Check that it is a complete, uncorrupted Parquet file.",
            path=path,
        ) from exc
    columns = [
        Column(
            f.name,
            f"s.{_identifier(_stored(f.name))}",
            f.type,
            overflow=f"s.{_identifier(OVERFLOW + f.name)}" if f.name in far else None,
        )
        for f in schema
    ]
    layout = Layout.from_columns(columns, path, zone)
    fields = ", ".join(f"{_literal(c.name)}: {c.payload_sql}" for c in columns)
    payload = f"SELECT s._row, to_json({{{fields}}}) AS _payload FROM {{source}} AS s"
    label = f"{path.name}, row "
    # DuckDB numbers rows in a column it names file_row_number: a file with a column of that
    # name is read by pyarrow instead, like a file with times DuckDB cannot hold.
    if far or "file_row_number" in schema.names:
        return Staged(
            layout.kind,
            FORMAT_NAME,
            layout.select_sql(),
            payload,
            label,
            arrow=_clamped(path, far),
            synthetic=synthetic,
        )
    renamed = ", ".join(f"{_identifier(n)} AS {_identifier(_stored(n))}" for n in _own(schema))
    source = (
        f"(SELECT file_row_number + 1 AS _row, * EXCLUDE (file_row_number)"
        f"{f' RENAME ({renamed})' if renamed else ''} FROM "
        f"read_parquet({_literal(str(path))}, file_row_number = true))"
    )
    return Staged(
        layout.kind,
        FORMAT_NAME,
        layout.select_sql(),
        payload,
        label,
        source_sql=source,
        synthetic=synthetic,
    )


# DuckDB holds a time as microseconds since 1970 in a BIGINT, from 290309 BC to 294247 AD:
# reading a Parquet column of milliseconds (or of seconds, which Parquet keeps as
# milliseconds) it refuses the whole file if one cell is further out. Microseconds and
# nanoseconds always fit (a nanosecond column ends in 2262).
OVERFLOW = "_overflow_"  # prefix of the column holding a timestamp column's far-out cells
_ROW = "_row"  # the record number the reader adds; a file's own column of that name is renamed


def _own(schema: pa.Schema) -> list[str]:
    """The file's columns that bear the reader's own name (``_row``): plain data, renamed."""
    return [name for name in schema.names if name == _ROW]


def _stored(name: str) -> str:
    """The name a file's column is read under (``_row`` → ``_file_row``)."""
    return "_file" + name if name == _ROW else name


_REACH = 9_223_372_000_000_000_000  # microseconds: a little short of DuckDB's limits
_PER_MICROSECOND = {"s": 1_000_000, "ms": 1_000}


def _beyond_duckdb(path: Path, schema: pa.Schema) -> set[str]:
    """The timestamp columns (of seconds or milliseconds) whose row-group statistics show a
    cell DuckDB cannot hold, or show nothing (no statistics written)."""
    units = {
        f.name: f.type.unit
        for f in schema
        if pa.types.is_timestamp(f.type) and f.type.unit in _PER_MICROSECOND
    }
    if not units:
        return set()
    meta = pq.ParquetFile(path).metadata
    far = set()
    for index in range(meta.num_columns):
        name = meta.schema.column(index).path
        if name not in units:
            continue
        reach = _REACH // _PER_MICROSECOND[units[name]]
        for group in range(meta.num_row_groups):
            stats = meta.row_group(group).column(index).statistics
            if stats is None or not stats.has_min_max:
                if stats is not None and stats.null_count == meta.row_group(group).num_rows:
                    continue  # no value at all
                far.add(name)
            elif not (-reach <= stats.min_raw and stats.max_raw <= reach):
                far.add(name)
    return far


def _clamped(path: Path, far: set[str]) -> pa.Table:
    """The file read by pyarrow (whole, in memory: the rare file that needs it), its cells
    in ``far`` columns that DuckDB cannot hold moved to ``_overflow_{name}`` as whole
    numbers, and ``_row`` numbering the rows from 1."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(
            f"cannot read the file ({exc}). Check that it is a complete, uncorrupted Parquet file.",
            path=path,
        ) from exc
    for name in sorted(far):
        index = table.column_names.index(name)
        column = table.column(index)
        raw = pc.cast(column, pa.int64())
        reach = _REACH // _PER_MICROSECOND[column.type.unit]
        out = pc.or_(pc.less(raw, -reach), pc.greater(raw, reach))
        table = table.set_column(
            index, name, pc.if_else(out, pa.scalar(None, column.type), column)
        ).append_column(OVERFLOW + name, pc.if_else(out, raw, pa.scalar(None, pa.int64())))
    table = table.rename_columns([_stored(n) for n in table.column_names])
    rows = pa.array(range(1, table.num_rows + 1), pa.int64())
    return table.add_column(0, _ROW, rows)


def _csv(path: Path, zone: tzinfo | None, synthetic: bool) -> Staged:
    try:
        header = read_header(path)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(
            f"cannot read the header line ({exc}). Save the file as UTF-8 CSV "
            "('CSV UTF-8 (comma delimited)' in a spreadsheet).",
            path=path,
            place="line 1",
        ) from exc
    if not header:
        raise InputError(
            "the file is empty: there is nothing to import. Export it again.", path=path
        )
    columns = [Column(name, f"s._c{i}") for i, name in enumerate(header)]
    layout = Layout.from_columns(columns, path, zone)
    rows = read_rows(path, len(header))
    return Staged(
        layout.kind,
        FORMAT_NAME,
        layout.select_sql(reader_findings=True),
        payload_sql(header),
        f"{path.name}, row ",
        arrow=rows.table(),
        synthetic=synthetic,
    )
