"""Instagram Graph API JSON files → posts and account follower snapshots.

A file holds what the API returned, as received: a page of ``GET /{ig-user-id}/media``
``{"data": [media, ...], "paging": {"cursors": {...}, "next": "https://graph.facebook.com/
v6.0/17841406338772941/media?fields=...&after=..."}}``, a JSON array of pages, one page per
line (JSONL), a single media object, or the user (``GET /{ig-user-id}``, or
``business_discovery`` of another account), which may carry its posts in a ``media`` edge.
Records are in :mod:`govsocial.sources.instagram.records`; the user's guide is
docs/import-facebook-instagram.md.

The account of a media object, first found wins: its own ``owner.id``/``username``; the user
object it is nested in; the user id in its page's paging URL (``.../{ig-user-id}/media?...``);
the file's only user object. Without any, the record is quarantined (``missing_field``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

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
from govsocial.sources.facebook.rows import Rows, quarantine_or
from govsocial.sources.instagram.records import InstagramMedia, InstagramUser
from govsocial.sources.staging import ImportOptions, Staged

FORMAT_NAME = "instagram-graph"
_USER_KEYS = ("followers_count", "follows_count", "media_count", "username", "media")
_MEDIA_EDGE = re.compile(
    r"^https?://graph\.(?:facebook|instagram)\.com/(?:v\d+(?:\.\d+)?/)?(\d+)/media(?:[?#]|$)"
)

_JSON_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*[\[{]")
_MEDIA_TYPE = re.compile(rb'"media_type"\s*:\s*"(?:IMAGE|VIDEO|CAROUSEL_ALBUM)"')
_USER = re.compile(rb'"media_count"\s*:\s*\d')
_USERNAME = re.compile(rb'"username"\s*:\s*"')
_DISCOVERY = re.compile(rb'"business_discovery"\s*:\s*\{')
_LIKES = re.compile(rb'"like_count"\s*:\s*\d')
_TIMESTAMP = re.compile(rb'"timestamp"\s*:\s*"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000"')
_PERMALINK = re.compile(rb'"permalink"\s*:\s*"https://www\.instagram\.com/')
_FACEBOOK = re.compile(rb'"created_time"\s*:')  # Facebook posts; Instagram writes timestamp


def sniff(path: Path, head: bytes) -> bool:
    """Media with an Instagram ``media_type`` (or likes, a ``+0000`` timestamp and an
    instagram.com permalink), a user with ``media_count``, or ``business_discovery``."""
    if not _JSON_START.match(head) or _FACEBOOK.search(head):
        return False
    if _MEDIA_TYPE.search(head) or _DISCOVERY.search(head):
        return True
    if _USER.search(head) and _USERNAME.search(head):
        return True
    return bool(_LIKES.search(head) and _TIMESTAMP.search(head) and _PERMALINK.search(head))


@dataclass(frozen=True)
class _Record:
    kind: Literal["media", "user", "error", "bad"]
    raw: Any  # the JSON value as received (raw dicts stay in this package)
    user: InstagramUser | None = None  # the user record, or the user a media is nested in
    page_owner: str | None = None  # the user id in the media's paging URL
    reason: str = ""
    detail: str = ""


def _paging_owner(paging: object) -> str | None:
    if isinstance(paging, Mapping):
        for key in ("next", "previous"):
            url = paging.get(key)
            found = _MEDIA_EDGE.match(url) if isinstance(url, str) else None
            if found:
                return found.group(1)
    return None


def _page_items(envelope: Mapping[str, Any], user: InstagramUser | None) -> Iterator[_Record]:
    data = envelope.get("data")
    if not isinstance(data, list):
        yield _Record("bad", envelope, reason="bad_value", detail="field data is not a list")
        return
    owner = _paging_owner(envelope.get("paging"))
    for item in data:
        if is_error(item):
            yield _Record("error", item)
        elif not isinstance(item, Mapping):
            yield _Record("bad", item, reason="bad_value", detail=f"{item!r} is not a media object")
        else:
            yield _Record("media", item, user=user, page_owner=owner)


def _user_items(doc: Mapping[str, Any]) -> Iterator[_Record]:
    edge = doc.get("media")
    stripped = {k: v for k, v in doc.items() if k != "media"}  # its media are records too
    try:
        user: InstagramUser | None = InstagramUser.from_payload(doc)
    except RecordError as exc:
        user = None
        yield _Record("user", stripped, reason=exc.reason, detail=exc.detail)
    # A user object without followers_count that only carries its media is their container.
    if user is not None and (user.followers is not None or not isinstance(edge, Mapping)):
        yield _Record("user", stripped, user=user)
    if isinstance(edge, Mapping):
        yield from _page_items(edge, user)


def _records(documents: list[Any]) -> Iterator[_Record]:
    for doc in flatten(documents):
        if isinstance(doc, BadLine):
            yield _Record("bad", doc.text, reason="bad_json", detail=doc.detail)
        elif not isinstance(doc, Mapping):
            yield _Record("bad", doc, reason="bad_value", detail=f"{doc!r} is not a JSON object")
        elif is_error(doc):
            yield _Record("error", doc)
        elif isinstance(doc.get("business_discovery"), Mapping):
            yield from _user_items(doc["business_discovery"])
        elif "timestamp" in doc or "media_type" in doc:
            yield _Record("media", doc)
        elif "data" in doc:
            yield from _page_items(doc, None)
        elif any(k in doc for k in _USER_KEYS):
            yield from _user_items(doc)
        else:
            yield _Record("media", doc)


def _recognised(record: _Record) -> bool:
    if record.kind in ("user", "error"):
        return True
    raw = record.raw
    return record.kind == "media" and (
        raw.get("media_type") in ("IMAGE", "VIDEO", "CAROUSEL_ALBUM")
        or ("timestamp" in raw and "permalink" in raw)
    )


def stage(path: Path, options: ImportOptions) -> list[Staged]:
    documents = read_documents(path, "Instagram Graph API")
    refuse_error_response(path, documents)
    records = list(_records(documents))
    if records and not any(_recognised(r) for r in records):
        raise InputError(
            "no Instagram media, user or Graph API error found (media have media_type IMAGE, "
            "VIDEO or CAROUSEL_ALBUM and a timestamp). Choose another --format.",
            path=path,
        )
    zone = time_zone(options)
    captured = captured_at(path, options)
    users = {(r.user.user_id, r.user.username): r.user for r in records if r.user is not None}
    handles = {u.user_id: u.username for u in users.values() if u.user_id and u.username}
    ids = {u.username.lower(): u.user_id for u in users.values() if u.user_id and u.username}
    only_user = next(iter(users.values())) if len(users) == 1 else None

    def media_values(record: _Record) -> dict[str, object]:
        media = InstagramMedia.from_payload(record.raw, zone=zone)
        user_id, username = media.owner_id, media.username
        if user_id is None and username is None:
            user = record.user or (None if record.page_owner else only_user)
            user_id = user.user_id if user else record.page_owner
            username = user.username if user else None
        if user_id is None and username is None:
            raise RecordError(
                "missing_field",
                "no account for this media: it has no owner.id or username, is not inside a "
                "user object, and no paging URL names the user (an album's children listing "
                "has none: children are parts of a post, not posts). Request the username field",
            )
        return {
            "platform": "instagram",
            "account_platform_id": user_id or ids.get((username or "").lower()),
            "account_handle": username or handles.get(user_id or ""),
            "post_id": media.media_id,
            "posted_at": media.posted_at,
            "captured_at": captured,
            "media_type": media.media_type,
            "text": media.caption,
            "url": media.url,
            "is_repost": False,
            "likes": media.likes,
            "comments": media.comments,
            "views": media.views,
            "saves": media.saves,
            "shares": media.shares,
        }

    posts, snapshots = Rows("posts"), Rows("account_snapshots")
    for number, record in enumerate(records, start=1):
        if record.kind == "media":
            quarantine_or(posts, number, record.raw, partial(media_values, record))
        elif record.kind == "error":
            detail = ApiError.from_payload(record.raw).describe()
            posts.bad(number, record.raw, "api_error", detail)
        elif record.kind == "bad":
            posts.bad(number, record.raw, record.reason, record.detail)
        elif record.user is None:
            snapshots.bad(number, record.raw, record.reason, record.detail)
        else:
            values = {
                "platform": "instagram",
                "account_platform_id": record.user.user_id,
                "account_handle": record.user.username,
                "captured_at": captured,
                "followers": record.user.followers,  # NULL → quarantined (missing_value)
                "following": record.user.following,
                "posts_count": record.user.media_count,
            }
            snapshots.good(number, record.raw, values)
    label = f"{path.name}, record "
    staged = [rows.staged(FORMAT_NAME, label) for rows in (posts, snapshots) if len(rows)]
    return staged or [posts.staged(FORMAT_NAME, label)]
