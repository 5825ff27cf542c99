"""The JSON value parsers every API reader uses (X, Facebook and Instagram Graph, YouTube).

Each takes a value as the JSON decoder gave it and returns it typed, or raises
:class:`~govsocial.errors.RecordError` with a detail that names the field and shows the value
(:func:`show`); the detail becomes the record's quarantine detail. ``name`` is the field as
the reader calls it: ``public_metrics.like_count``, ``tweet 5: created_at``,
``statistics.viewCount``. What each API writes:

- a **count** is a JSON integer (``"like_count": 125``); YouTube writes strings of digits,
  read by its own ``parse_count`` with :func:`within_count_range`. An absent count (``None``)
  is not known (not requested, hidden by the owner, an edge left out), never 0; ``true`` and
  ``false`` are not counts; a count must fit the warehouse's BIGINT (:data:`COUNT_RANGE`). A
  negative count is returned: the loader quarantines it (``negative_count``) by column.
- a **timestamp** is ISO 8601 / RFC 3339 text: ``2021-04-08T19:34:16.000Z`` (X, YouTube),
  ``2021-05-24T03:23:53+0000`` (Graph API), ``2021-04-08T19:34:32+00:00`` (twarc). One
  without an offset is read in the zone the reader gives (the file's ``--tz``, or the zone
  the API always writes), and refused when it gives none.
- **text**, an **object** and an **id** (a string, or a JSON integer: Graph ids are digits,
  sometimes written as numbers) as found; the platforms' own id syntax is theirs.

Missing values are ``missing_field``; values of the wrong type or out of range ``bad_value``.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from govsocial.errors import RecordError

COUNT_RANGE = range(-(2**63), 2**63)  # the whole numbers a count column (BIGINT) holds
MAX_COUNT = COUNT_RANGE[-1]


def show(value: object, limit: int = 60) -> str:
    """A value as it appears in the file, shortened, for quarantine details (control
    characters and unpaired surrogates escaped, so the detail is one line of text)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def count(value: object, name: str) -> int | None:
    """A count written as a JSON integer; absent → None (not known)."""
    if value is None:
        return None
    if type(value) is not int:  # not bool (JSON true/false), not 12.0
        raise RecordError("bad_value", f"{name} {show(value)} is not a whole number")
    return within_count_range(value, name)


def within_count_range(number: int, name: str, written: object = None) -> int:
    """``number`` if a count column holds it; ``written``: the value as the file has it."""
    if number in COUNT_RANGE:
        return number
    shown = show(number if written is None else written)
    if number > 0:
        raise RecordError(
            "bad_value", f"{name} {shown} is too large for a count (at most {MAX_COUNT})"
        )
    raise RecordError(
        "bad_value", f"{name} {shown} is too small for a count (at least {COUNT_RANGE.start})"
    )


def timestamp(value: object, name: str, zone: tzinfo | None) -> datetime:
    """An ISO 8601 / RFC 3339 time → aware UTC; without an offset it is in ``zone`` (None:
    refused). The X reader's compiled path calls this once per tweet: the usual case (text
    with an offset) costs one ``fromisoformat`` and one ``astimezone``."""
    if type(value) is str and value:
        try:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                return moment.astimezone(UTC)
            if zone is not None:
                return moment.replace(tzinfo=zone).astimezone(UTC)
        except (ValueError, OverflowError) as exc:  # OverflowError: 0001-01-01T00:00+01:00
            raise RecordError("bad_value", _bad_time(value, name, exc)) from None
        raise RecordError(
            "bad_value",
            f"{name} {show(value)} has no UTC offset; give the file's time zone with --tz "
            "if its times are local times",
        )
    if value is None or value == "":
        raise RecordError("missing_field", f"{name} is missing")
    raise RecordError("bad_value", f"{name} {show(value)} is not an ISO 8601 timestamp")


def _bad_time(value: str, name: str, exc: Exception) -> str:
    """Why ``fromisoformat`` refused ``value``: not ISO 8601 at all, or no real moment."""
    why = str(exc)
    if why.startswith("Invalid isoformat"):  # Python's words for text of another shape
        return f"{name} {show(value)} is not an ISO 8601 timestamp"
    if why.startswith("offset"):  # +24:00 or more
        return f"{name} {show(value)} has a bad UTC offset"
    return f"{name} {show(value)} is not a real time ({why})"  # 2019-02-30, year 10000 in UTC


def text(value: object, name: str) -> str | None:
    """Text as written (an unpaired surrogate is left in: the payload check quarantines it);
    absent → None."""
    if value is None or type(value) is str:
        return value
    raise RecordError("bad_value", f"{name} {show(value)} is not text")


def mapping(value: object, name: str) -> dict[str, Any] | None:
    """A JSON object (an optional part, an edge, a summary); absent → None."""
    if value is None or type(value) is dict:
        return value
    raise RecordError("bad_value", f"{name} {show(value)} is not a JSON object")


def identifier(value: object, name: str) -> str:
    """An id as written: a non-empty string, or a JSON integer (Graph ids, X ids from some
    tools) as its digits. Kept verbatim, as the X reader's compiled path keeps it."""
    if type(value) is str and value:
        return value
    if value is None or value == "":
        raise RecordError("missing_field", f"{name} is missing")
    if type(value) is not int:  # not bool
        raise RecordError("bad_value", f"{name} {show(value)} is not an id")
    return str(value)
