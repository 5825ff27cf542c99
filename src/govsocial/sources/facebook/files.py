"""Facebook Graph API JSON files → posts and Page follower snapshots.

A file holds what ``GET /{page-id}/feed`` returned, as received: one page of posts
``{"data": [post, ...], "paging": {"cursors": {...}, "next": "https://graph.facebook.com/
v10.0/19292868552/feed?fields=...&after=..."}}``, a JSON array of such pages, one page per
line (JSONL), a single post (``GET /{post-id}``) or a Page object (``GET /{page-id}``), which
may carry its posts in a ``feed``/``posts``/``published_posts`` edge. The record types are in
:mod:`govsocial.sources.facebook.records`; docs/import-facebook-instagram.md is the user's guide.

Records are numbered in file order (posts, Page objects, errors, unreadable lines): the
``record N`` of an origin. A file that *is* an error envelope holds nothing to import and is
refused; an error object among pages is a quarantined record (``api_error``). A file holding
Instagram media or users is refused, naming ``--format instagram-graph``.

A comment is not a post: a ``GET /{post-id}/comments`` page (its paging URL lists
``comments``) or an object with a field only comments have (``like_count``, ``can_remove``,
…) is quarantined (``unsupported_kind``). Without either, a comment (``id``,
``created_time``, ``from``, ``message``) cannot be told from a post.

A Page object is read as the Page it is (id, username, name: its posts' account) and its
follower reading; a bad count quarantines the reading alone, and its posts keep the Page's
username and name.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from govsocial.errors import RecordError
from govsocial.sources.api import error_in_head
from govsocial.sources.capture import captured_at, time_zone
from govsocial.sources.documents import json_head
from govsocial.sources.facebook.records import FacebookPage, FacebookPageReading, FacebookPost
from govsocial.sources.graph import (
    Item,
    data_items,
    lists_edge,
    pages_edge,
    placed,
    quarantine,
    read_items,
    requested_fields,
    staged,
    within,
)
from govsocial.sources.rows import Rows
from govsocial.sources.staging import ImportOptions, Staged

FORMAT_NAME = "facebook-graph"
_EDGES = ("feed", "posts", "published_posts")  # a Page object's edges that list its posts
_PAGE_KEYS = ("fan_count", "followers_count", "category", *_EDGES)
_POST_ID = re.compile(r"^\d+_\d+$")
# Fields of a Graph API Comment that a Post does not have (a post has `attachments`, a comment
# `attachment`; a post's likes are an edge, a comment's a `like_count`).
_COMMENT_FIELDS = (
    "like_count",
    "comment_count",
    "can_remove",
    "user_likes",
    "parent",
    "attachment",
)
_INSTAGRAM_MEDIA = ("IMAGE", "VIDEO", "CAROUSEL_ALBUM")
_INSTAGRAM_USER = ("business_discovery", "media_count", "follows_count")

_CREATED = re.compile(rb'"created_time"\s*:\s*"\d{4}-\d\d-\d\dT')
_POST_MARK = re.compile(
    rb'"id"\s*:\s*"\d+_\d+"|"(?:reactions|shares|permalink_url|status_type)"\s*:'
)
_PAGE_MARK = re.compile(rb'"fan_count"\s*:\s*\d')
_FOLLOWERS = re.compile(rb'"followers_count"\s*:\s*\d')
_CATEGORY = re.compile(rb'"category"\s*:\s*"')
# Instagram's Graph API responses are the instagram-graph format's, not ours.
_INSTAGRAM = re.compile(
    rb'"media_type"\s*:\s*"(?:IMAGE|VIDEO|CAROUSEL_ALBUM)"|"media_count"\s*:|"business_discovery"'
)


def sniff(path: Path, head: bytes) -> bool:
    """Posts with ``created_time`` and Graph ids or engagement fields, a Page, a page of
    results whose paging URL lists a Page's posts (``graph.facebook.com/v10.0/{page-id}/feed``,
    ``/posts``, ``/published_posts``: the last page of a download holds none), or a Graph
    error envelope (its ``fbtrace_id``/``...Exception`` type; YouTube's errors have neither)."""
    if json_head(head) is None or _INSTAGRAM.search(head):
        return False
    if _CREATED.search(head) and _POST_MARK.search(head):
        return True
    if pages_edge(head, ("graph.facebook.com",), _EDGES):
        return True
    if _PAGE_MARK.search(head) or (_FOLLOWERS.search(head) and _CATEGORY.search(head)):
        return True
    return error_in_head(head, graph=True)


def _classify(doc: Mapping[str, Any], place: str) -> Iterator[Item[None]]:
    if "data" in doc and "created_time" not in doc:
        yield from data_items(doc, place, "post", "post")
    elif "created_time" not in doc and any(k in doc for k in _PAGE_KEYS):
        # Kept without its post edges: their posts are records of their own.
        yield Item("page", {k: v for k, v in doc.items() if k not in _EDGES}, place)
        for edge in _EDGES:
            if isinstance(doc.get(edge), Mapping):
                yield from data_items(doc[edge], within(place, edge), "post", "post")
    else:
        yield Item("post", doc, place)


def _recognised(item: Item[None]) -> bool:
    if item.kind != "post":
        return item.kind in ("page", "error")
    post_id = item.raw.get("id")
    graph_id = isinstance(post_id, str) and bool(_POST_ID.match(post_id))
    return "created_time" in item.raw or graph_id


def _foreign(item: Item[None]) -> str | None:
    """Instagram's objects: media (``media_type`` IMAGE…) and users (``business_discovery``)."""
    raw = item.raw
    if raw.get("media_type") in _INSTAGRAM_MEDIA:
        what = f"an Instagram media object (media_type {raw['media_type']})"
    elif any(key in raw for key in _INSTAGRAM_USER):
        what = "an Instagram user (business_discovery, media_count or follows_count)"
    else:
        return None
    return (
        f"is {what}, not Facebook: the file holds Instagram Graph API data. Import it with "
        "--format instagram-graph (or --format auto)."
    )


def _is_comment(item: Item[None]) -> bool:
    """A comment from a ``/{object-id}/comments`` listing, or with a comment's own fields."""
    return lists_edge(item.paging, "comments") or any(k in item.raw for k in _COMMENT_FIELDS)


def stage(path: Path, options: ImportOptions) -> list[Staged]:
    items = read_items(
        path,
        "Facebook Graph API",
        _classify,
        recognised=_recognised,
        foreign=_foreign,
        nothing_found=(
            "no Facebook post, Page or Graph API error found (posts have created_time and ids "
            "like 19292868552_10158349356748553). Choose another --format."
        ),
    )
    zone = time_zone(options)
    captured = captured_at(path, options)
    pages: dict[int, FacebookPage | RecordError] = {}
    for index, item in enumerate(items):
        if item.kind == "page":
            try:
                pages[index] = FacebookPage.from_payload(item.raw)
            except RecordError as exc:
                pages[index] = exc
    known = {p.page_id: p for p in pages.values() if isinstance(p, FacebookPage)}
    numbers = itertools.count(1)  # records are numbered across both relations, in file order
    posts = Rows("posts", "facebook", numbers=numbers)
    snapshots = Rows("account_snapshots", "facebook", numbers=numbers)

    def post_values(item: Item[None]) -> dict[str, object]:
        post = FacebookPost.from_payload(
            item.raw, requested=requested_fields(item.paging), zone=zone
        )
        page = known.get(post.page_id)
        return {
            "account_platform_id": post.page_id,
            "account_handle": page.username if page else None,
            "account_name": (page.name if page else None) or post.page_name,
            "post_id": post.post_id,
            "posted_at": post.posted_at,
            "captured_at": captured,
            "media_type": post.media_type,
            "text": post.text,
            "url": post.url,
            "is_repost": post.is_repost,
            "is_reply_to_other": False,  # comments are an edge of a post, never a feed item
            "reactions": post.reactions,
            "likes": post.likes,
            "comments": post.comments,
            "shares": post.shares,
        }

    def page_values(item: Item[None], page: FacebookPage | RecordError) -> dict[str, object]:
        if isinstance(page, RecordError):
            raise page
        reading = FacebookPageReading.from_payload(item.raw, page)
        return {
            "account_platform_id": page.page_id,
            "account_handle": page.username,
            "account_name": page.name,
            "captured_at": captured,
            "followers": reading.followers,
        }

    for index, item in enumerate(items):
        if item.kind == "post" and _is_comment(item):
            detail = (
                "a comment, not a post: a comment counts in its post's comments, and a reply "
                "to others is not an original post"
            )
            posts.reject(item.raw, "unsupported_kind", placed(item.place, detail))
        elif item.kind == "post":
            posts.build(item.raw, partial(post_values, item), item.place)
        elif item.kind == "page":
            snapshots.build(item.raw, partial(page_values, item, pages[index]), item.place)
        else:
            quarantine(posts, item)
    return staged(path, FORMAT_NAME, posts, snapshots)
