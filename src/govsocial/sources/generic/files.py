"""The documented generic format (docs/formats.md), as Parquet or CSV.

Parquet is read by DuckDB directly (``read_parquet`` with row numbers); CSV is read by
pyarrow with every column as text, so that row order and row numbers are exact and a bad cell
becomes a quarantined record instead of a failed file. Each value is converted with
``TRY_CAST``; a record whose value cannot be converted, or breaks a rule of the format, gets a
``_reason`` and goes to quarantine with its payload.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from govsocial.errors import InputError
from govsocial.sources.staging import (
    ACCOUNT_SNAPSHOT_COLUMNS,
    POST_COLUMNS,
    Kind,
    Staged,
    validated_select,
)
from govsocial.sources.staging import (
    case_sql as _case,
)

FORMAT_NAME = "generic"
_POST_REQUIRED = ("platform", "post_id", "posted_at", "captured_at", "media_type")
_SNAPSHOT_REQUIRED = ("platform", "captured_at", "followers")
_ACCOUNT_REF = ("account_platform_id", "account_handle")
_VERBATIM = ("text", "url")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def read_columns(path: Path) -> dict[str, str]:
    """The file's columns and their DuckDB types (all VARCHAR for CSV)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            schema = pq.read_schema(path)
            return {f.name: _duck_type(f.type) for f in schema}
        if suffix == ".csv":
            with path.open("r", encoding="utf-8-sig", newline="") as handle:
                names = next(csv.reader(handle), [])
            padded = [n for n in names if n != n.strip()]
            if padded:
                raise InputError(
                    f"column name(s) {', '.join(repr(n) for n in padded)} have spaces around "
                    "them; remove the spaces in the header line.",
                    path=path,
                    place="line 1",
                )
            return {name: "VARCHAR" for name in names}
    except (OSError, pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read the file ({exc}). Check that it is a complete, "
            f"uncorrupted {suffix[1:]} file.",
            path=path,
        ) from exc
    raise InputError(
        f"the generic format is .parquet or .csv, not '{suffix}'. Convert the file "
        "(docs/formats.md describes the columns).",
        path=path,
    )


def _duck_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMPTZ"
    if pa.types.is_integer(arrow_type):
        return "BIGINT"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "DOUBLE"  # checked to be whole where a count is expected
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "VARCHAR"
    return str(arrow_type)


def sniff_kind(columns: dict[str, str]) -> Kind | None:
    if "post_id" in columns:
        return "posts"
    if "followers" in columns:
        return "account_snapshots"
    return None


def stage(path: Path, *, synthetic: bool = False) -> Staged:
    """Prepare ``path`` (generic Parquet or CSV) for loading; refuse a file lacking columns."""
    columns = read_columns(path)
    kind = sniff_kind(columns)
    if kind is None:
        raise InputError(
            "not a generic posts file (no 'post_id' column) nor an account "
            "snapshots file (no 'followers' column). See docs/formats.md for the "
            "columns, or choose another --format.",
            path=path,
        )
    required = _POST_REQUIRED if kind == "posts" else _SNAPSHOT_REQUIRED
    missing = [c for c in required if c not in columns]
    if not any(c in columns for c in _ACCOUNT_REF):
        missing.append("account_platform_id or account_handle")
    if missing:
        raise InputError(
            f"missing required column(s): {', '.join(missing)}. Add them "
            "(docs/formats.md lists every column); nothing was loaded.",
            path=path,
        )
    target = POST_COLUMNS if kind == "posts" else ACCOUNT_SNAPSHOT_COLUMNS
    select = _select_sql(path, columns, target, kind)
    fields = ", ".join(f"{_literal(c)}: s.{_quote(c)}" for c in columns)
    payload = f"SELECT s._row, to_json({{{fields}}}) AS _payload FROM {{source}} AS s"
    if path.suffix.lower() == ".parquet":
        source = (
            f"(SELECT file_row_number + 1 AS _row, * EXCLUDE (file_row_number) FROM "
            f"read_parquet({_literal(str(path))}, file_row_number = true))"
        )
        return Staged(
            kind,
            FORMAT_NAME,
            select,
            payload,
            f"{path.name}, row ",
            source_sql=source,
            synthetic=synthetic,
        )
    arrow = _read_csv(path, columns)
    return Staged(
        kind, FORMAT_NAME, select, payload, f"{path.name}, row ", arrow=arrow, synthetic=synthetic
    )


def _read_csv(path: Path, columns: dict[str, str]) -> pa.Table:
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in columns},
                strings_can_be_null=True,
                null_values=[""],  # only an empty cell is "no value": "NA" is text
            ),
        )
    except pa.ArrowInvalid as exc:
        raise InputError(
            f"cannot be read as CSV ({exc}). Check the quoting and that every row "
            "has as many fields as the header.",
            path=path,
        ) from exc
    return table.add_column(0, "_row", pa.array(range(1, table.num_rows + 1), pa.int64()))


def _select_sql(path: Path, columns: dict[str, str], target: dict[str, str], kind: Kind) -> str:
    exprs: list[str] = []
    checks: list[tuple[str, str, str]] = []  # (condition, reason, detail SQL)
    for name, duck_type in target.items():
        col = f"s.{_quote(name)}"
        if name not in columns:
            exprs.append(f"NULL::{duck_type} AS {name}")
            continue
        have = columns[name]
        if have != "VARCHAR":
            value = col
        elif name in _VERBATIM:
            value = f"NULLIF({col}, '')"  # kept as published, spaces and all
        else:
            value = f"NULLIF(trim({col}), '')"
        if have == duck_type:
            exprs.append(f"{value} AS {name}")
        else:
            converted = f"TRY_CAST({value} AS {duck_type})"
            if have == "VARCHAR" and duck_type == "BIGINT":
                # DuckDB would round '12.5' to 13: a count must be written as a whole number.
                converted = (
                    f"CASE WHEN regexp_full_match({value}, '[+-]?[0-9]+') THEN {converted} END"
                )
            exprs.append(f"{converted} AS {name}")
            checks.append(
                (
                    f"{value} IS NOT NULL AND {converted} IS NULL",
                    "bad_value",
                    f"'column {name}: ' || {value}::VARCHAR || "
                    f"' is not a valid {_human(duck_type)}'",
                )
            )
        if duck_type == "DOUBLE":
            checks.append(
                (
                    f"NOT isfinite(TRY_CAST({value} AS DOUBLE))",
                    "bad_value",
                    f"'column {name}: ' || {value}::VARCHAR || ' is not a finite number'",
                )
            )
        if duck_type == "BIGINT" and have == "DOUBLE":
            checks.append(
                (
                    f"{col} <> floor({col})",
                    "bad_value",
                    f"'column {name}: ' || {col}::VARCHAR || ' is not a whole number'",
                )
            )
    inner = f"""
        SELECT s._row, {", ".join(exprs)},
               {_case(checks, "reason")} AS _cast_reason,
               {_case(checks, "detail")} AS _cast_detail
        FROM {{source}} AS s"""
    return validated_select(inner, kind)


def _human(duck_type: str) -> str:
    return {
        "TIMESTAMPTZ": "timestamp (ISO 8601)",
        "BIGINT": "whole number",
        "DOUBLE": "number",
        "BOOLEAN": "boolean (true/false)",
    }.get(duck_type, duck_type)
