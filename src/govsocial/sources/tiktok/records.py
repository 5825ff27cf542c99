"""The records of TikTok Research API responses, each type parsed in exactly one place.

Raw shapes handled (https://developers.tiktok.com/doc/research-api-specs-query-videos,
https://developers.tiktok.com/doc/research-api-specs-query-user-info,
https://developers.tiktok.com/doc/tiktok-api-v2-error-handling)::

    POST /v2/research/video/query/?fields=id,create_time,username,video_description,...
    {"data": {"videos": [{"id": 7320768196569599275, "create_time": 1704499196,
                          "username": "s.clovis", "region_code": "US",
                          "video_description": "#duet with @MarvelKitties2022 #cats ",
                          "hashtag_names": ["cats", "duet"], "music_id": 7159460238003800066,
                          "view_count": 4, "like_count": 6, "comment_count": 0,
                          "share_count": 0, "favorites_count": 2, "video_duration": 42,
                          "effect_ids": ["0"], "voice_to_text": "…", "is_stem_verified": false}],
              "cursor": 100, "search_id": "7354367454467855403", "has_more": true},
     "error": {"code": "ok", "message": "", "log_id": "20240405132544A8A35938AA061A19F445"}}

    POST /v2/research/user/info/?fields=display_name,follower_count,...  body {"username": …}
    {"data": {"display_name": "my nick name", "bio_description": "my_bio",
              "avatar_url": "https://…", "is_verified": false, "follower_count": 232,
              "following_count": 45, "likes_count": 27155089, "video_count": 44},
     "error": {"code": "ok", "message": "", "log_id": "202207280326050102231031430C7E754E"},
     "username": "joe123456"}

    {"error": {"code": "rate_limit_exceeded", "message": "…", "log_id": "…"}}

Every response carries the ``error`` object; ``"code": "ok"`` means success. Ids (video,
music) are JSON integers of up to 19 digits; ``create_time`` is Unix seconds (UTC); fields
that were not requested are left out (unknown, never 0). The documentation's own example
writes a video's id as ``video_id``: read too.

**The user info response does not name its user**: the username is only in the request's
body. A saved user info response therefore carries ``"username"`` beside ``data`` and
``error`` (:func:`saved_response` writes it so: what an API client must keep); a user object
saved on its own may carry ``username`` among its fields. A video query page may carry the
same key, naming the account the query was about: a video without its own ``username``
field (not requested) belongs to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from govsocial.errors import RecordError
from govsocial.sources.api import ApiError
from govsocial.sources.payloads import without_surrogates
from govsocial.sources.values import count, identifier, mapping, show, text

API = "TikTok Research API"
USERNAME = "username"  # the key naming the requested account beside a response's data
# TikTok videos are short vertical videos: the vocabulary's `reel` (docs/formats.md, media_type).
MEDIA_TYPE = "reel"
# Fields only a user info object has (a video has none of them).
_USER_FIELDS = ("display_name", "bio_description", "follower_count", "following_count")
# Fields only a video object has (with create_time, they tell a bare video apart).
_VIDEO_FIELDS = ("video_description", "hashtag_names", "music_id", "region_code", "view_count")
# The Unix seconds a datetime holds (years 1 to 9999); the loader judges which are plausible.
_SECONDS = range(
    int(datetime(1, 1, 1, tzinfo=UTC).timestamp()),
    int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()) + 1,
)


def saved_response(response: Mapping[str, Any], username: str) -> dict[str, Any]:
    """A user info (or video query) response as it is kept and read back: with the username
    the request asked about beside ``data`` and ``error``, since the response lacks it."""
    return {**response, USERNAME: username}


def is_error(payload: Any) -> bool:
    """A response whose ``error.code`` is not ``ok`` (its ``data`` is empty or absent)."""
    if not isinstance(payload, dict):
        return False
    error = payload.get("error")
    return isinstance(error, dict) and error.get("code") not in (None, "", "ok")


def api_error(payload: dict[str, Any]) -> ApiError:
    """The error object of a response for which :func:`is_error` holds, as the shared
    :class:`ApiError`: its code (``rate_limit_exceeded``), message and the ``log_id`` that
    TikTok's support asks for."""
    error = payload["error"]
    message, log_id = error.get("message"), error.get("log_id")
    traced = f"log_id {log_id}" if isinstance(log_id, str) and log_id else None
    return ApiError(
        API,
        without_surrogates(message if isinstance(message, str) and message else "no message"),
        kind=without_surrogates(str(error["code"])),
        resource=without_surrogates(traced),
    )


ResponseKind = Literal["videos", "user", "other"]


@dataclass(frozen=True)
class Response:
    """One successful response, or a video or user object saved on its own (``bare``)."""

    kind: ResponseKind
    items: tuple[Any, ...]
    bare: bool
    username: str | None  # the requested account, when the saved response names it
    keys: tuple[str, ...]  # what its data holds (for a response of another endpoint)

    @classmethod
    def from_payload(cls, payload: Any) -> Response:
        if not isinstance(payload, dict):
            raise RecordError(
                "not_tiktok", f"{show(payload)} is not a TikTok Research API response"
            )
        owner = text(payload.get(USERNAME), USERNAME) or None
        if "data" not in payload:
            if any(k in payload for k in _USER_FIELDS):
                return cls("user", (payload,), True, owner, ())
            if "create_time" in payload and any(k in payload for k in _VIDEO_FIELDS):
                return cls("videos", (payload,), True, None, ())
            raise RecordError(
                "not_tiktok",
                f"{show(payload)} is not a TikTok Research API response (no data object, "
                "and not a video or user object)",
            )
        data = mapping(payload["data"], "data") or {}
        if "videos" in data:
            videos = data["videos"]
            if not isinstance(videos, list):
                raise RecordError("bad_value", f"data.videos {show(videos)} is not a list")
            return cls("videos", tuple(videos), False, owner, ())
        if any(k in data for k in _USER_FIELDS):
            return cls("user", (payload,), True, owner, ())
        return cls("other", (payload,), True, owner, tuple(data))


def parse_item(response: Response, payload: Any) -> Video | UserInfo:
    """One record of a response → a video or a user's reading; other endpoints are refused."""
    if response.kind == "videos":
        return Video.from_payload(payload, response.username)
    if response.kind == "user":
        return UserInfo.from_payload(payload)
    listed = ", ".join(response.keys) or "nothing"
    raise RecordError(
        "unsupported_kind",
        f"a response whose data holds {listed} is neither a video query (data.videos) nor "
        "user info: only /v2/research/video/query/ and /v2/research/user/info/ responses "
        "give posts and followers",
    )


def unix_time(value: object, name: str) -> datetime:
    """Unix seconds (a JSON integer, UTC) → an aware datetime."""
    if value is None:
        raise RecordError("missing_field", f"{name} is missing")
    if type(value) is not int:  # not bool, not 1.7e9, not "1704499196"
        raise RecordError("bad_value", f"{name} {show(value)} is not Unix seconds")
    if value not in _SECONDS:
        raise RecordError("bad_value", f"{name} {show(value)} is not a real time")
    return datetime.fromtimestamp(value, UTC)


@dataclass(frozen=True)
class Video:
    """A video object of ``POST /v2/research/video/query/``."""

    video_id: str
    username: str
    posted_at: datetime
    description: str | None
    duration_s: float | None  # None: not requested, or 0 (a photo post has no length)
    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    favorites: int | None  # saves ("favorites" in the app; the fields list spells favourites)

    @classmethod
    def from_payload(cls, payload: Any, owner: str | None = None) -> Video:
        """``owner``: the account a per-account query was about, for a video without its own
        ``username`` field."""
        if not isinstance(payload, dict):
            raise RecordError("bad_value", f"a video {show(payload)} is not a JSON object")
        found = payload.get("id")
        video_id = identifier(payload.get("video_id") if found is None else found, "id")
        username = text(payload.get("username"), "username") or owner
        if not username:
            raise RecordError(
                "missing_field",
                f"video {video_id} names no account: request the username field "
                "(fields=id,create_time,username,…), or keep the username the query was "
                'about beside the response\'s data ("username": "…")',
            )
        duration = count(payload.get("video_duration"), "video_duration")
        if duration is not None and duration < 0:
            raise RecordError("bad_value", f"video_duration {duration} is negative")
        favorites = payload.get("favorites_count", payload.get("favourites_count"))
        return cls(
            video_id=video_id,
            username=username,
            posted_at=unix_time(payload.get("create_time"), "create_time"),
            description=text(payload.get("video_description"), "video_description") or None,
            duration_s=float(duration) if duration else None,
            views=count(payload.get("view_count"), "view_count"),
            likes=count(payload.get("like_count"), "like_count"),
            comments=count(payload.get("comment_count"), "comment_count"),
            shares=count(payload.get("share_count"), "share_count"),
            favorites=count(favorites, "favorites_count"),
        )

    @property
    def url(self) -> str:
        return f"https://www.tiktok.com/@{self.username}/video/{self.video_id}"


@dataclass(frozen=True)
class UserInfo:
    """A ``POST /v2/research/user/info/`` response saved with its ``username``, or a user
    object saved on its own: one reading of the account's counts."""

    username: str
    display_name: str | None
    followers: int | None
    following: int | None
    video_count: int | None

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> UserInfo:
        data = mapping(payload.get("data"), "data") if "data" in payload else payload
        data = data or {}
        username = text(payload.get(USERNAME), USERNAME) or text(
            data.get(USERNAME), f"data.{USERNAME}"
        )
        if not username:
            raise RecordError(
                "missing_field",
                "the user info names no account: TikTok's /v2/research/user/info/ answers "
                'without the username, so keep it beside the response\'s data ("username": '
                '"the username requested") and import the file again',
            )
        followers = count(data.get("follower_count"), "follower_count")
        if followers is None:
            raise RecordError(
                "missing_field",
                f"the user info of {username} has no follower_count: request "
                "fields=display_name,follower_count,following_count,video_count",
            )
        return cls(
            username=username,
            display_name=text(data.get("display_name"), "display_name") or None,
            followers=followers,
            following=count(data.get("following_count"), "following_count"),
            video_count=count(data.get("video_count"), "video_count"),
        )
