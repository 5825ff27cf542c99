"""Strict parsers for the value types of the YouTube Data API v3.

Every parser takes the value as received and either returns it typed or raises
:class:`~govsocial.errors.RecordError` (``bad_value`` / ``missing_field``) with a sentence naming
the field and the value, which becomes the quarantine detail of the record.

- Counts are JSON *strings* of digits (``"viewCount": "1051426"``), because they can exceed
  2**53; a missing count means the owner hid it (``likeCount``) or disabled it
  (``commentCount``): unknown (``None``), never zero.
  https://developers.google.com/youtube/v3/docs/videos#statistics
- Times are RFC 3339 in UTC, with and without milliseconds (``2019-09-15T21:17:40.000Z``,
  ``2005-09-18T22:37:10Z``). https://developers.google.com/youtube/v3/docs/videos#snippet.publishedAt
- Durations are ISO 8601 durations: ``PT8M20S``, ``PT1H2M``, ``P1DT2H``, ``PT45S``; ``P0D`` for a
  live stream that has not ended. https://developers.google.com/youtube/v3/docs/videos#contentDetails.duration
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

from govsocial.errors import RecordError

MAX_COUNT = 2**63 - 1  # BIGINT in the warehouse

_COUNT = re.compile(r"-?[0-9]+")
_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?",
    re.ASCII,
)
_DURATION = re.compile(
    r"P(?:(\d{1,6})W)?(?:(\d{1,6})D)?"
    r"(?:T(?=\d)(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,9}(?:\.\d{1,6})?)S)?)?",
    re.ASCII,
)
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)


def show(value: Any, limit: int = 60) -> str:
    """A value as it appears in the file, shortened, for quarantine details."""
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def field(obj: Any, name: str, where: str) -> Any:
    """``obj[name]``, or :class:`RecordError` when ``obj`` is not an object or lacks it."""
    if not isinstance(obj, dict):
        raise RecordError("bad_value", f"{where} is {show(obj)}, not a JSON object")
    if obj.get(name) is None:
        raise RecordError("missing_field", f"{where}.{name} is missing")
    return obj[name]


def part(obj: dict[str, Any], name: str) -> dict[str, Any] | None:
    """An optional resource part (``snippet``, ``statistics``, …): absent when not requested."""
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RecordError("bad_value", f"{name} is {show(value)}, not a JSON object")
    return value


def parse_id(value: Any, name: str) -> str:
    """Video, channel and playlist ids are short URL-safe base64 strings."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise RecordError("bad_value", f"{name} {show(value)} is not a YouTube id")
    return value


def parse_text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RecordError("bad_value", f"{name} is {show(value)}, not text")
    # An unpaired surrogate (a cut emoji) is left in: the record's payload then quarantines it.
    return value


def parse_count(stats: dict[str, Any], name: str) -> int | None:
    """A count of ``statistics``: digits as a string (or a JSON integer); absent → unknown."""
    value = stats.get(name)
    if value is None:
        return None
    if isinstance(value, str) and _COUNT.fullmatch(value):
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise RecordError("bad_value", f"statistics.{name} {show(value)} is not a whole number")
    if abs(number) > MAX_COUNT:
        raise RecordError("bad_value", f"statistics.{name} {show(value)} is too large")
    return number  # a negative count is reported by the loader (negative_count)


def parse_time(value: Any, name: str, tz: tzinfo | None) -> datetime:
    """An RFC 3339 time → aware UTC. Without an offset it is read in ``tz`` (``--tz``), if given."""
    match = _TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise RecordError("bad_value", f"{name} {show(value)} is not an RFC 3339 time")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    zone: tzinfo | None = tz
    if offset == "Z":
        zone = UTC
    elif offset:
        sign = -1 if offset[0] == "-" else 1
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise RecordError("bad_value", f"{name} {show(value)} has a bad UTC offset")
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    if zone is None:
        raise RecordError(
            "bad_value",
            f"{name} {show(value)} has no UTC offset (the API writes UTC with Z); "
            "give the file's time zone with --tz if it was rewritten in local time",
        )
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        local = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, zone
        )
        return local.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise RecordError("bad_value", f"{name} {show(value)} is not a real time ({exc})") from exc


def parse_duration(value: Any) -> float:
    """``contentDetails.duration`` → seconds. Years and months are refused (no fixed length)."""
    match = _DURATION.fullmatch(value) if isinstance(value, str) and value != "P" else None
    if match is None:
        raise RecordError(
            "bad_value",
            f"contentDetails.duration {show(value)} is not an ISO 8601 duration "
            "such as PT8M20S or P1DT2H",
        )
    weeks, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    total = (((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds
    if not math.isfinite(total):
        raise RecordError("bad_value", f"contentDetails.duration {show(value)} is too long")
    return total
