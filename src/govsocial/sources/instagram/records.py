"""Instagram Graph API records: a media object, its insights, the user, each read once.

A media object of ``GET /{ig-user-id}/media`` or ``GET /{ig-media-id}``
(https://developers.facebook.com/docs/instagram-platform/reference/instagram-media)::

    {"id": "17896622936197745", "caption": "...", "media_type": "IMAGE",  # VIDEO, CAROUSEL_ALBUM
     "media_product_type": "REELS",                    # FEED, REELS, STORY (when requested)
     "timestamp": "2021-08-13T08:02:40+0000", "permalink": "https://www.instagram.com/p/CSgd.../",
     "shortcode": "CSgdWACBeKr", "like_count": 2, "comments_count": 6,
     "username": "jabarprovgov", "owner": {"id": "17841400000000001"},
     "children": {"data": [{"id": "...", "media_type": "IMAGE"}]},   # album items: no counts
     "insights": {"data": [...]}}                      # insights.metric(...) field expansion

Insights (https://developers.facebook.com/docs/instagram-platform/reference/instagram-media/insights)
come in two shapes: the old one, a lifetime value in ``values``, and the newer one, a
``total_value`` (with optional ``breakdowns``)::

    {"data": [{"name": "saved", "period": "lifetime", "values": [{"value": 3}]}]}
    {"data": [{"name": "views", "period": "lifetime", "total_value": {"value": 180}}]}

The user (https://developers.facebook.com/docs/instagram-platform/reference/instagram-user)::

    {"id": "17841407673135339", "username": "facebookfordevelopers",
     "name": "Facebook for Developers",                # the display name
     "followers_count": 64363, "follows_count": 9, "media_count": 427}

It is read in two records: the account it is (:class:`InstagramAccount`, which its media
belong to) and its follower reading (:class:`InstagramUser`), so a bad count quarantines the
reading alone, never its media.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from govsocial.errors import RecordError
from govsocial.sources.values import count, identifier, mapping, show, text, timestamp

_MEDIA_TYPES = {"IMAGE": "image", "VIDEO": "video", "CAROUSEL_ALBUM": "carousel"}
# Plays of a video or reel: `views` (2024 on) replaced `plays` and `video_views` (older).
_VIEW_METRICS = ("views", "plays", "video_views")


@dataclass(frozen=True)
class InstagramInsights:
    """The metrics we keep, by insight name (``impressions`` and ``reach`` are not kept)."""

    values: Mapping[str, int]

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> InstagramInsights:
        data = payload.get("data")
        if not isinstance(data, list):
            raise RecordError("bad_value", f"insights.data {show(data)} is not a list")
        values: dict[str, int] = {}
        for entry in data:
            metric = mapping(entry, "insights.data[]") or {}
            name = text(metric.get("name"), "insights.data[].name")
            if not name:
                raise RecordError("missing_field", "an insight has no name")
            where = f"insights {name}"
            total = mapping(metric.get("total_value"), f"{where}.total_value")
            if total is not None:  # the newer shape, preferred when both are present
                value = count(total.get("value"), f"{where}.total_value.value")
            else:
                series = metric.get("values")
                if not isinstance(series, list) or not series:
                    raise RecordError("bad_value", f"{where} has neither total_value nor values")
                last = mapping(series[-1], f"{where}.values[]") or {}
                value = count(last.get("value"), f"{where}.values[].value")
            if value is not None:
                values[name] = value
        return cls(values)

    def first(self, names: tuple[str, ...]) -> int | None:
        return next((self.values[n] for n in names if n in self.values), None)


@dataclass(frozen=True)
class InstagramMedia:
    media_id: str
    posted_at: datetime
    media_type: str
    caption: str | None
    url: str | None
    owner_id: str | None
    username: str | None
    likes: int | None
    comments: int | None
    views: int | None
    saves: int | None
    shares: int | None

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], *, zone: tzinfo | None) -> InstagramMedia:
        """Counts absent from the object (``like_count`` hidden by the owner, insights not
        requested) are not known (NULL); album ``children`` are parts of this post, not posts."""
        media_id = identifier(payload.get("id"), "id")
        kind = text(payload.get("media_type"), "media_type")
        if kind is None:
            raise RecordError("missing_field", "media_type is missing")
        if kind not in _MEDIA_TYPES:
            raise RecordError(
                "bad_value", f"media_type {show(kind)} is not IMAGE, VIDEO or CAROUSEL_ALBUM"
            )
        product = text(payload.get("media_product_type"), "media_product_type")
        url = text(payload.get("permalink"), "permalink")
        shortcode = text(payload.get("shortcode"), "shortcode")
        if url is None and shortcode:
            url = f"https://www.instagram.com/p/{shortcode}/"
        media_type = _MEDIA_TYPES[kind]
        # Reels: media_product_type REELS; before that field existed, a /reel/ permalink.
        if product == "REELS" or (media_type == "video" and "/reel/" in (url or "")):
            media_type = "reel"
        owner = mapping(payload.get("owner"), "owner") or {}
        raw_insights = mapping(payload.get("insights"), "insights")
        insights = InstagramInsights.from_payload(raw_insights) if raw_insights else None
        metric = insights.first if insights else lambda names: None
        likes = count(payload.get("like_count"), "like_count")
        comments = count(payload.get("comments_count"), "comments_count")
        return cls(
            media_id=media_id,
            posted_at=timestamp(payload.get("timestamp"), "timestamp", zone),
            media_type=media_type,
            caption=text(payload.get("caption"), "caption"),
            url=url,
            owner_id=identifier(owner["id"], "owner.id") if owner.get("id") is not None else None,
            username=text(payload.get("username"), "username"),
            likes=likes if likes is not None else metric(("likes",)),
            comments=comments if comments is not None else metric(("comments",)),
            views=metric(_VIEW_METRICS),
            saves=metric(("saved", "saves")),
            shares=metric(("shares",)),
        )


@dataclass(frozen=True)
class InstagramAccount:
    """Who a user object is (``id``, ``username``, ``name``): what its media need to know
    their account, whatever its counts say."""

    user_id: str | None
    username: str | None
    name: str | None

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> InstagramAccount:
        user_id = payload.get("id")
        username = text(payload.get("username"), "username")
        if user_id is None and not username:
            raise RecordError("missing_field", "the user object has neither id nor username")
        return cls(
            user_id=identifier(user_id, "id") if user_id is not None else None,
            username=username,
            name=text(payload.get("name"), "name"),
        )


@dataclass(frozen=True)
class InstagramUser:
    """A user object's follower reading: its counts, of the ``account`` it is."""

    account: InstagramAccount
    followers: int | None
    following: int | None
    media_count: int | None

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], account: InstagramAccount) -> InstagramUser:
        return cls(
            account=account,
            followers=count(payload.get("followers_count"), "followers_count"),
            following=count(payload.get("follows_count"), "follows_count"),
            media_count=count(payload.get("media_count"), "media_count"),
        )
