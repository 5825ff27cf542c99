"""Read an X API v2 file (twarc2 JSONL, a saved JSON response) into staged relations.

The file is read by the shared JSON reader (:func:`govsocial.sources.documents.read_documents`):
JSON Lines, one API page per line as twarc2 writes it (``twarc2 search``, ``timeline``,
``stream``, ``users``, ``flatten``), or a single JSON document: one page, or a list of
pages, tweets or users, such as academictwitteR's ``data_<id>.json`` (an array of bare
tweets, usually indented) and ``users_<id>.json``. A line that cannot be read (cut off by an
interrupted write, not JSON, not UTF-8) is quarantined and the rest loads. Ordinary pages are
decoded by ``compiled.py`` through the reader's ``fast`` hook.

Record numbers: a page holds many records (tweets, its users' follower counts, errors), so
records are numbered in reading order across the file (``noflat.jsonl, record 57``), and every
quarantine detail starts with the exact place (``line 1, data[56]``; ``line 3, errors[0]``;
``element 4`` of an array). Docs: docs/import-x.md.
"""

from __future__ import annotations

import gc
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from govsocial.errors import InputError
from govsocial.sources.capture import captured_at
from govsocial.sources.documents import Document, json_head, read_documents
from govsocial.sources.rows import Rows, stage_rows
from govsocial.sources.staging import ImportOptions, Staged
from govsocial.sources.x.compiled import CompiledPage, decode_page
from govsocial.sources.x.pages import PageReader, is_includes, looks_like_users

FORMAT_NAME = "x-v2"
WHAT = "X API v2"

_PAGE_KEYS = {"errors", "meta"}  # a page with no data: only errors, or the last empty page
_KEY = re.compile(rb'"(\w+)"\s*:')  # an object key (a quoted word inside a string is escaped)
# Keys only X tweets have (besides author_id, which alone is too common a name).
_TWEET_KEYS = {
    b"edit_history_tweet_ids",
    b"conversation_id",
    b"retweet_count",
    b"quote_count",
    b"referenced_tweets",
    b"in_reply_to_user_id",
    b"reply_settings",
}


def _is_x(value: Any) -> bool:
    """Whether a record is X API v2 data: a page of tweets or users, a bare tweet or user
    (twarc2 ``flatten``, academictwitteR), a page's ``includes`` saved alone
    (academictwitteR), or anything twarc wrote (``__twarc``)."""
    if isinstance(value, list):
        return bool(value) and _is_x(value[0])
    if not isinstance(value, dict):
        return False
    if "__twarc" in value:
        return True
    if is_includes(value):  # academictwitteR's users_<id>.json
        return _is_x(value["users"])
    data = value.get("data", value)
    item = data[0] if isinstance(data, list) and data else data
    if not isinstance(item, dict):
        return False
    if "author_id" in item and item.keys() & {"text", "edit_history_tweet_ids", "created_at"}:
        return True
    metrics = item.get("public_metrics")
    return "username" in item and isinstance(metrics, dict) and "followers_count" in metrics


def _has_x_keys(head: bytes) -> bool:
    """Whether a first record cut short by the head (longer than 64 KiB) names X's fields."""
    keys = set(_KEY.findall(head))
    if b"__twarc" in keys:
        return True
    if b"author_id" in keys and keys & _TWEET_KEYS:
        return True
    # A user: Instagram's also has username and followers_count, but not these two.
    return {b"username", b"followers_count"} <= keys and bool(
        keys & {b"tweet_count", b"listed_count"}
    )


def sniff(path: Path, head: bytes) -> bool:
    """X API v2 JSON: the first record is a page of tweets or users, a bare tweet or user, or
    carries ``__twarc``; when it is longer than ``head``, its field names say so."""
    try:
        text = json_head(head)
        if text is None:
            return False
        for candidate in (text.split(b"\n", 1)[0], text):
            try:
                return _is_x(json.loads(candidate))
            except ValueError:
                continue
        # The first record is longer than the head (a 100-tweet page easily is), or an
        # indented array's first element is cut: judge by the keys seen.
        return _has_x_keys(text)
    except Exception:  # sniffing must never fail the detection of other formats
        return False


def _refuse(path: Path, first: Any) -> InputError:
    keys = ", ".join(list(first)[:6]) if isinstance(first, dict) else type(first).__name__
    return InputError(
        f"is JSON but not X API v2 data (its first record has: {keys}). Choose the "
        "format that matches the file, or see docs/import-x.md for what x-v2 reads.",
        path=path,
    )


def stage(path: Path, options: ImportOptions, compiled: bool = True) -> list[Staged]:
    """The file's tweets (posts) and the follower counts it carries (account snapshots).

    Ordinary pages are decoded by ``compiled.py``; ``compiled=False`` reads every line on the
    reference path instead (the tests compare the two).
    """
    fallback: list[datetime] = []

    def captured() -> datetime:  # only pages without __twarc.retrieved_at need it: once
        if not fallback:
            fallback.append(captured_at(path, options))
        return fallback[0]

    reader = PageReader(captured)
    primary: Rows | None = None  # where unreadable lines go: decided by the first record
    unread: list[Document] = []  # unreadable lines before the first readable record
    # Millions of long-lived objects and no cycles: the cyclic collector would rescan them
    # again and again (a third of the time), so it rests until they are Arrow columns.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for document in read_documents(path, WHAT, fast=decode_page if compiled else None):
            value, place = document.value, document.place
            if primary is None:
                if document.error is not None:
                    unread.append(document)
                    continue
                primary = _primary(path, reader, value)
                for early in unread:
                    _reject(primary, early)
            if isinstance(value, CompiledPage):
                reader.compiled(value, place)
            elif document.error is not None:
                _reject(primary, document)
            else:
                reader.record(value, place, primary)
        if primary is None:  # only empty arrays ("[]"): read_documents refuses the rest
            raise InputError(
                "holds no record (an empty JSON array). Export the data again; see "
                "docs/import-x.md for what x-v2 reads.",
                path=path,
            )
        return stage_rows(
            [reader.posts, reader.snapshots], primary, FORMAT_NAME, f"{path.name}, record "
        )
    finally:
        if collecting:
            gc.enable()


def _primary(path: Path, reader: PageReader, first: Any) -> Rows:
    """The relation the file is about, judged by its first readable record (or a refusal)."""
    if isinstance(first, CompiledPage):
        return reader.posts  # an ordinary page of tweets
    empty_page = isinstance(first, dict) and not first.get("data") and first.keys() & _PAGE_KEYS
    if not _is_x(first) and not empty_page:
        raise _refuse(path, first)
    return reader.snapshots if looks_like_users(first) else reader.posts


def _reject(rows: Rows, document: Document) -> None:
    assert document.error is not None
    rows.reject(document.text, document.error.reason, document.error.detail)
