"""How one column of a generic file becomes one canonical value: its conversion, in DuckDB SQL
over ``{source} AS s``, and the per-cell checks that quarantine a value it cannot take.

A column is read by the *family* of its Arrow type (every CSV column is text; Parquet columns
keep the types they were written with, e.g. ``uint64``, ``decimal128(10, 2)``,
``timestamp[ns]``, ``dictionary<values=string>``). A check is ``(condition, reason, detail)``,
the detail naming the column and the value: ``column likes: 9223372036854775808 is too large
for a count (at most 9223372036854775807)``. A family that cannot hold the canonical values at
all raises :class:`Unfit`, and the file is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from govsocial.sources.values import MAX_COUNT  # the largest count the warehouse holds

if TYPE_CHECKING:
    from govsocial.sources.generic.records import Column

Check = tuple[str, str, str]  # (condition, reason code, detail SQL): staging.case_sql's rules
VERBATIM = ("text", "url")  # kept as published, spaces and all
_NAIVE_TEXT = r"'\d{4}-\d{2}-\d{2}([T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?'"  # no offset, no zone


@dataclass(frozen=True)
class Read:
    """A canonical column's value (SQL of its canonical type) and the checks on its cells."""

    value: str
    checks: tuple[Check, ...] = ()


class Unfit(Exception):
    """A column whose type cannot hold the canonical column's values."""


def family(kind: pa.DataType) -> str:
    """The family of an Arrow type, as DuckDB reads it from Parquet."""
    if pa.types.is_dictionary(kind):  # pandas categories, R factors: their values count
        kind = kind.value_type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return "text"
    if pa.types.is_null(kind):  # a column written with no value at all
        return "null"
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_uint64(kind):  # past BIGINT from 2^63
        return "wide"
    if pa.types.is_integer(kind):
        return "integer"
    if pa.types.is_floating(kind):
        return "float"
    if pa.types.is_decimal(kind):  # DuckDB reads a decimal of more than 38 digits as DOUBLE
        return "decimal" if kind.precision <= 38 else "float"
    if pa.types.is_timestamp(kind):
        return "aware" if kind.tz else "naive"
    if pa.types.is_date(kind):
        return "date"
    return "other"


def described(kind: pa.DataType) -> str:
    """What a column of ``kind`` holds, for messages."""
    words = {
        "integer": "whole numbers",
        "wide": "whole numbers",
        "float": "decimal numbers",
        "decimal": "decimal numbers",
        "boolean": "true/false values",
        "aware": "timestamps",
        "naive": "timestamps",
        "date": "dates",
    }.get(family(kind))
    if words:
        return words
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return "binary data (bytes, not UTF-8 text)"
    if pa.types.is_fixed_size_binary(kind):
        return "binary data (bytes, not UTF-8 text)"
    if pa.types.is_time(kind):
        return "times of day without a date"
    if pa.types.is_duration(kind):
        return "durations"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return "lists"
    if pa.types.is_struct(kind) or pa.types.is_map(kind):
        return "nested records"
    return f"values of type {kind}"


def read_as(column: Column, target: str, local: str | None) -> Read:
    """How ``column`` gives a value of the canonical DuckDB type ``target``. ``local``: SQL
    reading a TIMESTAMP without zone (``{0}``) in ``--tz``; None: no ``--tz``, so UTC."""
    if family(column.type) == "null":
        return Read(f"NULL::{target}")
    readers: dict[str, Callable[[Column, str | None], Read]] = {
        "VARCHAR": _text,
        "TIMESTAMPTZ": _time,
        "BIGINT": _count,
        "DOUBLE": _number,
        "BOOLEAN": _boolean,
    }
    return readers[target](column, local)


def _cell(column: Column) -> str:
    """A text cell trimmed, NULL when empty."""
    return f"NULLIF(trim({column.sql}), '')"


def _says(column: Column, value: str, then: str) -> str:
    """Detail SQL: ``column NAME: VALUE then``."""
    name = column.name.replace("'", "''")
    return f"'column {name}: ' || CAST({value} AS VARCHAR) || ' {then}'"


def _unread(column: Column, cell: str, value: str, what: str) -> Check:
    """A text ``cell`` that its conversion ``value`` could not read (NULL from TRY_CAST)."""
    bad = _says(column, cell, f"is not a valid {what}")
    return (f"{cell} IS NOT NULL AND {value} IS NULL", "bad_value", bad)


def _infinite(column: Column, value: str, shown: str) -> Check:
    """A number that is NaN or infinity (``shown``: the cell as written)."""
    return (f"NOT isfinite({value})", "bad_value", _says(column, shown, "is not a finite number"))


def _unfit(column: Column, must: str) -> Unfit:
    return Unfit(f"column {column.name} holds {described(column.type)}; {must}")


def _text(column: Column, local: str | None) -> Read:
    kind, c = family(column.type), column.sql
    if kind == "text":
        return Read(f"NULLIF({c}, '')" if column.name in VERBATIM else _cell(column))
    whole = kind in ("integer", "wide") or (kind == "decimal" and column.type.scale == 0)
    if whole:  # numeric ids (X, Facebook) written as numbers: exact
        return Read(f"CAST({c} AS VARCHAR)")
    if kind == "float":
        raise _unfit(
            column,
            "it must be text (a floating-point number cannot hold a long id "
            "exactly: write the column as strings)",
        )
    raise _unfit(column, "it must be text")


def _time(column: Column, local: str | None) -> Read:
    kind, c = family(column.type), column.sql
    if kind == "text":
        cell = _cell(column)
        value = f"TRY_CAST({cell} AS TIMESTAMPTZ)"  # no offset: the warehouse's zone, UTC
        if local is not None:  # --tz: text without an offset is read in it
            naive = local.format(f"TRY_CAST({cell} AS TIMESTAMP)")
            value = (
                f"CASE WHEN regexp_full_match({cell}, {_NAIVE_TEXT}) THEN {naive} ELSE {value} END"
            )
        return Read(value, (_unread(column, cell, value, "timestamp (ISO 8601)"),))
    if kind == "aware":
        return Read(f"CAST({c} AS TIMESTAMPTZ)", _overflow(column))
    if kind == "naive":
        moment = f"CAST({c} AS TIMESTAMP)"  # DuckDB reads a nanosecond one as TIMESTAMP_NS
        return Read((local or "timezone('UTC', {0})").format(moment), _overflow(column))
    if kind == "date":  # a date's range is wider than a timestamp's (year 5881580)
        moment = f"TRY_CAST({c} AS TIMESTAMP)"
        far = (f"{c} IS NOT NULL AND {moment} IS NULL", "bad_time", _says(column, c, _UNREAL))
        return Read((local or "timezone('UTC', {0})").format(moment), (far,))
    raise _unfit(
        column,
        "a time must be a timestamp (a Parquet timestamp, or ISO 8601 text such as "
        "2025-03-01T08:15:00+07:00)",
    )


_UNREAL = "is not a real time (the warehouse holds the years 1 to 9999)"


def _overflow(column: Column) -> tuple[Check, ...]:
    """A timestamp too far out for DuckDB (year 294247 on; :attr:`Column.overflow`)."""
    raw = column.overflow
    if raw is None:
        return ()
    unit = column.type.unit  # s or ms: the units DuckDB converts
    per_year = 31_556_952 * (1000 if unit == "ms" else 1)  # seconds in a Gregorian year
    year = f"CAST(round(1970 + {raw} / {per_year}) AS BIGINT)"
    shown = f"{raw} || ' {unit} since 1970-01-01 (about the year ' || {year} || ')'"
    return ((f"{raw} IS NOT NULL", "bad_time", _says(column, shown, _UNREAL)),)


def _in_range(column: Column, value: str, converted: str, negative: str) -> tuple[Check, ...]:
    """A whole ``value`` that BIGINT cannot hold (``converted`` is NULL): negative, or too
    large (a ``uint64`` from 2^63)."""
    name = column.name.replace("'", "''")
    past = f"{value} IS NOT NULL AND {converted} IS NULL"
    return (
        (
            f"{past} AND {negative}",
            "negative_count",
            f"'column {name} is negative: ' || CAST({value} AS VARCHAR)",
        ),
        (
            past,
            "bad_value",
            _says(column, value, f"is too large for a count (at most {MAX_COUNT})"),
        ),
    )


def _count(column: Column, local: str | None) -> Read:
    kind, c = family(column.type), column.sql
    if kind == "integer":
        return Read(f"CAST({c} AS BIGINT)")
    if kind == "wide":
        converted = f"TRY_CAST({c} AS BIGINT)"
        return Read(converted, _in_range(column, c, converted, f"{c} < 0"))
    if kind == "text":
        # DuckDB would round '12.5' to 13: a count must be written as a whole number.
        cell = _cell(column)
        whole = f"regexp_full_match({cell}, '[+-]?[0-9]+')"
        converted = f"CASE WHEN {whole} THEN TRY_CAST({cell} AS BIGINT) END"
        bad = _says(column, cell, "is not a valid whole number")
        return Read(
            converted,
            (
                (f"{cell} IS NOT NULL AND NOT {whole}", "bad_value", bad),
                *_in_range(column, cell, converted, f"starts_with({cell}, '-')"),
            ),
        )
    if kind in ("float", "decimal"):
        converted = f"CASE WHEN {c} = floor({c}) THEN TRY_CAST({c} AS BIGINT) END"
        checks: tuple[Check, ...] = ()
        if kind == "float":  # NaN and infinity
            checks += (_infinite(column, c, c),)
        checks += ((f"{c} <> floor({c})", "bad_value", _says(column, c, "is not a whole number")),)
        return Read(converted, checks + _in_range(column, c, converted, f"{c} < 0"))
    raise _unfit(column, "a count must be a whole number")


def _number(column: Column, local: str | None) -> Read:
    kind, c = family(column.type), column.sql
    if kind == "text":
        cell = _cell(column)
        converted = f"TRY_CAST({cell} AS DOUBLE)"
        checks = (_unread(column, cell, converted, "number"), _infinite(column, converted, cell))
        return Read(converted, checks)
    if kind == "float":
        return Read(f"CAST({c} AS DOUBLE)", (_infinite(column, c, c),))
    if kind in ("integer", "wide", "decimal"):
        return Read(f"CAST({c} AS DOUBLE)")
    raise _unfit(column, "it must be a number")


def _boolean(column: Column, local: str | None) -> Read:
    kind, c = family(column.type), column.sql
    if kind == "text":
        cell = _cell(column)
        converted = f"TRY_CAST({cell} AS BOOLEAN)"
        return Read(converted, (_unread(column, cell, converted, "boolean (true/false)"),))
    if kind == "boolean":
        return Read(c)
    if kind == "integer":
        bad = _says(column, c, "is not a boolean (true/false, or 1/0)")
        return Read(
            f"CASE WHEN {c} = 1 THEN true WHEN {c} = 0 THEN false END",
            ((f"{c} NOT IN (0, 1)", "bad_value", bad),),
        )
    raise _unfit(column, "it must be true or false")
