"""What the Facebook and Instagram Graph API readers share: reading JSON, errors and values.

Both APIs are the same Graph API (https://developers.facebook.com/docs/graph-api/overview):
responses are UTF-8 JSON, lists come as pages ``{"data": [...], "paging": {...}}``, times are
ISO 8601 with an offset written without a colon (``2021-05-24T03:23:53+0000``) and a failed
call returns an error envelope instead of data::

    {"error": {"message": "(#100) ...", "type": "OAuthException", "code": 100,
               "fbtrace_id": "A1m6KK6iBqvjzPeQd4DYbKM"}}

(https://developers.facebook.com/docs/graph-api/guides/error-handling). A file holds one
response, a JSON array of them, or one response per line (JSONL).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from govsocial.errors import InputError
from govsocial.sources.staging import ImportOptions
from govsocial.sources.timezones import resolve_tz

_INT64_MAX = 2**63 - 1


class RecordError(Exception):
    """A record that cannot be read: ``reason`` is the quarantine code, ``detail`` says why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class BadLine:
    """A JSONL line that is not JSON (a truncated write, a stray log line)."""

    text: str
    detail: str


@dataclass(frozen=True)
class ApiError:
    """A Graph API error envelope ``{"error": {"message", "type", "code", ...}}``."""

    message: str
    type: str | None
    code: int | str | None

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> ApiError:
        inner = payload.get("error")
        error: Mapping[str, Any] = inner if isinstance(inner, Mapping) else {}
        message = error.get("message")
        kind = error.get("type")
        code = error.get("code")
        return cls(
            message=message if isinstance(message, str) else json.dumps(inner)[:200],
            type=kind if isinstance(kind, str) else None,
            code=code if isinstance(code, int | str) and not isinstance(code, bool) else None,
        )

    def describe(self) -> str:
        what = ", ".join(str(p) for p in (self.type, self.code and f"code {self.code}") if p)
        return f"Graph API error ({what}): {self.message}" if what else self.message


def is_error(value: object) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("error"), Mapping)


def refuse_error_response(path: Path, documents: list[Any]) -> None:
    """A file that *is* an error envelope holds nothing to import: say which error it was."""
    if len(documents) == 1 and is_error(documents[0]):
        error = ApiError.from_payload(documents[0]).describe()
        raise InputError(
            f"the file is an error response, not data: {error}. Nothing to import; fix the "
            "request (access token, permissions) and export again.",
            path=path,
        )


def _keep_float(text: str) -> float | str:
    # 1e400 would become inf, which is not JSON when the payload is written back: keep the text.
    number = float(text)
    return number if math.isfinite(number) else text


def loads(text: str) -> Any:
    """json.loads that keeps NaN/Infinity/huge floats as their text (they are never counts)."""
    try:
        return json.loads(text, parse_constant=lambda c: c, parse_float=_keep_float)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def read_documents(path: Path, what: str) -> list[Any]:
    """The file's top-level JSON values: one document, or one per line (JSONL).

    An unreadable JSONL line becomes a :class:`BadLine`; a file with no JSON at all is refused.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc}).", path=path) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte {exc.start}), so not {what} JSON. Save the API response "
            "as it was received, or choose another --format.",
            path=path,
        ) from exc
    if not text.strip():
        raise InputError(f"the file is empty; expected {what} JSON.", path=path)
    try:
        return [loads(text)]
    except ValueError as whole:
        reason = str(whole)
    documents: list[Any] = []
    readable = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            documents.append(loads(line))
            readable += 1
        except ValueError as exc:
            documents.append(BadLine(line, f"line {number} is not valid JSON ({exc}); truncated?"))
    if not readable:
        raise InputError(
            f"not JSON ({reason}), so not {what}. If the file was cut short, export it "
            "again; otherwise choose another --format.",
            path=path,
        )
    return documents


def flatten(documents: list[Any]) -> Iterator[Any]:
    """Top-level arrays (a JSON array of pages, or of objects) are read element by element."""
    for document in documents:
        if isinstance(document, list):
            yield from document
        else:
            yield document


def payload_json(value: object) -> str:
    """The record as received, as JSON text (readable Unicode unless it has lone surrogates)."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value)
    return text


def time_zone(options: ImportOptions) -> tzinfo:
    """The zone for times written without an offset (never the case in Graph API responses)."""
    return UTC if options.tz is None else resolve_tz(options.tz)


def captured_at(path: Path, options: ImportOptions) -> datetime:
    """When the counts were read: Graph API responses do not say, so --captured-at or mtime."""
    if options.captured_at is not None:
        return options.captured_at.astimezone(UTC)
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def timestamp(value: object, field: str, zone: tzinfo) -> datetime:
    if value is None:
        raise RecordError("missing_field", f"field {field} is missing")
    if not isinstance(value, str):
        raise RecordError("bad_value", f"field {field}: {value!r} is not a timestamp")
    try:
        moment = datetime.fromisoformat(value)  # 3.11 reads the +0000 offset too
    except ValueError:
        raise RecordError(
            "bad_value", f"field {field}: {value!r} is not an ISO 8601 timestamp"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def count(value: object, field: str) -> int | None:
    """A count as the API writes it (a JSON integer); absent → None (not known)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > _INT64_MAX:
        raise RecordError("bad_value", f"field {field}: {value!r} is not a whole number")
    return value


def text(value: object, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError("bad_value", f"field {field}: {value!r} is not text")
    # A lone surrogate (\ud800) is valid JSON but cannot be stored as UTF-8.
    return value.encode("utf-8", "replace").decode("utf-8")


def identifier(value: object, field: str) -> str:
    """A Graph API id: a string of digits, sometimes written as a JSON number."""
    if value is None:
        raise RecordError("missing_field", f"field {field} is missing")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise RecordError("bad_value", f"field {field}: {value!r} is not an id")
    return text(value.strip(), field) or ""


def mapping(value: object, field: str) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise RecordError("bad_value", f"field {field}: {value!r} is not an object")
    return value
