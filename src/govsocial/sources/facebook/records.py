"""Facebook Graph API records: a Page post and a Page, each read in one ``from_payload``.

A post of ``GET /{page-id}/feed`` (https://developers.facebook.com/docs/graph-api/reference/page/feed)
or ``GET /{post-id}`` (https://developers.facebook.com/docs/graph-api/reference/post), with the
engagement summaries requested as field expansions::

    {"id": "19292868552_10158349356748553",          # {page id}_{post id}
     "created_time": "2021-07-09T19:09:52+0000",
     "from": {"id": "19292868552", "name": "Humas Jabar"},
     "message": "...", "permalink_url": "https://www.facebook.com/19292868552/posts/1015...",
     "status_type": "added_photos", "parent_id": "...",   # parent_id: a share of another post
     "attachments": {"data": [{"media_type": "photo", "type": "photo", "url": "..."}]},
     "reactions": {"data": [], "summary": {"total_count": 125, "viewer_reaction": "NONE"}},
     "like": {"data": [], "summary": {"total_count": 119}},  # reactions.type(LIKE).as(like)
     "comments": {"data": [], "summary": {"total_count": 13, "can_comment": true}},
     "shares": {"count": 10}}                          # ABSENT when the post has no shares

A legacy post (Graph API v1.0–v2.x, before reactions (2016) and before ``type`` went in
v3.3 (2019)) says its kind in ``type`` and counts likes in the ``likes`` edge; v1.0 edges
carried a ``count`` before ``.summary(true)`` existed, and an edge with nothing in it is
left out::

    {"id": "104523441234567_100000000000001", "created_time": "2014-05-01T02:00:00+0000",
     "type": "photo", "status_type": "added_photos", "link": "https://www.facebook.com/...",
     "likes": {"data": [{"id": "...", "name": "..."}], "paging": {...},
               "summary": {"total_count": 123, "can_like": true, "has_liked": false}},
     "comments": {"data": [...], "summary": {"order": "ranked", "total_count": 5}}}

A Page (https://developers.facebook.com/docs/graph-api/reference/page)::

    {"id": "20531316728", "name": "Facebook", "username": "facebookapp",
     "fan_count": 214507731, "followers_count": 215000000, "category": "..."}

is read in two records: the Page it is (:class:`FacebookPage`, whose username and name its
posts take) and its follower reading (:class:`FacebookPageReading`), so a bad count
quarantines the reading alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from govsocial.errors import RecordError
from govsocial.sources.values import count, identifier, mapping, show, text, timestamp

# The attachment `type` values that are videos (the `media_type` says "video" for most).
_VIDEO_TYPES = ("video", "video_inline", "video_autoplay", "video_direct_response", "animated_")
_IMAGE_TYPES = ("photo", "cover_photo", "profile_media", "new_album_photo")
_LINK_TYPES = ("share", "link", "native_templates", "event", "note", "map", "fundraiser")
# A legacy post's `type` (https://developers.facebook.com/docs/graph-api/changelog/version3.3:
# removed in v3.3); "swf" is a Flash video, "offer"/"music"/"event"/"note" are links out.
_LEGACY_TYPES = {
    "status": "text",
    "photo": "image",
    "video": "video",
    "swf": "video",
    "link": "link",
    "offer": "link",
    "event": "link",
    "note": "link",
    "music": "link",
}
# Edges whose presence shows the request asked for engagement counts.
_ENGAGEMENT = ("reactions", "like", "likes", "comments", "shares")


def edge_total(payload: Mapping[str, Any], field: str) -> int | None:
    """``{field: {"summary": {"total_count": N}}}`` (or v1.0's ``{field: {"count": N}}``) → N.

    The edge absent → None; present without a total (requested without ``.summary(true)``,
    it lists people but does not count them) → None: not known."""
    edge = mapping(payload.get(field), field)
    if edge is None:
        return None
    summary = mapping(edge.get("summary"), f"{field}.summary")
    if summary is not None:
        return count(summary.get("total_count"), f"{field}.summary.total_count")
    return count(edge.get("count"), f"{field}.count")


def media_type(attachments: Mapping[str, Any] | None, legacy_type: str | None) -> str:
    """The post's media type: its first attachment, else its legacy ``type``, else text."""
    data = attachments.get("data") if attachments is not None else []
    if not isinstance(data, list):
        raise RecordError("bad_value", f"attachments.data {show(data)} is not a list")
    if not data:
        return _LEGACY_TYPES.get(legacy_type or "", "text")
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


def _absent(asked: bool | None, engaged: bool) -> int | None:
    """An engagement edge the post lacks: the API leaves out an edge with nothing in it, so
    it is 0 when the request asked for it (``asked``; None: not known, then an engagement
    request, ``engaged``, is taken to have asked), else not known."""
    return 0 if asked or (asked is None and engaged) else None


@dataclass(frozen=True)
class FacebookPost:
    post_id: str
    page_id: str
    posted_at: datetime
    media_type: str
    text: str | None
    url: str
    is_repost: bool
    page_name: str | None  # from.name, when from is the Page itself
    reactions: int | None
    likes: int | None
    comments: int | None
    shares: int | None

    @classmethod
    def from_payload(
        cls, payload: Mapping[str, Any], *, requested: frozenset[str] | None, zone: tzinfo | None
    ) -> FacebookPost:
        """``requested``: the top-level fields the request asked for (None: not known).

        The Graph API leaves out every field without a value (``single_post_data.json``,
        requested with python-facebook's default fields, ``shares`` among them, has no
        ``shares``, ``attachments`` or ``full_picture``), and legacy versions left out empty
        ``likes``/``comments`` edges. So an absent ``shares``, ``comments`` or likes is 0
        when the request asked for it: when the page's paging URL lists it or, lacking a
        URL, when the post carries other engagement edges (for likes: a legacy request,
        without ``reactions``, since a modern one gets likes from the ``like`` alias, which
        is always there). ``reactions`` are 0 only when the paging URL lists them.
        """
        post_id = identifier(payload.get("id"), "id")
        author = mapping(payload.get("from"), "from") or {}
        author_id = identifier(author["id"], "from.id") if author.get("id") is not None else None
        page_id, _, rest = post_id.partition("_")
        if not rest:  # an id without the {page id}_ prefix: the author is `from`
            if author_id is None:
                raise RecordError(
                    "missing_field", f"id {show(post_id)} has no page part and there is no from.id"
                )
            page_id = author_id
        engaged = any(edge in payload for edge in _ENGAGEMENT)

        def asked(*names: str) -> bool | None:
            return None if requested is None else any(n in requested for n in names)

        reactions = edge_total(payload, "reactions")
        if "reactions" not in payload:
            reactions = _absent(asked("reactions"), False)
        likes = edge_total(payload, "like")  # the modern alias first, then the legacy edge
        if likes is None:
            likes = edge_total(payload, "likes")
        if "like" not in payload and "likes" not in payload:
            likes = _absent(asked("like", "likes"), engaged and "reactions" not in payload)
        comments = edge_total(payload, "comments")
        if "comments" not in payload:
            comments = _absent(asked("comments"), engaged)
        shares_edge = mapping(payload.get("shares"), "shares")
        if shares_edge is not None:
            shares = count(shares_edge.get("count"), "shares.count")
        else:
            shares = _absent(asked("shares"), engaged)
        permalink = text(payload.get("permalink_url"), "permalink_url")
        return cls(
            post_id=post_id,
            page_id=page_id,
            posted_at=timestamp(payload.get("created_time"), "created_time", zone),
            media_type=media_type(
                mapping(payload.get("attachments"), "attachments"),
                text(payload.get("type"), "type"),
            ),
            text=text(payload.get("message"), "message"),
            url=permalink or f"https://www.facebook.com/{post_id}",
            is_repost=payload.get("parent_id") is not None,
            page_name=text(author.get("name"), "from.name") if author_id == page_id else None,
            reactions=reactions,
            likes=likes,
            comments=comments,
            shares=shares,
        )


@dataclass(frozen=True)
class FacebookPage:
    """Who a Page is (``id``, ``username``, ``name``): what its posts take from it, whatever
    its counts say."""

    page_id: str
    username: str | None
    name: str | None

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> FacebookPage:
        return cls(
            page_id=identifier(payload.get("id"), "id"),
            username=text(payload.get("username"), "username"),
            name=text(payload.get("name"), "name"),
        )


@dataclass(frozen=True)
class FacebookPageReading:
    """A Page object's follower reading, of the ``page`` it is."""

    page: FacebookPage
    followers: int

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], page: FacebookPage) -> FacebookPageReading:
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
        return cls(page=page, followers=followers)
