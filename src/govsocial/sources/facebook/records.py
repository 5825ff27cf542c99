"""Facebook Graph API records: a Page post and a Page, each read in one ``from_payload``.

A post of ``GET /{page-id}/feed`` (https://developers.facebook.com/docs/graph-api/reference/page/feed)
or ``GET /{post-id}`` (https://developers.facebook.com/docs/graph-api/reference/post), with the
engagement summaries requested as field expansions::

    {"id": "19292868552_10158349356748553",          # {page id}_{post id}
     "created_time": "2021-07-09T19:09:52+0000",
     "message": "...", "permalink_url": "https://www.facebook.com/19292868552/posts/1015...",
     "status_type": "added_photos", "parent_id": "...",   # parent_id: a share of another post
     "attachments": {"data": [{"media_type": "photo", "type": "photo", "url": "..."}]},
     "reactions": {"data": [], "summary": {"total_count": 125, "viewer_reaction": "NONE"}},
     "like": {"data": [], "summary": {"total_count": 119}},  # reactions.type(LIKE).as(like)
     "comments": {"data": [], "summary": {"total_count": 13, "can_comment": true}},
     "shares": {"count": 10}}                          # ABSENT when the post has no shares

A Page (https://developers.facebook.com/docs/graph-api/reference/page)::

    {"id": "20531316728", "name": "Facebook", "username": "facebookapp",
     "fan_count": 214507731, "followers_count": 215000000, "category": "..."}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from govsocial.sources.facebook.graph import (
    RecordError,
    count,
    identifier,
    mapping,
    text,
    timestamp,
)

# The attachment `type` values that are videos (the `media_type` says "video" for most).
_VIDEO_TYPES = ("video", "video_inline", "video_autoplay", "video_direct_response", "animated_")
_IMAGE_TYPES = ("photo", "cover_photo", "profile_media", "new_album_photo")
_LINK_TYPES = ("share", "link", "native_templates", "event", "note", "map", "fundraiser")


def summary_total(payload: Mapping[str, Any], field: str) -> int | None:
    """``{field: {"summary": {"total_count": N}}}`` → N; the field absent → None."""
    edge = mapping(payload.get(field), field)
    if edge is None:
        return None
    # Requested without .summary(true), the edge lists people but gives no total: not known.
    summary = mapping(edge.get("summary"), f"{field}.summary") or {}
    return count(summary.get("total_count"), f"{field}.summary.total_count")


def media_type(attachments: Mapping[str, Any] | None) -> str:
    """The post's media type, from its first attachment; no attachment → a text post."""
    if attachments is None:
        return "text"
    data = attachments.get("data")
    if not isinstance(data, list):
        raise RecordError("bad_value", "field attachments.data is not a list")
    if not data:
        return "text"
    first = mapping(data[0], "attachments.data[0]") or {}
    kind = text(first.get("media_type"), "attachments.data[0].media_type") or ""
    sub = text(first.get("type"), "attachments.data[0].type") or ""
    url = text(first.get("url"), "attachments.data[0].url") or ""
    if "reel" in sub or "/reel/" in url:
        return "reel"
    if kind == "album" or (sub.endswith("album") and sub != "new_album_photo"):
        return "carousel"
    if kind == "video" or sub.startswith(_VIDEO_TYPES):
        return "video"
    if kind == "photo" or sub in _IMAGE_TYPES:
        return "image"
    if kind == "link" or sub in _LINK_TYPES or url:
        return "link"
    return "text"


@dataclass(frozen=True)
class FacebookPost:
    post_id: str
    page_id: str
    posted_at: datetime
    media_type: str
    text: str | None
    url: str
    is_repost: bool
    reactions: int | None
    likes: int | None
    comments: int | None
    shares: int | None

    @classmethod
    def from_payload(
        cls, payload: Mapping[str, Any], *, shares_requested: bool | None, zone: tzinfo
    ) -> FacebookPost:
        """``shares_requested``: whether the request asked for ``shares`` (None: not known).

        The Graph API leaves ``shares`` out of a post that has none (it omits every field
        without a value: ``single_post_data.json``, requested with python-facebook's default
        fields, ``shares`` among them, also lacks ``attachments`` and ``full_picture``). So
        an absent ``shares`` is 0 when the field was requested: when the page's paging URL
        lists it, or, lacking a URL, when the post carries ``reactions`` or ``comments`` (an
        engagement request); otherwise it is not known.
        """
        post_id = identifier(payload.get("id"), "id")
        page_id, _, rest = post_id.partition("_")
        if not rest:  # an id without the {page id}_ prefix: the author is `from`
            author = mapping(payload.get("from"), "from") or {}
            if author.get("id") is None:
                raise RecordError(
                    "missing_field", f"id {post_id!r} has no page part and there is no from.id"
                )
            page_id = identifier(author.get("id"), "from.id")
        posted_at = timestamp(payload.get("created_time"), "created_time", zone)
        reactions = summary_total(payload, "reactions")
        comments = summary_total(payload, "comments")
        shares_edge = mapping(payload.get("shares"), "shares")
        if shares_edge is not None:
            shares = count(shares_edge.get("count"), "shares.count")
        elif shares_requested or (
            shares_requested is None and (reactions is not None or comments is not None)
        ):
            shares = 0
        else:
            shares = None
        permalink = text(payload.get("permalink_url"), "permalink_url")
        return cls(
            post_id=post_id,
            page_id=page_id,
            posted_at=posted_at,
            media_type=media_type(mapping(payload.get("attachments"), "attachments")),
            text=text(payload.get("message"), "message"),
            url=permalink or f"https://www.facebook.com/{post_id}",
            is_repost=payload.get("parent_id") is not None,
            reactions=reactions,
            likes=summary_total(payload, "like"),
            comments=comments,
            shares=shares,
        )


@dataclass(frozen=True)
class FacebookPage:
    page_id: str
    username: str | None
    name: str | None
    followers: int

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> FacebookPage:
        """``followers_count`` (people following the Page); older exports only have
        ``fan_count`` (people who like it), used when ``followers_count`` is absent."""
        followers = count(payload.get("followers_count"), "followers_count")
        if followers is None:
            followers = count(payload.get("fan_count"), "fan_count")
        if followers is None:
            raise RecordError(
                "missing_field",
                "the page has neither followers_count nor fan_count (request one of them)",
            )
        return cls(
            page_id=identifier(payload.get("id"), "id"),
            username=text(payload.get("username"), "username"),
            name=text(payload.get("name"), "name"),
            followers=followers,
        )
