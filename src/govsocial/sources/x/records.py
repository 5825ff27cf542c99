"""The records of X API v2 responses, each parsed in exactly one ``from_payload``.

Shapes handled (https://docs.x.com/x-api/fundamentals/data-dictionary)::

    tweet  {"id": "1380242611781386245", "author_id": "1352661060663336960",
            "created_at": "2021-04-08T19:34:16.000Z", "text": "RT @williamserafino: …",
            "public_metrics": {"retweet_count": 410, "reply_count": 0, "like_count": 0,
                               "quote_count": 0, "bookmark_count": 3, "impression_count": 99},
            "referenced_tweets": [{"type": "retweeted", "id": "1380175475545362437"}],
            "attachments": {"media_keys": ["7_1558552952549277696"]},
            "entities": {"urls": [{"expanded_url": "http://econ.st/3u72y2l", …}]},
            "edit_history_tweet_ids": ["1558553189766631429"], "withheld": {…}}
    user   {"id": "495430242", "username": "IgorBrigadir", "name": "Igor Brigadir",
            "public_metrics": {"followers_count": 3560, "following_count": 5000,
                               "tweet_count": 35099, "listed_count": 183}}
    media  {"media_key": "7_1558552952549277696", "type": "video", "duration_ms": 71292,
            "public_metrics": {"view_count": 19059}}
    error  {"title": "Not Found Error", "detail": "Could not find tweet with …",
            "resource_type": "tweet", "resource_id": "506694458445152256", …}

twarc2's ``flatten`` writes a tweet with its expansions inline: ``author`` (a user) and
``attachments.media`` (media objects); those are read too.

This is the reference reading of every shape; ``compiled.py`` reads ordinary pages faster
and must agree with it. The records are plain (not frozen) dataclasses: a million are made
per million tweets, and a frozen one costs four times as much to make.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from govsocial.errors import RecordError
from govsocial.sources.api import ApiError

# A media key starts with the kind of media (seen in real payloads): used when the page
# lacks the `attachments.media_keys` expansion and so carries no media object.
_KEY_PREFIX_TYPES = {"3": "photo", "7": "video", "13": "video", "16": "animated_gif"}
# Links to X itself are the attached media ("pic.twitter.com/…") or the quoted post, not an
# outside link.
_X_HOSTS = frozenset({"twitter.com", "x.com", "mobile.twitter.com", "mobile.x.com"})
_INT64 = 2**63  # counts are BIGINT in the warehouse


def _id(payload: dict[str, Any], key: str, what: str) -> str:
    value = payload.get(key)
    if type(value) is str and value:  # the usual case first: X writes ids as strings
        return value
    if value is None or value == "":
        raise RecordError("missing_field", f"the {what} has no '{key}'")
    if type(value) is not int:  # (not bool either)
        raise RecordError("bad_value", f"the {what}'s '{key}' is {value!r}, not an id")
    return str(value)


def _count(metrics: dict[str, Any], key: str) -> int | None:
    value = metrics.get(key)
    if value is None:
        return None  # not requested or not available: unknown, not zero
    if type(value) is not int:  # JSON true/false are bool, not counts
        raise RecordError("bad_value", f"public_metrics.{key} is {value!r}, not a whole number")
    if not -_INT64 <= value < _INT64:
        raise RecordError("bad_value", f"public_metrics.{key} is {value}, too large a count")
    return value


def _metrics(payload: dict[str, Any]) -> dict[str, Any]:
    metrics = payload.get("public_metrics")
    if metrics is None:
        return {}
    if not isinstance(metrics, dict):
        raise RecordError("bad_value", f"public_metrics is {metrics!r}, not an object")
    return metrics


def _list(payload: dict[str, Any], key: str) -> list[Any]:
    value = payload.get(key)
    return value if isinstance(value, list) else []


def _object(payload: dict[str, Any], key: str) -> dict[str, Any]:
    value = payload.get(key)
    return value if isinstance(value, dict) else {}


def parse_time(value: Any, what: str) -> datetime:
    """An X timestamp (``2021-04-08T19:34:16.000Z``; twarc: ``…+00:00``) as UTC."""
    if not isinstance(value, str) or not value:
        raise RecordError(
            "missing_field" if value in (None, "") else "bad_value",
            f"{what} is {value!r}, not an ISO 8601 timestamp",
        )
    try:
        moment = datetime.fromisoformat(value)
        # X always writes UTC ("Z"); a timestamp without an offset is read as UTC too.
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 shifted out of range
        raise RecordError("bad_value", f"{what} is {value!r}, not an ISO 8601 timestamp") from None


@dataclass(slots=True)
class Media:
    """One ``includes.media`` object."""

    key: str
    type: str  # photo | video | animated_gif (as X names them)
    duration_s: float | None
    view_count: int | None

    @classmethod
    def from_payload(cls, payload: Any) -> Media:
        if not isinstance(payload, dict):
            raise RecordError("bad_value", f"a media object is {payload!r}, not an object")
        key = _id(payload, "media_key", "media object")
        kind = payload.get("type")
        duration = payload.get("duration_ms")
        if duration is not None and (
            isinstance(duration, bool)
            or not isinstance(duration, int)
            or not 0 <= duration < _INT64
        ):
            raise RecordError("bad_value", f"media {key}: duration_ms is {duration!r}")
        return cls(
            key,
            media_kind(kind, key),
            None if duration is None else duration / 1000,
            _count(_metrics(payload), "view_count"),
        )

    @classmethod
    def from_key(cls, key: str) -> Media:
        """What a media key alone says (the page did not expand it)."""
        return cls(key, media_kind(None, key), None, None)


def media_kind(kind: Any, key: str) -> str:
    """A media object's ``type``, or what its key says when it has none."""
    if isinstance(kind, str):
        return kind
    return _KEY_PREFIX_TYPES.get(key.split("_", 1)[0], "unknown")


@dataclass(slots=True)
class User:
    """A user object (``includes.users``, a users-lookup page's ``data``, a flat ``author``)."""

    id: str
    username: str | None
    name: str | None  # the display name ("Pemprov Jawa Barat"); empty when not a string
    followers: int | None
    following: int | None
    tweet_count: int | None

    @classmethod
    def from_payload(cls, payload: Any) -> User:
        if not isinstance(payload, dict):
            raise RecordError("bad_value", f"a user is {payload!r}, not an object")
        username = payload.get("username")
        name = payload.get("name")
        metrics = _metrics(payload)
        return cls(
            _id(payload, "id", "user"),
            username.lstrip("@") if isinstance(username, str) and username else None,
            name if isinstance(name, str) and name else None,
            _count(metrics, "followers_count"),
            _count(metrics, "following_count"),
            _count(metrics, "tweet_count"),
        )


@dataclass(slots=True)
class Tweet:
    """A tweet object from a page's ``data`` (or a line of twarc2's flattened output)."""

    id: str
    author_id: str
    created_at: datetime
    text: str | None
    retweets: int | None
    replies: int | None
    likes: int | None
    quotes: int | None
    bookmarks: int | None  # newer API versions only
    impressions: int | None  # newer API versions, own or public tweets
    is_retweet: bool
    media_keys: tuple[str, ...]
    has_outside_link: bool
    author: User | None  # inline author (flattened tweets)
    media: tuple[Media, ...]  # inline media (flattened tweets)

    @classmethod
    def from_payload(cls, payload: Any) -> Tweet:
        if not isinstance(payload, dict):
            raise RecordError("bad_value", f"a tweet is {payload!r}, not an object")
        tweet_id = _id(payload, "id", "tweet")
        inline = payload.get("author")
        author = User.from_payload(inline) if isinstance(inline, dict) else None
        if payload.get("author_id") is None and author is not None:
            author_id = author.id
        else:
            author_id = _id(payload, "author_id", f"tweet {tweet_id}")
        metrics = _metrics(payload)
        attachments = _object(payload, "attachments")
        text = payload.get("text")
        return cls(
            tweet_id,
            author_id,
            parse_time(payload.get("created_at"), f"tweet {tweet_id}: created_at"),
            text if isinstance(text, str) else None,
            _count(metrics, "retweet_count"),
            _count(metrics, "reply_count"),
            _count(metrics, "like_count"),
            _count(metrics, "quote_count"),
            _count(metrics, "bookmark_count"),
            _count(metrics, "impression_count"),
            any(
                isinstance(r, dict) and r.get("type") == "retweeted"
                for r in _list(payload, "referenced_tweets")
            ),
            tuple(str(k) for k in _list(attachments, "media_keys") if isinstance(k, str | int)),
            any(
                isinstance(u, dict)
                and is_outside_link("media_key" in u, u.get("expanded_url") or u.get("url"))
                for u in _list(_object(payload, "entities"), "urls")
            ),
            author,
            tuple(Media.from_payload(m) for m in _list(attachments, "media")),
        )


def is_outside_link(to_media: bool, target: Any) -> bool:
    """Whether an ``entities.urls`` entry (``target``: its expanded URL, else its URL) links
    outside X; an entry with a ``media_key`` is the attached media."""
    if to_media or not isinstance(target, str) or "//" not in target:
        return False
    host = target.split("//", 1)[1].split("/", 1)[0].lower().removeprefix("www.")
    return host not in _X_HOSTS


def api_error(payload: Any) -> ApiError:
    """One entry of a page's ``errors`` (something the API could not return) as an ApiError:
    ``{"title": "Not Found Error", "detail": "Could not find tweet …", "resource_type":
    "tweet", "resource_id": "5066…", "parameter": "referenced_tweets.id", "type": "https://…"}``.
    """
    if not isinstance(payload, dict):
        return ApiError("X API", str(payload))
    resource = " ".join(str(payload[k]) for k in ("resource_type", "resource_id") if payload.get(k))
    if payload.get("parameter"):
        resource = ", ".join(p for p in (resource, f"via {payload['parameter']}") if p)
    return ApiError(
        "X API",
        str(payload.get("detail") or payload.get("message") or "no detail given"),
        kind=str(payload.get("title") or payload.get("type") or "error"),
        resource=resource or None,
    )
