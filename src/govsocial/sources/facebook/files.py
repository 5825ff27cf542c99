"""Facebook Graph API JSON files → posts and Page follower snapshots.

A file holds what ``GET /{page-id}/feed`` returned, as received: one page of posts
``{"data": [post, ...], "paging": {"cursors": {...}, "next": "https://graph.facebook.com/
v10.0/19292868552/feed?fields=...&after=..."}}``, a JSON array of such pages, one page per
line (JSONL), a single post (``GET /{post-id}``) or a Page object (``GET /{page-id}``), which
may carry its posts in a ``feed``/``posts``/``published_posts`` edge. The record types are in
:mod:`govsocial.sources.facebook.records`; docs/import-facebook-instagram.md is the user's guide.

Records are numbered in file order (posts, Page objects, errors, unreadable lines): the
``record N`` of an origin. A file that *is* an error envelope holds nothing to import and is
refused; an error object among pages is a quarantined record (``api_error``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from govsocial.errors import InputError
from govsocial.sources.facebook.graph import (
    ApiError,
    BadLine,
    RecordError,
    captured_at,
    flatten,
    is_error,
    read_documents,
    refuse_error_response,
    time_zone,
)
from govsocial.sources.facebook.records import FacebookPage, FacebookPost
from govsocial.sources.facebook.rows import Rows, quarantine_or
from govsocial.sources.staging import ImportOptions, Staged

FORMAT_NAME = "facebook-graph"
_EDGES = ("feed", "posts", "published_posts")  # a Page object's edges that list its posts
_PAGE_KEYS = ("fan_count", "followers_count", "category", *_EDGES)
_POST_ID = re.compile(r"^\d+_\d+$")
_SHARES_FIELD = re.compile(r"(?:^|,)shares(?:[,.{]|$)")

_JSON_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*[\[{]")
_CREATED = re.compile(rb'"created_time"\s*:\s*"\d{4}-\d\d-\d\dT')
_POST_MARK = re.compile(
    rb'"id"\s*:\s*"\d+_\d+"|"(?:reactions|shares|permalink_url|status_type)"\s*:'
)
_PAGE_MARK = re.compile(rb'"fan_count"\s*:\s*\d')
_FOLLOWERS = re.compile(rb'"followers_count"\s*:\s*\d')
_CATEGORY = re.compile(rb'"category"\s*:\s*"')
_ERROR = re.compile(rb'"error"\s*:\s*\{')
_ERROR_MARK = re.compile(rb'"fbtrace_id"\s*:|"type"\s*:\s*"\w*Exception"')
# Instagram's Graph API responses are the instagram-graph format's, not ours.
_INSTAGRAM = re.compile(
    rb'"media_type"\s*:\s*"(?:IMAGE|VIDEO|CAROUSEL_ALBUM)"|"media_count"\s*:|"business_discovery"'
)


def sniff(path: Path, head: bytes) -> bool:
    """Posts with ``created_time`` and Graph ids or engagement fields, a Page, or a Graph
    error envelope (its ``fbtrace_id``/``...Exception`` type; YouTube's errors have neither)."""
    if not _JSON_START.match(head) or _INSTAGRAM.search(head):
        return False
    if _CREATED.search(head) and _POST_MARK.search(head):
        return True
    if _PAGE_MARK.search(head) or (_FOLLOWERS.search(head) and _CATEGORY.search(head)):
        return True
    return bool(_ERROR.search(head) and _ERROR_MARK.search(head))


@dataclass(frozen=True)
class _Record:
    kind: Literal["post", "page", "error", "bad"]
    raw: Any  # the JSON value as received (raw dicts stay in this package)
    shares_requested: bool | None = None
    reason: str = ""
    detail: str = ""


def _shares_requested(paging: object) -> bool | None:
    """Whether the page's request asked for ``shares``, read off its paging URL's ``fields``."""
    if not isinstance(paging, Mapping):
        return None
    for key in ("next", "previous"):
        url = paging.get(key)
        if isinstance(url, str):
            fields = parse_qs(urlsplit(url).query).get("fields")
            if fields:
                return bool(_SHARES_FIELD.search(fields[0]))
    return None


def _page_items(envelope: Mapping[str, Any]) -> Iterator[_Record]:
    data = envelope.get("data")
    if not isinstance(data, list):
        yield _Record("bad", envelope, reason="bad_value", detail="field data is not a list")
        return
    requested = _shares_requested(envelope.get("paging"))
    for item in data:
        if is_error(item):
            yield _Record("error", item)
        elif not isinstance(item, Mapping):
            yield _Record("bad", item, reason="bad_value", detail=f"{item!r} is not a post object")
        else:
            yield _Record("post", item, shares_requested=requested)


def _records(documents: list[Any]) -> Iterator[_Record]:
    for doc in flatten(documents):
        if isinstance(doc, BadLine):
            yield _Record("bad", doc.text, reason="bad_json", detail=doc.detail)
        elif not isinstance(doc, Mapping):
            yield _Record("bad", doc, reason="bad_value", detail=f"{doc!r} is not a JSON object")
        elif is_error(doc):
            yield _Record("error", doc)
        elif "data" in doc and "created_time" not in doc:
            yield from _page_items(doc)
        elif "created_time" not in doc and any(k in doc for k in _PAGE_KEYS):
            # Kept without its post edges: their posts are records of their own.
            yield _Record("page", {k: v for k, v in doc.items() if k not in _EDGES})
            for edge in _EDGES:
                if isinstance(doc.get(edge), Mapping):
                    yield from _page_items(doc[edge])
        else:
            yield _Record("post", doc)


def _recognised(record: _Record) -> bool:
    if record.kind in ("page", "error"):
        return True
    if record.kind != "post":
        return False
    post_id = record.raw.get("id")
    return "created_time" in record.raw or (
        isinstance(post_id, str) and bool(_POST_ID.match(post_id))
    )


def stage(path: Path, options: ImportOptions) -> list[Staged]:
    documents = read_documents(path, "Facebook Graph API")
    refuse_error_response(path, documents)
    records = list(_records(documents))
    if records and not any(_recognised(r) for r in records):
        raise InputError(
            "no Facebook post, Page or Graph API error found (posts have created_time and ids "
            "like 19292868552_10158349356748553). Choose another --format.",
            path=path,
        )
    zone = time_zone(options)
    captured = captured_at(path, options)
    pages: dict[int, FacebookPage | RecordError] = {}
    for number, record in enumerate(records, start=1):
        if record.kind == "page":
            try:
                pages[number] = FacebookPage.from_payload(record.raw)
            except RecordError as exc:
                pages[number] = exc
    handles = {
        p.page_id: p.username for p in pages.values() if isinstance(p, FacebookPage) and p.username
    }
    posts, snapshots = Rows("posts"), Rows("account_snapshots")

    def post_values(record: _Record) -> dict[str, object]:
        post = FacebookPost.from_payload(
            record.raw, shares_requested=record.shares_requested, zone=zone
        )
        return {
            "platform": "facebook",
            "account_platform_id": post.page_id,
            "account_handle": handles.get(post.page_id),
            "post_id": post.post_id,
            "posted_at": post.posted_at,
            "captured_at": captured,
            "media_type": post.media_type,
            "text": post.text,
            "url": post.url,
            "is_repost": post.is_repost,
            "reactions": post.reactions,
            "likes": post.likes,
            "comments": post.comments,
            "shares": post.shares,
        }

    for number, record in enumerate(records, start=1):
        if record.kind == "post":
            quarantine_or(posts, number, record.raw, partial(post_values, record))
        elif record.kind == "error":
            detail = ApiError.from_payload(record.raw).describe()
            posts.bad(number, record.raw, "api_error", detail)
        elif record.kind == "bad":
            posts.bad(number, record.raw, record.reason, record.detail)
        else:
            page = pages[number]
            if isinstance(page, RecordError):
                snapshots.bad(number, record.raw, page.reason, page.detail)
                continue
            values = {
                "platform": "facebook",
                "account_platform_id": page.page_id,
                "account_handle": page.username,
                "captured_at": captured,
                "followers": page.followers,
            }
            snapshots.good(number, record.raw, values)
    label = f"{path.name}, record "
    staged = [rows.staged(FORMAT_NAME, label) for rows in (posts, snapshots) if len(rows)]
    return staged or [posts.staged(FORMAT_NAME, label)]
