"""Values as text: what a CSV field, a JSON value or an XLSX text cell holds.

The conversions every writer shares. The rules, and why they run over whole columns, are in
the docstring of ``tables.py``; :func:`value_text` is the fallback for one value at a time.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from govsocial.reports.times import iso_duration, iso_timestamps, without_zero_fraction

JSON = msgspec.json.Encoder(decimal_format="number", enc_hook=lambda v: value_text(v))


def as_text(column: pa.Array) -> pa.Array:
    """Each value as plain text, NULL left NULL: what a CSV field or a text cell holds."""
    column = plain(column)
    kind = column.type
    if pa.types.is_string(kind):
        return column
    if pa.types.is_null(kind):
        return pa.nulls(len(column), pa.string())
    if pa.types.is_timestamp(kind):
        return iso_timestamps(column)
    if pa.types.is_time(kind):
        return without_zero_fraction(pc.cast(column, pa.string()))
    if casts_to_text(kind):
        return pc.cast(column, pa.string())
    if _is_list(kind) or pa.types.is_struct(kind) or pa.types.is_map(kind):
        return as_json(column)
    return pa.array([value_text(v) for v in python_values(column)], pa.string())


def as_json(column: pa.Array) -> pa.Array:
    """Each value as JSON text, NULL left NULL. Lists, structs and maps are assembled from
    their children's JSON text, column-wise."""
    column = plain(column)
    kind = column.type
    if pa.types.is_string(kind):
        return _json_quote(column)
    if pa.types.is_floating(kind):  # JSON has no NaN or infinity
        return pc.if_else(pc.is_finite(column), pc.cast(column, pa.string()), None)
    if casts_to_text(kind) and not pa.types.is_date(kind):
        return pc.cast(column, pa.string())
    if _is_list(kind):
        lists, values = _list_parts(column)
        items = _rebuilt(lists, json_values(values))
        return pc.binary_join_element_wise("[", pc.binary_join(items, ","), "]", "")
    if pa.types.is_struct(kind):
        keys = [json_key(kind.field(i).name) for i in range(kind.num_fields)]
        objects = json_objects(keys, column.flatten(), len(column))
        return pc.if_else(column.is_null(), None, objects)
    if pa.types.is_map(kind):
        return _json_map(column)
    if pa.types.is_union(kind) or pa.types.is_null(kind):
        return pa.array([JSON.encode(v).decode() for v in python_values(column)], pa.string())
    return _json_quote(as_text(column))  # times, dates, intervals, binary (base64) as strings


def json_values(column: pa.Array) -> pa.Array:
    """Each value as JSON text (``null`` for NULL)."""
    return pc.fill_null(as_json(column), "null")


def json_key(name: str) -> str:
    """A name as the start of a JSON object's member: ``"name":``."""
    return JSON.encode(name).decode() + ":"


def json_objects(
    keys: Sequence[str],
    columns: Sequence[pa.Array],
    rows: int,
    opening: str = "{",
    closing: str = "}",
) -> pa.Array:
    """Each row of ``columns`` as a JSON object, its members named by ``keys`` (:func:`json_key`),
    between ``opening`` and ``closing``."""
    if not keys:
        return pa.array([opening + closing] * rows, pa.string())
    parts: list[Any] = []
    for i, (key, column) in enumerate(zip(keys, columns, strict=True)):
        parts += [("," if i else opening) + key, json_values(column)]
    parts.append(closing)
    return pc.binary_join_element_wise(*parts, "")


def unique_names(names: list[str]) -> list[str]:
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


def plain(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One array of the column's values: chunks combined, dictionaries decoded, text as
    ``string`` (not large or view)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if pa.types.is_large_string(column.type) or pa.types.is_string_view(column.type):
        column = column.cast(pa.string())
    return column


def python_values(column: pa.Array) -> list[Any]:
    return list(column.to_pylist(maps_as_pydicts="lossy"))


def casts_to_text(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_date(kind)
    )


def is_moment(kind: pa.DataType) -> bool:
    return bool(pa.types.is_timestamp(kind) or pa.types.is_time(kind) or pa.types.is_date(kind))


def value_text(value: Any) -> str | None:
    """One value as plain text (nested values as JSON text): the fallback for rare types,
    and msgspec's hook for values it does not know."""
    if value is None:
        return None
    if isinstance(value, pa.MonthDayNano):  # a named tuple: before the tuples
        return iso_duration(value.months, value.days, value.nanoseconds)
    if isinstance(value, list | dict | tuple):
        return JSON.encode(value).decode()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    try:
        encoded = JSON.encode(value)
    except (TypeError, msgspec.EncodeError):
        return str(value)
    text = encoded.decode()
    return str(msgspec.json.decode(encoded)) if text.startswith('"') else text


# -- JSON text of maps and strings -------------------------------------------------------------
def _json_map(column: pa.Array) -> pa.Array:
    start, end = _bounds(column)
    keys = plain(column.keys.slice(start, end - start))
    if pa.types.is_string(keys.type) or is_moment(keys.type):
        keys_text = as_json(keys)
    else:
        keys_text = _json_quote(pc.fill_null(as_text(keys), "null"))  # object keys are strings
    values = json_values(column.items.slice(start, end - start))
    entries = _rebuilt(column, pc.binary_join_element_wise(keys_text, values, ":"))
    return pc.binary_join_element_wise("{", pc.binary_join(entries, ","), "}", "")


def _json_quote(text: pa.Array) -> pa.Array:
    quoted = pc.binary_join_element_wise('"', text, '"', "")
    # JSON escapes quotes, backslashes and control characters: those few values by msgspec
    needs = pc.fill_null(pc.match_substring_regex(text, r'[\x00-\x1f"\\]'), False)
    if not pc.any(needs).as_py():
        return quoted
    escaped = [JSON.encode(v).decode() for v in text.filter(needs).to_pylist()]
    return pc.replace_with_mask(quoted, needs, pa.array(escaped, pa.string()))


# -- lists -------------------------------------------------------------------------------------
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
