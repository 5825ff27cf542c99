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
The account's display name is the ``name`` of the file's user object for that account. A
user object is read as two records: the account it is (its id, username and name) and its
follower reading (its counts); a bad count quarantines the reading alone, and its media keep
their account.
A file holding Facebook posts or Pages is refused, naming ``--format facebook-graph``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from govsocial.errors import RecordError
from govsocial.sources.capture import captured_at, time_zone
from govsocial.sources.documents import json_head
from govsocial.sources.graph import (
    Item,
    data_items,
    edge_owner,
    pages_edge,
    quarantine,
    read_items,
    staged,
    within,
)
from govsocial.sources.instagram.records import InstagramAccount, InstagramMedia, InstagramUser
from govsocial.sources.rows import Rows
from govsocial.sources.staging import ImportOptions, Staged

FORMAT_NAME = "instagram-graph"
_USER_KEYS = ("followers_count", "follows_count", "media_count", "username", "media")
# A Facebook Page's fields and edges (an Instagram user has none of them).
_PAGE_KEYS = ("fan_count", "category", "feed", "posts", "published_posts")

_MEDIA_TYPE = re.compile(rb'"media_type"\s*:\s*"(?:IMAGE|VIDEO|CAROUSEL_ALBUM)"')
_USER = re.compile(rb'"media_count"\s*:\s*\d')
_USERNAME = re.compile(rb'"username"\s*:\s*"')
_DISCOVERY = re.compile(rb'"business_discovery"\s*:\s*\{')
_LIKES = re.compile(rb'"like_count"\s*:\s*\d')
_TIMESTAMP = re.compile(rb'"timestamp"\s*:\s*"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000"')
_PERMALINK = re.compile(rb'"permalink"\s*:\s*"https://www\.instagram\.com/')
_FACEBOOK = re.compile(rb'"created_time"\s*:')  # Facebook posts; Instagram writes timestamp
_GRAPH_HOSTS = ("graph.facebook.com", "graph.instagram.com")  # Instagram Login's API: the 2nd


def sniff(path: Path, head: bytes) -> bool:
    """Media with an Instagram ``media_type`` (or likes, a ``+0000`` timestamp and an
    instagram.com permalink), a user with ``media_count``, ``business_discovery``, or a page
    of results whose paging URL lists a user's media (``graph.facebook.com/v19.0/
    {ig-user-id}/media``, or graph.instagram.com: the last page of a download holds none)."""
    if json_head(head) is None or _FACEBOOK.search(head):
        return False
    if _MEDIA_TYPE.search(head) or _DISCOVERY.search(head):
        return True
    if pages_edge(head, _GRAPH_HOSTS, ("media",)):
        return True
    if _USER.search(head) and _USERNAME.search(head):
        return True
    return bool(_LIKES.search(head) and _TIMESTAMP.search(head) and _PERMALINK.search(head))


# What a user object gives the records it holds: its account, or why it has none.
Owner = InstagramAccount | RecordError


def _user_items(doc: Mapping[str, Any], place: str) -> Iterator[Item[Owner]]:
    edge = doc.get("media")
    stripped = {k: v for k, v in doc.items() if k != "media"}  # its media are records too
    account: Owner
    try:
        account = InstagramAccount.from_payload(doc)
    except RecordError as exc:
        account = exc
    # A user object without followers_count that only carries its media is their container,
    # not a reading (unless it is unreadable: then it is quarantined, saying why).
    container = doc.get("followers_count") is None and isinstance(edge, Mapping)
    if not container or isinstance(account, RecordError):
        yield Item("user", stripped, place, parent=account)
    if isinstance(edge, Mapping):
        media: Iterator[Item[Owner]] = data_items(
            edge, within(place, "media"), "media", "item", account
        )
        yield from media


def _classify(doc: Mapping[str, Any], place: str) -> Iterable[Item[Owner]]:
    if isinstance(doc.get("business_discovery"), Mapping):
        return _user_items(doc["business_discovery"], place)
    if "timestamp" in doc or "media_type" in doc:
        return [Item("media", doc, place)]
    if "data" in doc:
        return data_items(doc, place, "media", "item", None)
    if any(k in doc for k in _USER_KEYS):
        return _user_items(doc, place)
    return [Item("media", doc, place)]


def _recognised(item: Item[Owner]) -> bool:
    if item.kind in ("user", "error"):
        return True
    raw = item.raw
    return item.kind == "media" and (
        raw.get("media_type") in ("IMAGE", "VIDEO", "CAROUSEL_ALBUM")
        or ("timestamp" in raw and "permalink" in raw)
    )


def _foreign(item: Item[Owner]) -> str | None:
    """Facebook's objects: Pages (``fan_count``, ``category``, a ``feed``) and posts."""
    if any(key in item.raw for key in _PAGE_KEYS):
        what = "a Facebook Page (fan_count, category or a feed edge)"
    elif "created_time" in item.raw:
        what = "a Facebook post (created_time; Instagram media have a timestamp)"
    else:
        return None
    return (
        f"is {what}, not Instagram: the file holds Facebook Graph API data. Import it with "
        "--format facebook-graph (or --format auto)."
    )


class _Accounts:
    """The file's Instagram accounts, to complete a media's account (id ↔ handle, name)."""

    def __init__(self, items: list[Item[Owner]]) -> None:
        users = {
            (i.parent.user_id, i.parent.username): i.parent
            for i in items
            if isinstance(i.parent, InstagramAccount)
        }
        self.by_id = {u.user_id: u for u in users.values() if u.user_id}
        self.by_handle = {u.username.lower(): u for u in users.values() if u.username}
        self.only = next(iter(users.values())) if len(users) == 1 else None

    def match(self, user_id: str | None, username: str | None) -> InstagramAccount | None:
        """The user with this id; else with this handle (unless its id is another)."""
        if user_id is not None and user_id in self.by_id:
            return self.by_id[user_id]
        found = self.by_handle.get(username.lower()) if username else None
        if found is not None and (user_id is None or found.user_id in (None, user_id)):
            return found
        return None


def stage(path: Path, options: ImportOptions) -> list[Staged]:
    items = read_items(
        path,
        "Instagram Graph API",
        _classify,
        recognised=_recognised,
        foreign=_foreign,
        nothing_found=(
            "no Instagram media, user or Graph API error found (media have media_type IMAGE, "
            "VIDEO or CAROUSEL_ALBUM and a timestamp). Choose another --format."
        ),
    )
    zone = time_zone(options)
    captured = captured_at(path, options)
    accounts = _Accounts(items)

    def media_values(item: Item[Owner]) -> dict[str, object]:
        media = InstagramMedia.from_payload(item.raw, zone=zone)
        user_id, username = media.owner_id, media.username
        if user_id is None and username is None:
            if isinstance(item.parent, RecordError):
                raise RecordError(
                    "missing_field",
                    "no account for this media: it has no owner.id or username, and the user "
                    f"object it is in names none ({item.parent.detail})",
                )
            page_owner = edge_owner(item.paging, "media")
            user = item.parent or (None if page_owner else accounts.only)
            user_id = user.user_id if user else page_owner
            username = user.username if user else None
        if user_id is None and username is None:
            raise RecordError(
                "missing_field",
                "no account for this media: it has no owner.id or username, is not inside a "
                "user object, and no paging URL names the user (an album's children listing "
                "has none: children are parts of a post, not posts). Request the username field",
            )
        known = accounts.match(user_id, username)
        return {
            "account_platform_id": user_id or (known.user_id if known else None),
            "account_handle": username or (known.username if known else None),
            "account_name": known.name if known else None,
            "post_id": media.media_id,
            "posted_at": media.posted_at,
            "captured_at": captured,
            "media_type": media.media_type,
            "text": media.caption,
            "url": media.url,
            "is_repost": False,
            "is_reply_to_other": False,  # comments are an edge of a media, never a media
            "likes": media.likes,
            "comments": media.comments,
            "views": media.views,
            "saves": media.saves,
            "shares": media.shares,
        }

    def user_values(item: Item[Owner]) -> dict[str, object]:
        if isinstance(item.parent, RecordError) or item.parent is None:
            raise item.parent or RecordError("missing_field", "the user object has no account")
        user = InstagramUser.from_payload(item.raw, item.parent)
        return {
            "account_platform_id": user.account.user_id,
            "account_handle": user.account.username,
            "account_name": user.account.name,
            "captured_at": captured,
            "followers": user.followers,  # NULL → quarantined (missing_value)
            "following": user.following,
            "posts_count": user.media_count,
        }

    numbers = itertools.count(1)  # records are numbered across both relations, in file order
    posts = Rows("posts", "instagram", numbers=numbers)
    snapshots = Rows("account_snapshots", "instagram", numbers=numbers)
    for item in items:
        if item.kind == "media":
            posts.build(item.raw, partial(media_values, item), item.place)
        elif item.kind == "user":
            snapshots.build(item.raw, partial(user_values, item), item.place)
        else:
            quarantine(posts, item)
    return staged(path, FORMAT_NAME, posts, snapshots)
