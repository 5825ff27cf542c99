"""The records of YouTube Data API v3 responses, each type parsed in exactly one place.

Raw shapes handled (https://developers.google.com/youtube/v3/docs)::

    {"kind": "youtube#videoListResponse", "nextPageToken": "CAUQAA", "pageInfo": {...},
     "items": [{"kind": "youtube#video", "id": "9wCvNsXREls",
                "snippet": {"publishedAt": "2019-09-15T21:17:40.000Z", "channelId": "UC…",
                            "channelTitle": "…", "title": "…", "description": "…",
                            "tags": ["…"], "liveBroadcastContent": "none"},
                "contentDetails": {"duration": "PT8M20S", …},
                "statistics": {"viewCount": "1051426", "likeCount": "11646",
                               "dislikeCount": "458", "favoriteCount": "0",
                               "commentCount": "3280"}}]}
    {"kind": "youtube#channelListResponse",
     "items": [{"kind": "youtube#channel", "id": "UCK8sQmJBp8GCxrOtXWBpyEA",
                "snippet": {"title": "Google", "customUrl": "@google", …},
                "statistics": {"viewCount": "3331930783", "subscriberCount": "10700000",
                               "hiddenSubscriberCount": false, "videoCount": "2678"}}]}
    {"kind": "youtube#playlistItemListResponse",
     "items": [{"kind": "youtube#playlistItem", "id": "UExPVTJY…",
                "snippet": {"resourceId": {"kind": "youtube#video", "videoId": "CvTApw9X8aA"},
                            …},
                "contentDetails": {"videoId": "CvTApw9X8aA"}}]}
    {"kind": "youtube#searchListResponse",
     "items": [{"kind": "youtube#searchResult", "id": {"kind": "youtube#video", "videoId": "…"}}]}
    {"error": {"code": 403, "message": "The request cannot be completed because you have …",
               "errors": [{"domain": "youtube.quota", "reason": "quotaExceeded", …}],
               "status": "PERMISSION_DENIED"}}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from govsocial.errors import RecordError
from govsocial.sources.api import ApiError
from govsocial.sources.payloads import without_surrogates
from govsocial.sources.values import mapping, show, text, timestamp
from govsocial.sources.youtube.values import field, parse_count, parse_duration, parse_id

API = "YouTube Data API"
# The kind of the items of each list response, for files whose items lost their own "kind".
ITEM_KIND = {
    "youtube#videoListResponse": "youtube#video",
    "youtube#channelListResponse": "youtube#channel",
    "youtube#playlistItemListResponse": "youtube#playlistItem",
    "youtube#searchListResponse": "youtube#searchResult",
}
SHORT_MAX_S = 60.0  # documented guess: the API has no "is a Short" field
_TAG = re.compile(r"<[^>]{0,200}>")  # quota messages link to the docs: <a href="…">quota</a>


def is_error(payload: Any) -> bool:
    """An error envelope: ``{"error": {...}}`` with no ``kind`` (a response always has one)."""
    return isinstance(payload, dict) and "error" in payload and "kind" not in payload


def api_error(payload: dict[str, Any]) -> ApiError:
    """The API's error envelope as the shared :class:`ApiError`: code, reasons and message."""
    error = payload.get("error")
    if not isinstance(error, dict):
        return ApiError(API, f"an error {show(error)}")
    errors = error.get("errors")
    reasons = sorted(
        {str(e["reason"]) for e in errors if isinstance(e, dict) and e.get("reason")}
        if isinstance(errors, list)
        else set()
    )
    code = error.get("code")
    message = _TAG.sub("", str(error.get("message") or error.get("status") or "no message"))
    return ApiError(
        API,
        without_surrogates(message),
        code=None if code is None else without_surrogates(str(code)),
        kind=without_surrogates(", ".join(reasons)) or None,
    )


def parse_item(kind: str | None, payload: Any, tz: tzinfo | None) -> Video | Channel:
    """One item of a response → a video or a channel; items without counts are refused."""
    if kind == "youtube#video":
        return Video.from_payload(payload, tz)
    if kind == "youtube#channel":
        return Channel.from_payload(payload)
    if kind in ("youtube#playlistItem", "youtube#searchResult"):
        cls = PlaylistItem if kind == "youtube#playlistItem" else SearchResult
        video_id = cls.from_payload(payload).video_id
        raise RecordError(
            "no_statistics",
            f"a {kind.removeprefix('youtube#')} lists video {video_id} without views, likes or "
            f"comments; fetch videos.list?part=snippet,statistics,contentDetails&id={video_id} "
            "and import that response instead",
        )
    raise RecordError("unsupported_kind", f"a {show(kind)} item is not a video or a channel")


@dataclass(frozen=True)
class Page:
    """One response (a page of a ``*.list`` call), or a bare resource written on its own."""

    kind: str
    items: tuple[Any, ...]
    bare: bool  # a resource on its own: the page is its one item

    @classmethod
    def from_payload(cls, payload: Any) -> Page:
        kind = payload.get("kind") if isinstance(payload, dict) else None
        if not isinstance(kind, str) or not kind.startswith("youtube#"):
            raise RecordError(
                "not_youtube",
                f"{show(payload)} is not a YouTube Data API response (no youtube# kind)",
            )
        if kind in ITEM_KIND.values():
            return cls(kind, (payload,), bare=True)
        items = payload.get("items", [])
        if not isinstance(items, list):
            raise RecordError("bad_value", f"items of a {kind} is {show(items)}, not a list")
        return cls(kind, tuple(items), bare=False)

    def item_kind(self, item: Any) -> str | None:
        kind = item.get("kind") if isinstance(item, dict) else None
        return kind if isinstance(kind, str) else ITEM_KIND.get(self.kind)


@dataclass(frozen=True)
class Video:
    """A ``youtube#video`` with its ``statistics`` (``videos.list?part=snippet,statistics,…``)."""

    video_id: str
    channel_id: str
    channel_title: str | None  # the channel's display name
    published_at: datetime
    title: str
    description: str
    duration_s: float | None  # None: contentDetails not requested, or a live stream (P0D)
    views: int | None
    likes: int | None
    comments: int | None

    @classmethod
    def from_payload(cls, payload: Any, tz: tzinfo | None = None) -> Video:
        video_id = parse_id(field(payload, "id", "video"), "id")
        snippet = mapping(payload.get("snippet"), "snippet")
        stats = mapping(payload.get("statistics"), "statistics")
        if snippet is None or stats is None:
            missing = " and ".join(
                n for n, p in (("snippet", snippet), ("statistics", stats)) if p is None
            )
            raise RecordError(
                "no_statistics" if stats is None else "missing_field",
                f"video {video_id} has no {missing}; request videos.list with "
                "part=snippet,statistics,contentDetails",
            )
        details = mapping(payload.get("contentDetails"), "contentDetails") or {}
        duration = details.get("duration")
        seconds = None if duration is None else parse_duration(duration)
        return cls(
            video_id=video_id,
            channel_id=parse_id(field(snippet, "channelId", "snippet"), "snippet.channelId"),
            channel_title=text(snippet.get("channelTitle"), "snippet.channelTitle") or None,
            published_at=timestamp(snippet.get("publishedAt"), "snippet.publishedAt", tz),
            title=text(snippet.get("title"), "snippet.title") or "",
            description=text(snippet.get("description"), "snippet.description") or "",
            # P0D: a live stream that is upcoming or still running has no length yet.
            duration_s=seconds or None,
            views=parse_count(stats, "viewCount"),
            likes=parse_count(stats, "likeCount"),  # absent when the owner hides likes
            comments=parse_count(stats, "commentCount"),  # absent when comments are off
            # dislikeCount (private since Dec 2021) and favoriteCount (always 0) are ignored.
        )

    @property
    def media_type(self) -> str:
        """``reel`` for a video of at most 60 s (a likely Short), else ``video``."""
        short = self.duration_s is not None and self.duration_s <= SHORT_MAX_S
        return "reel" if short else "video"

    @property
    def text(self) -> str | None:
        return "\n\n".join(t for t in (self.title, self.description) if t) or None

    @property
    def url(self) -> str:
        # watch?v= opens every video, Shorts included; /shorts/ would be a guess.
        return f"https://www.youtube.com/watch?v={self.video_id}"


@dataclass(frozen=True)
class Channel:
    """A ``youtube#channel`` (``channels.list?part=snippet,statistics``)."""

    channel_id: str
    handle: str | None  # snippet.customUrl "@google" → "google"
    title: str | None  # snippet.title: the display name
    subscribers: int | None
    hidden: bool  # statistics.hiddenSubscriberCount
    video_count: int | None
    has_statistics: bool

    @classmethod
    def from_payload(cls, payload: Any) -> Channel:
        channel_id = parse_id(field(payload, "id", "channel"), "id")
        snippet = mapping(payload.get("snippet"), "snippet") or {}
        custom = text(snippet.get("customUrl"), "snippet.customUrl") or ""
        # Only "@handle" is a handle; a pre-2022 legacy custom URL ("GoogleDevelopers") is not.
        handle = custom[1:] if custom.startswith("@") and len(custom) > 1 else None
        stats = mapping(payload.get("statistics"), "statistics")
        hidden = (stats or {}).get("hiddenSubscriberCount", False)
        if not isinstance(hidden, bool):
            raise RecordError(
                "bad_value", f"statistics.hiddenSubscriberCount {show(hidden)} is not true/false"
            )
        return cls(
            channel_id=channel_id,
            handle=handle,
            title=text(snippet.get("title"), "snippet.title") or None,
            subscribers=None if stats is None else parse_count(stats, "subscriberCount"),
            hidden=hidden,
            video_count=None if stats is None else parse_count(stats, "videoCount"),
            has_statistics=stats is not None,
        )

    def followers_unknown(self) -> RecordError | None:
        """Why this channel gives no follower count (its handle is still good), if it does not."""
        if not self.has_statistics:
            return RecordError(
                "no_statistics",
                f"channel {self.channel_id} has no statistics; request channels.list with "
                "part=snippet,statistics",
            )
        if self.hidden:
            return RecordError(
                "hidden_subscribers",
                f"channel {self.channel_id} hides its subscriber count "
                "(statistics.hiddenSubscriberCount is true), so its followers are unknown",
            )
        return None


@dataclass(frozen=True)
class PlaylistItem:
    """A ``youtube#playlistItem``: names a video (how uploads are listed) but has no counts."""

    video_id: str

    @classmethod
    def from_payload(cls, payload: Any) -> PlaylistItem:
        item = payload if isinstance(payload, dict) else {}
        details = mapping(item.get("contentDetails"), "contentDetails")
        snippet = mapping(item.get("snippet"), "snippet")
        resource = (snippet or {}).get("resourceId")
        found = (details or {}).get("videoId") or (
            resource.get("videoId") if isinstance(resource, dict) else None
        )
        if found is None:
            raise RecordError("missing_field", "playlist item has no snippet.resourceId.videoId")
        return cls(parse_id(found, "snippet.resourceId.videoId"))


@dataclass(frozen=True)
class SearchResult:
    """A ``youtube#searchResult`` for a video: an id and a snippet, no counts."""

    video_id: str

    @classmethod
    def from_payload(cls, payload: Any) -> SearchResult:
        ref = field(payload, "id", "search result")
        if not isinstance(ref, dict) or ref.get("kind") != "youtube#video":
            raise RecordError(
                "unsupported_kind", f"search result {show(ref)} is not a video (channel/playlist)"
            )
        return cls(parse_id(field(ref, "videoId", "id"), "id.videoId"))
