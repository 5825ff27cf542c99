"""Reading a file of JSON responses: one JSON document, a JSON array, or JSON Lines.

A line of JSON Lines that cannot be parsed (``bad_json``; ``truncated_line`` when the file ends
inside it) is kept as a finding with its text, so it becomes one quarantined record. A file
that is not UTF-8, is empty, or has no parseable JSON at all is refused (:class:`InputError`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from govsocial.errors import InputError
from govsocial.sources.youtube.values import clean_text

Row = dict[str, Any]


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str) -> Any:
    """Strict JSON: NaN/Infinity (Python's extension) and absurd nesting are not JSON here."""
    try:
        return json.loads(text, parse_constant=_no_constants)
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc


def dumps(value: Any) -> str:
    # A lone surrogate ("\\ud800", legal in JSON text) is refused by DuckDB's JSON: U+FFFD.
    return clean_text(json.dumps(value, ensure_ascii=False))


def read_documents(path: Path) -> list[tuple[Any, Row | None]]:
    """The file's responses: (parsed JSON, None) or (line text, a bad_json/truncated finding)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc}).", path=path) from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            "is not UTF-8 text, so not a YouTube Data API JSON response. Save the API's "
            "response as it was received.",
            path=path,
        ) from exc
    if not text.strip():
        raise InputError("is empty. Export the YouTube API responses again.", path=path)
    try:
        whole = loads(text)
    except ValueError:
        pass  # not one JSON document: JSON Lines
    else:
        return [(doc, None) for doc in whole] if isinstance(whole, list) else [(whole, None)]
    documents: list[tuple[Any, Row | None]] = []
    # Only "\n" ends a line: str.splitlines() would also split at U+2028, which JSON allows
    # unescaped inside strings (titles copied from the web carry it).
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            documents.append((loads(line), None))
        except ValueError as exc:
            last = number == len(lines) and not text.endswith("\n")
            reason = "truncated_line" if last else "bad_json"
            detail = f"line {number} is not JSON ({exc})" + (
                "; the file ends inside it (cut off while saving?)" if last else ""
            )
            documents.append((line, {"_reason": reason, "_detail": detail}))
    if all(problem is not None for _, problem in documents):
        raise InputError(
            "is neither JSON nor JSON Lines (one response per line). Save the YouTube API "
            "responses as received, or check that the file is complete.",
            path=path,
        )
    return documents
