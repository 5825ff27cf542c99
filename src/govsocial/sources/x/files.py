"""Read an X API v2 file (twarc2 JSONL, or one saved JSON response) into staged relations.

The file is JSON Lines, one API page per line as twarc2 writes it (``twarc2 search``,
``timeline``, ``stream``, ``users``, ``flatten``), or a single JSON document: one page, or a
list of pages/tweets/users. A line that cannot be read (cut off by an interrupted write,
not JSON, not UTF-8) is quarantined and the rest loads.

Record numbers: a page holds many records (tweets, their authors' follower counts, errors), so
records are numbered in reading order across the file (``noflat.jsonl, record 57``), and every
quarantine detail starts with the exact place (``line 1, data[56]``; ``line 3, errors[0]``).
Docs: docs/import-x.md.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from govsocial.errors import InputError
from govsocial.sources.staging import ImportOptions, Kind, Staged, staged_from_arrow
from govsocial.sources.x.compiled import CompiledPage, decode_page
from govsocial.sources.x.pages import PageReader, looks_like_users
from govsocial.sources.x.records import RecordError
from govsocial.sources.x.rows import Table

FORMAT_NAME = "x-v2"
# (place, value, error, raw text): value is None when error says why the text is unreadable.
Unit = tuple[str, Any, RecordError | None, str]

_BOM = b"\xef\xbb\xbf"
_PAGE_KEYS = {"errors", "meta"}  # a page with no data: only errors, or the last empty page
_X_WORDS = re.compile(rb'"(__twarc|author_id|retweet_count|edit_history_tweet_ids|tweet_count)"')


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")  # NaN/Infinity: the warehouse refuses them


_DECODER = json.JSONDecoder(parse_constant=_no_constants)  # one decoder: loads() makes one a call


def _parse(raw: bytes) -> tuple[Any, RecordError | None, str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (
            None,
            RecordError("bad_encoding", f"not UTF-8 ({exc.reason})"),
            raw.decode("utf-8", "replace"),
        )
    try:
        return _DECODER.decode(text), None, text
    except (ValueError, RecursionError) as exc:
        if text.startswith(("{", "[")) and not text.endswith(("}", "]")):
            detail = "the JSON ends early (an interrupted write?)"
            return None, RecordError("truncated_line", detail), text
        return None, RecordError("bad_json", f"not valid JSON ({exc})"), text


def _units(path: Path, compiled: bool = False) -> Iterator[Unit]:
    """Each JSON value of the file with its place: JSON Lines, or one whole document.

    With ``compiled``, an ordinary page comes as a :class:`CompiledPage` (the fast path).
    """
    with path.open("rb") as handle:
        first = next((line.strip() for line in handle if line.strip()), b"")
    first = first.removeprefix(_BOM)
    if first.startswith((b"{", b"[")) and _parse(first)[1] is not None:
        try:  # the first line alone is not JSON: a (pretty-printed) single document?
            text = path.read_bytes().decode("utf-8-sig")
            whole = _DECODER.decode(text)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            whole = None
        if whole is not None:
            if isinstance(whole, list):
                yield from ((f"element {i}", v, None, "") for i, v in enumerate(whole, 1))
            else:
                yield "document", whole, None, ""
            return
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            raw = line.strip()
            if number == 1:
                raw = raw.removeprefix(_BOM)  # written by some Windows tools
            if not raw:
                continue
            page = decode_page(raw) if compiled else None
            if page is not None:
                yield f"line {number}", page, None, ""
                continue
            value, error, text = _parse(raw)
            if isinstance(value, list):
                for i, item in enumerate(value, 1):
                    yield f"line {number}, element {i}", item, None, ""
            else:
                yield f"line {number}", value, error, text


def _first_value(path: Path) -> Any:
    """The first readable JSON value of the file, or an InputError saying why there is none."""
    problem = "the file is empty"
    try:
        for place, value, error, _ in _units(path):
            if error is None:
                return value
            if problem == "the file is empty":
                problem = f"{place}: {error.detail}"
    except OSError as exc:
        raise InputError(f"cannot be read ({exc}). Check the path.", path=path) from exc
    raise InputError(
        f"holds no readable JSON record ({problem}). An X API v2 file is twarc2's JSONL "
        "(UTF-8) or a saved JSON response; see docs/import-x.md.",
        path=path,
    )


def _is_x(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and _is_x(value[0])
    if not isinstance(value, dict):
        return False
    if "__twarc" in value:
        return True
    data = value.get("data", value)
    item = data[0] if isinstance(data, list) and data else data
    if not isinstance(item, dict):
        return False
    if "author_id" in item and ("text" in item or "edit_history_tweet_ids" in item):
        return True
    metrics = item.get("public_metrics")
    return "username" in item and isinstance(metrics, dict) and "followers_count" in metrics


def sniff(path: Path, head: bytes) -> bool:
    """X API v2 JSON: the first record is a page of tweets or users, or carries ``__twarc``."""
    try:
        text = head.removeprefix(_BOM).lstrip()
        if not text.startswith((b"{", b"[")):
            return False
        for candidate in (text.split(b"\n", 1)[0], text):
            try:
                return _is_x(json.loads(candidate))
            except ValueError:
                continue
        # The first record is longer than the head (a 100-tweet page easily is).
        words = {m.group(1).decode() for m in _X_WORDS.finditer(text)}
        tweets = b'"data"' in text and "author_id" in words and len(words) >= 2
        users = b'"username"' in text and b'"followers_count"' in text and "tweet_count" in words
        return "__twarc" in words or tweets or users
    except Exception:  # sniffing must never fail the detection of other formats
        return False


def stage(path: Path, options: ImportOptions, compiled: bool = True) -> list[Staged]:
    """The file's tweets (posts) and the follower counts it carries (account snapshots).

    Ordinary pages are decoded by ``compiled.py``; ``compiled=False`` reads every line on the
    reference path instead (the tests compare the two).
    """
    first = _first_value(path)
    empty_page = isinstance(first, dict) and not first.get("data") and first.keys() & _PAGE_KEYS
    if not _is_x(first) and not empty_page:
        keys = ", ".join(list(first)[:6]) if isinstance(first, dict) else type(first).__name__
        raise InputError(
            f"is JSON but not X API v2 data (its first record has: {keys}). Choose the "
            "format that matches the file, or see docs/import-x.md for what x-v2 reads.",
            path=path,
        )
    fallback: list[datetime] = []

    def captured() -> datetime:  # only files without __twarc need it; computed once
        if not fallback:
            given = options.captured_at
            if given is None:
                given = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            fallback.append(given if given.tzinfo else given.replace(tzinfo=UTC))
        return fallback[0]

    reader = PageReader(captured)
    primary = reader.snapshots if looks_like_users(first) else reader.posts
    relations: list[tuple[Table, Kind, str]] = [
        (reader.posts, "posts", f"{path.name}, record "),
        (reader.snapshots, "account_snapshots", f"{path.name}, record "),
    ]
    # Millions of long-lived objects and no cycles: the cyclic collector would rescan them
    # again and again (a third of the time), so it rests until they are Arrow columns.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for place, value, error, text in _units(path, compiled):
            if isinstance(value, CompiledPage):
                reader.compiled(value, place)
            elif error is not None:
                primary.reject(text, error.reason, f"{place}: {error.detail}")
            else:
                reader.record(value, place, primary)
        return [
            staged_from_arrow(
                table.to_arrow(), kind=kind, source_format=FORMAT_NAME, origin_label=label
            )
            for table, kind, label in relations
            if len(table) or table is primary
        ]
    finally:
        if collecting:
            gc.enable()
