"""A record as received, as the JSON text the warehouse keeps (``raw_records``, quarantine).

One serialiser for every reader and API client: compact JSON with non-ASCII escaped (the
fastest encoding, and the JSON *value* is the record as received). DuckDB's JSON type refuses
an unpaired UTF-16 surrogate (``\\ud83d`` alone: half of a cut emoji), which is valid JSON
text but not Unicode: :func:`payload_json` then raises a :class:`RecordError` (the record is
quarantined, ``bad_value``), and :func:`quarantine_payload` keeps such a record with the
surrogate replaced by U+FFFD so that its payload can still be kept.
"""

from __future__ import annotations

import json
import re
from typing import Any

from govsocial.errors import RecordError

_ENCODER = json.JSONEncoder(separators=(",", ":"))  # one encoder: dumps() makes one per call
_LONE_SURROGATE = re.compile(
    r"\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}"
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def payload_json(value: Any) -> str:
    """``value`` as compact JSON text; :class:`RecordError` if it holds an unpaired surrogate."""
    text = _ENCODER.encode(value)
    # Emoji are escaped as surrogate pairs; an unpaired one (a cut emoji) DuckDB refuses.
    if "\\ud" in text and _LONE_SURROGATE.search(text):
        try:  # the pattern can also match an escaped backslash before "ud800": make sure
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise RecordError(
                "bad_value",
                "it contains an unpaired UTF-16 surrogate (\\udXXX, half of a cut emoji), "
                "which is not Unicode text",
            ) from None
    return text


def quarantine_payload(value: Any) -> str:
    """``value`` as JSON text that is always storable: unpaired surrogates become U+FFFD, and a
    value that is not JSON at all (bytes, an object) becomes its text."""
    try:
        return payload_json(value)
    except RecordError:
        return _ENCODER.encode(without_surrogates(value))
    except (TypeError, ValueError):
        return _ENCODER.encode(str(value))


def without_surrogates(value: Any) -> Any:
    """``value`` with every unpaired surrogate in its strings replaced by U+FFFD."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {without_surrogates(k): without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_surrogates(v) for v in value]
    return value
