"""The records of X API v2 responses, each parsed in exactly one ``from_payload``.

Shapes handled (https://docs.x.com/x-api/fundamentals/data-dictionary)::

    tweet  {"id": "1380242611781386245", "author_id": "1352661060663336960",
            "created_at": "2021-04-08T19:34:16.000Z", "text": "RT @williamserafino: …",
            "public_metrics": {"retweet_count": 410, "reply_count": 0, "like_count": 0,
                               "quote_count": 0, "bookmark_count": 3, "impression_count": 99},
            "referenced_tweets": [{"type": "retweeted", "id": "1380175475545362437"}],
            "in_reply_to_user_id": "22226278", "conversation_id": "1380242611781386245",
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
from govsocial.sources.values import count, identifier, mapping, show, timestamp

# A media key starts with the kind of media (seen in real payloads): used when the page
# lacks the `attachments.media_keys` expansion and so carries no media object.
_KEY_PREFIX_TYPES = {"3": "photo", "7": "video", "13": "video", "16": "animated_gif"}
# Links to X itself are the attached media ("pic.twitter.com/…") or the quoted post, not an
# outside link.
_X_HOSTS = frozenset({"twitter.com", "x.com", "mobile.twitter.com", "mobile.x.com"})


def listed(value: Any) -> list[Any]:
    """An optional list (``referenced_tweets``, ``includes.users``, …); anything else: none.
    X leaves out what a tweet lacks, and a list it never writes is no reason to drop a tweet."""
    return value if isinstance(value, list) else []


def _object(payload: dict[str, Any], key: str) -> dict[str, Any]:
    value = payload.get(key)
    return value if isinstance(value, dict) else {}


def _metrics(payload: dict[str, Any]) -> dict[str, Any]:
    return mapping(payload.get("public_metrics"), "public_metrics") or {}


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
            raise RecordError("bad_value", f"a media object {show(payload)} is not a JSON object")
        key = identifier(payload.get("media_key"), "the media object's media_key")
        duration = count(payload.get("duration_ms"), f"media {key}: duration_ms")
        if duration is not None and duration < 0:
            raise RecordError("bad_value", f"media {key}: duration_ms {duration} is negative")
        return cls(
            key,
            media_kind(payload.get("type"), key),
            None if duration is None else duration / 1000,
            count(_metrics(payload).get("view_count"), "public_metrics.view_count"),
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
class Author:
    """Who a user object is: what a post needs of its author (handle and display name).

    Read apart from the counts, so that a post keeps its author's handle and name when the
    author's follower count is broken (that reading alone is quarantined)."""

    id: str
    username: str | None
    name: str | None  # the display name ("Pemprov Jawa Barat"); empty when not a string

    @classmethod
    def from_payload(cls, payload: Any) -> Author:
        if not isinstance(payload, dict):
            raise RecordError("bad_value", f"a user {show(payload)} is not a JSON object")
        username = payload.get("username")
        name = payload.get("name")
        return cls(
            identifier(payload.get("id"), "the user's id"),
            username.lstrip("@") if isinstance(username, str) and username else None,
            name if isinstance(name, str) and name else None,
        )


@dataclass(slots=True)
class User(Author):
    """A user object with its counts: one follower reading (``includes.users``, a
    users-lookup page's ``data``, a flat tweet's ``author``)."""

    followers: int | None
    following: int | None
    tweet_count: int | None

    @classmethod
    def from_payload(cls, payload: Any) -> User:
        who = Author.from_payload(payload)
        of = f"user {who.id}: public_metrics"
        metrics = mapping(payload.get("public_metrics"), of) or {}
        return cls(
            who.id,
            who.username,
            who.name,
            count(metrics.get("followers_count"), f"{of}.followers_count"),
            count(metrics.get("following_count"), f"{of}.following_count"),
            count(metrics.get("tweet_count"), f"{of}.tweet_count"),
        )

    def missing_followers(self) -> RecordError | None:
        """Why this user is no follower reading (``followers`` is what a snapshot needs)."""
        if self.followers is not None:
            return None
        return RecordError(
            "missing_field",
            f"user {self.id} has no public_metrics.followers_count "
            "(request user.fields=public_metrics)",
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
    is_reply_to_other: bool | None  # see reply_to_other
    media_keys: tuple[str, ...]
    has_outside_link: bool
    author: Author | None  # inline author (flattened tweets); its reading is read on its own
    media: tuple[Media, ...]  # inline media (flattened tweets)

    @classmethod
    def from_payload(cls, payload: Any) -> Tweet:
        if not isinstance(payload, dict):
            raise RecordError("bad_value", f"a tweet {show(payload)} is not a JSON object")
        tweet_id = identifier(payload.get("id"), "the tweet's id")
        inline = payload.get("author")
        author = Author.from_payload(inline) if isinstance(inline, dict) else None
        if payload.get("author_id") is None and author is not None:
            author_id = author.id
        else:
            author_id = identifier(payload.get("author_id"), f"tweet {tweet_id}: author_id")
        metrics = _metrics(payload)
        attachments = _object(payload, "attachments")
        text = payload.get("text")
        kinds = {
            r["type"]
            for r in listed(payload.get("referenced_tweets"))
            if isinstance(r, dict) and isinstance(r.get("type"), str)
        }
        is_retweet = "retweeted" in kinds
        return cls(
            tweet_id,
            author_id,
            # X writes UTC ("...Z", twarc "+00:00"): a time without an offset is UTC too.
            timestamp(payload.get("created_at"), f"tweet {tweet_id}: created_at", UTC),
            text if isinstance(text, str) else None,
            count(metrics.get("retweet_count"), "public_metrics.retweet_count"),
            count(metrics.get("reply_count"), "public_metrics.reply_count"),
            count(metrics.get("like_count"), "public_metrics.like_count"),
            count(metrics.get("quote_count"), "public_metrics.quote_count"),
            count(metrics.get("bookmark_count"), "public_metrics.bookmark_count"),
            count(metrics.get("impression_count"), "public_metrics.impression_count"),
            is_retweet,
            reply_to_other(
                tweet_id,
                author_id,
                payload.get("in_reply_to_user_id"),
                payload.get("conversation_id"),
                retweet=is_retweet,
                replied="replied_to" in kinds,
                quoted="quoted" in kinds,
            ),
            tuple(
                str(k) for k in listed(attachments.get("media_keys")) if isinstance(k, str | int)
            ),
            any(
                isinstance(u, dict)
                and is_outside_link("media_key" in u, u.get("expanded_url") or u.get("url"))
                for u in listed(_object(payload, "entities").get("urls"))
            ),
            author,
            tuple(Media.from_payload(m) for m in listed(attachments.get("media"))),
        )


def reply_to_other(
    tweet_id: str,
    author_id: str,
    in_reply_to_user_id: Any,
    conversation_id: Any,
    *,
    retweet: bool,
    replied: bool,
    quoted: bool,
) -> bool | None:
    """Whether a tweet answers another account (True), is no answer to another account
    (False: an original, a retweet, a quote, the next post of the author's own thread), or
    the tweet's fields cannot tell (None). The one rule of both reading paths
    (docs/import-x.md, "Replies")::

        retweet                                    → False (a repost: ``is_repost``)
        in_reply_to_user_id is another account     → True  (also a tweet that opens with an
                                                            @mention: X files it as a reply)
        in_reply_to_user_id is the author          → False (a thread of one's own posts)
        referenced_tweets has replied_to           → None  (a reply; to whom was not asked for)
        conversation_id is the tweet's own id      → False (it starts a conversation)
        conversation_id is another tweet's         → None  (a reply; to whom was not asked for)
        referenced_tweets has quoted               → False (a reply would list replied_to)
        none of these fields                       → None  (the request asked for none of them)

    X leaves out ``in_reply_to_user_id`` on a tweet that answers nobody, so its absence alone
    says nothing; ``conversation_id`` is on every tweet when requested (twarc2 and
    academictwitteR request all three). An id that is not text or a whole number counts as
    absent.
    """
    if retweet:
        return False
    target = _id_text(in_reply_to_user_id)
    if target is not None:
        return target != author_id
    if replied:
        return None
    conversation = _id_text(conversation_id)
    if conversation is not None:
        return False if conversation == tweet_id else None
    return False if quoted else None


def _id_text(value: Any) -> str | None:
    """An id written as text or as a JSON integer, as :func:`~govsocial.sources.values.identifier`
    reads it; anything else None."""
    if type(value) is str:
        return value or None
    return str(value) if type(value) is int else None


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
