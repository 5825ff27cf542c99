"""The one reader of JSON files: one document, a JSON array, or JSON Lines, as a stream.

Every JSON format (X, Facebook and Instagram Graph, YouTube, and the API clients' saved pages)
reads its file here, so all agree on what a file is:

- a file whose first line is not JSON by itself but whose whole text is (a pretty-printed
  response) is **one document**; a top-level array is read element by element
  (``element 3``), anything else is ``document``;
- otherwise it is **JSON Lines**: one value per line (``line 7``; an array on a line is read
  element by element, ``line 7, element 2``); blank lines are skipped; a byte order mark is
  ignored; only ``\\n`` ends a line (U+2028 may stand unescaped inside JSON strings);
- a line that cannot be read is one :class:`Document` with an ``error`` and its text, so the
  reader quarantines it and goes on: ``bad_encoding`` (not UTF-8), ``truncated_line`` (it
  opens an object or array that it never closes: a write cut off) or ``bad_json``;
- JSON is strict: ``NaN``/``Infinity`` are not JSON; a number too large for a float is kept
  as its text (it is never a count, and the payload must stay JSON);
- a file that is empty, or holds no readable JSON value at all, is refused with an
  :class:`~govsocial.errors.InputError` saying which (and, for text that is not UTF-8, how
  to fix it).

``fast`` lets a reader decode an ordinary line itself (the X reader's compiled path): it gets
the line's bytes and returns a value, or ``None`` to have the line read here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govsocial.errors import InputError, RecordError

BOM = b"\xef\xbb\xbf"  # the UTF-8 byte order mark some Windows tools write first


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _keep_huge(text: str) -> float | str:
    number = float(text)
    return number if math.isfinite(number) else text


_DECODER = json.JSONDecoder(parse_constant=_no_constants, parse_float=_keep_huge)


def loads(text: str) -> Any:
    """Strict JSON (see the module's docstring); ``ValueError`` when ``text`` is not JSON."""
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


@dataclass(slots=True)
class Document:
    """One JSON value of a file and where it is; ``error`` set when it cannot be read."""

    place: str
    value: Any
    error: RecordError | None = None
    text: str = ""  # the unreadable text, kept as the quarantined record's payload


def _parse_line(raw: bytes, place: str) -> Document:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        error = RecordError("bad_encoding", f"{place} is not UTF-8 text ({exc.reason})")
        return Document(place, None, error, raw.decode("utf-8", "replace"))
    try:
        return Document(place, loads(text))
    except ValueError as exc:
        if text.startswith(("{", "[")) and not text.endswith(("}", "]")):
            detail = f"{place}: the JSON ends early (a write cut off?)"
            return Document(place, None, RecordError("truncated_line", detail), text)
        return Document(place, None, RecordError("bad_json", f"{place} is not JSON ({exc})"), text)


def _open(path: Path) -> Any:
    try:
        return path.open("rb")
    except OSError as exc:
        raise InputError(
            f"cannot be read ({exc.strerror or exc}). Check the path.", path=path
        ) from exc


def _whole(path: Path) -> Any:
    """The file as one JSON document, or None."""
    try:
        return loads(path.read_bytes().removeprefix(BOM).decode("utf-8"))
    except ValueError:  # UnicodeDecodeError is a ValueError
        return None


def read_documents(
    path: Path, what: str, fast: Callable[[bytes], Any] | None = None
) -> Iterator[Document]:
    """The JSON values of ``path`` in file order (``what`` names the format in messages)."""
    with _open(path) as handle:
        first = next((line.strip() for line in handle if line.strip()), b"").removeprefix(BOM)
    if not first.strip():
        raise InputError(f"the file is empty; expected {what} JSON.", path=path)
    if first.startswith((b"{", b"[")) and _parse_line(first, "line 1").error is not None:
        whole = _whole(path)  # the first line alone is not JSON: a pretty-printed document?
        if whole is not None:
            if isinstance(whole, list):
                yield from (Document(f"element {i}", v) for i, v in enumerate(whole, 1))
            else:
                yield Document("document", whole)
            return
    readable = 0
    problems: list[RecordError] = []
    with _open(path) as handle:
        for number, line in enumerate(handle, 1):
            raw = line.strip()
            if number == 1:
                raw = raw.removeprefix(BOM)  # written by some Windows tools
            if not raw:
                continue
            place = f"line {number}"
            value = fast(raw) if fast is not None else None
            if value is not None:
                readable += 1
                yield Document(place, value)
                continue
            document = _parse_line(raw, place)
            if document.error is not None:
                if len(problems) < 3:
                    problems.append(document.error)
                yield document
            elif isinstance(document.value, list):
                readable += 1
                for i, item in enumerate(document.value, 1):
                    yield Document(f"{place}, element {i}", item)
            else:
                readable += 1
                yield document
    if not readable:
        raise InputError(_unreadable(problems, what), path=path)


def _unreadable(problems: list[RecordError], what: str) -> str:
    if problems and all(p.reason == "bad_encoding" for p in problems):
        return (
            f"is not UTF-8 text, so not {what} JSON (latin-1 or another code page?). Save the "
            "file again as UTF-8, as the API sent it."
        )
    first = problems[0].detail if problems else "no JSON value"
    return (
        f"holds no readable JSON ({first}), so it is not {what} JSON. If the file was cut "
        "short, download or export it again; otherwise choose another --format."
    )


def json_head(head: bytes) -> bytes | None:
    """A file's first bytes without a byte order mark and leading white space, when they open
    a JSON object or array (where every JSON format's ``sniff`` starts); else None."""
    text = head.removeprefix(BOM).lstrip()
    return text if text.startswith((b"{", b"[")) else None
