"""The value types of the YouTube Data API v3 that only YouTube writes; the rest (times,
text, objects, the count range) are read by :mod:`govsocial.sources.values`.

Every parser takes the value as received and either returns it typed or raises
:class:`~govsocial.errors.RecordError` (``bad_value`` / ``missing_field``) with a sentence naming
the field and the value, which becomes the quarantine detail of the record.

- Counts are JSON *strings* of digits (``"viewCount": "1051426"``), because they can exceed
  2**53; a missing count means the owner hid it (``likeCount``) or disabled it
  (``commentCount``): unknown (``None``), never zero.
  https://developers.google.com/youtube/v3/docs/videos#statistics
- Ids are short URL-safe base64 strings (``9wCvNsXREls``, ``UCK8sQmJBp8GCxrOtXWBpyEA``).
- Durations are ISO 8601 durations: ``PT8M20S``, ``PT1H2M``, ``P1DT2H``, ``PT45S``; ``P0D`` for a
  live stream that has not ended. https://developers.google.com/youtube/v3/docs/videos#contentDetails.duration

Times (``2019-09-15T21:17:40.000Z``, ``2005-09-18T22:37:10Z``: RFC 3339 in UTC,
https://developers.google.com/youtube/v3/docs/videos#snippet.publishedAt) are read by the
shared :func:`~govsocial.sources.values.timestamp`, as in every reader. It reads every
RFC 3339 time (nanoseconds are cut to microseconds); a stricter RFC 3339-only pattern would
refuse only ISO 8601 forms the API never writes (a date alone, ``20190915T211740Z``), none of
them ambiguous, so YouTube keeps none of its own.
"""

from __future__ import annotations

import math
import re
from typing import Any

from govsocial.errors import RecordError
from govsocial.sources.values import count, show, within_count_range

_COUNT = re.compile(r"-?[0-9]+")
_DURATION = re.compile(
    r"P(?:(\d{1,6})W)?(?:(\d{1,6})D)?"
    r"(?:T(?=\d)(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,9}(?:\.\d{1,6})?)S)?)?",
    re.ASCII,
)
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)


def field(obj: Any, name: str, where: str) -> Any:
    """``obj[name]``, or :class:`RecordError` when ``obj`` is not an object or lacks it."""
    if not isinstance(obj, dict):
        raise RecordError("bad_value", f"{where} {show(obj)} is not a JSON object")
    if obj.get(name) is None:
        raise RecordError("missing_field", f"{where}.{name} is missing")
    return obj[name]


def parse_id(value: Any, name: str) -> str:
    """Video, channel and playlist ids are short URL-safe base64 strings."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise RecordError("bad_value", f"{name} {show(value)} is not a YouTube id")
    return value


def parse_count(stats: dict[str, Any], name: str) -> int | None:
    """A count of ``statistics``: digits as a string (or a JSON integer); absent → unknown."""
    value = stats.get(name)
    if isinstance(value, str) and _COUNT.fullmatch(value):
        # a negative count is reported by the loader (negative_count)
        return within_count_range(int(value), f"statistics.{name}", value)
    return count(value, f"statistics.{name}")


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
