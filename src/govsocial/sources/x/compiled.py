"""Compiled decoding of ordinary X API v2 pages with msgspec: the fast path of the X reader.

Nearly every line of a twarc2 file is an ordinary page: ``data`` a list of tweets (or one
tweet, from the streaming endpoint) whose fields all have their documented types, authors and
media under ``includes``, and ``__twarc.retrieved_at``. :func:`decode_page` reads such a line
with msgspec's typed decoder, which checks every field's type in compiled code and hands out
each tweet's and user's bytes as received (so no re-encoding for ``raw_records``).

:func:`decode_page` is the ``fast`` hook of :func:`govsocial.sources.documents.read_documents`.
Anything else returns ``None`` and the line takes the reference path: the shared document
reader's strict JSON parse and the ``from_payload`` of each record in ``records.py``, which
reads any shape and says why it rejects a record. So this module only has to recognise the
plain case and map it exactly as the reference does; it never rejects a record itself.
``tests/sources/test_x_compiled.py`` checks that both paths give the same rows for fixtures
and for generated pages (hypothesis).

What sends a line to the reference path: a field of an unexpected type (an id that is a number,
an ``in_reply_to_user_id`` or ``conversation_id`` that is not text, a count that is text or
outside int64, a non-list ``referenced_tweets``, …), a missing
``created_at``/``author_id`` or one that does not parse, a page with ``errors`` (they become
quarantined records), inline ``author``/``attachments.media`` (twarc2 ``flatten``, read by the
reference), a users page, any invalid JSON or UTF-8 or unpaired surrogate escape anywhere in
the line (msgspec refuses those, as DuckDB's JSON type does), and nesting too deep to read.

Known differences, in lines X does not write: a number of more than 4,300 digits in a field
nobody reads makes the reference refuse the line (Python's limit on reading such numbers)
while the compiled path loads its tweets; an object with a key twice keeps both in its
payload (the row takes the last value, as the reference does, but DuckDB's ``->>`` reads the
first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, Raw, Struct, UnsetType, field

from govsocial.errors import RecordError
from govsocial.sources.values import COUNT_RANGE, MAX_COUNT, timestamp
from govsocial.sources.x.records import (
    Media,
    Tweet,
    User,
    is_outside_link,
    media_kind,
    reply_to_other,
)

Count = Annotated[int, Meta(ge=COUNT_RANGE.start, le=MAX_COUNT)]  # what values.count takes
Duration = Annotated[int, Meta(ge=0, le=MAX_COUNT)]
Id = Annotated[str, Meta(min_length=1)]


class _TweetMetrics(Struct):
    retweet_count: Count | None = None
    reply_count: Count | None = None
    like_count: Count | None = None
    quote_count: Count | None = None
    bookmark_count: Count | None = None
    impression_count: Count | None = None


class _Reference(Struct):
    type: Any = None


class _Attachments(Struct):
    media_keys: list[str] | None = None
    media: Any = UNSET  # inline media (flatten): the reference path reads them


class _Url(Struct):
    media_key: Any = UNSET  # present at all: a link to attached media
    expanded_url: Any = None
    url: Any = None


class _Entities(Struct):
    urls: list[_Url] | None = None


class _Tweet(Struct):
    id: Id
    created_at: str
    author_id: Id | UnsetType = UNSET
    text: str | None = None
    public_metrics: _TweetMetrics | None = None
    referenced_tweets: list[_Reference] | None = None
    attachments: _Attachments | None = None
    entities: _Entities | None = None
    in_reply_to_user_id: str | None = None
    conversation_id: str | None = None
    author: Any = UNSET  # inline author (flatten): the reference path reads it


class _UserMetrics(Struct):
    followers_count: Count | None = None
    following_count: Count | None = None
    tweet_count: Count | None = None


class _User(Struct):
    id: Id
    username: str | None = None
    name: str | None = None
    public_metrics: _UserMetrics | None = None


class _MediaMetrics(Struct):
    view_count: Count | None = None


class _Media(Struct):
    media_key: Id
    type: str | None = None
    duration_ms: Duration | None = None
    public_metrics: _MediaMetrics | None = None


class _Includes(Struct):
    users: list[Raw] | None = None
    media: list[_Media] | None = None


class _Twarc(Struct):
    retrieved_at: Any = UNSET


class _Page(Struct):
    data: list[Raw] | UnsetType = UNSET
    includes: _Includes | None = None
    errors: Any = UNSET
    twarc: _Twarc | UnsetType = field(default=UNSET, name="__twarc")


class _StreamPage(_Page):
    data: Raw | UnsetType = UNSET  # type: ignore[assignment]  # the streaming endpoint


_PAGE = msgspec.json.Decoder(_Page)
_STREAM_PAGE = msgspec.json.Decoder(_StreamPage)
_TWEET = msgspec.json.Decoder(_Tweet)
_USER = msgspec.json.Decoder(_User)
_NO_TWEET_METRICS = _TweetMetrics()
_NO_USER_METRICS = _UserMetrics()
_NO_KINDS: frozenset[str] = frozenset()


@dataclass(slots=True)
class CompiledPage:
    """An ordinary page, decoded: its tweets with their payloads, expansions by key."""

    tweets: list[tuple[str, Tweet]]  # (payload: the tweet as received, the tweet)
    users: list[tuple[User, str]]  # includes.users in order: (user, payload as received)
    authors: dict[str, User]  # the same users by id, for the tweets to refer to
    media: dict[str, Media]
    captured: datetime | None  # __twarc.retrieved_at; None: the file's fallback applies
    single: bool  # data held one tweet, not a list (the streaming endpoint)


def decode_page(line: bytes) -> CompiledPage | None:
    """The page on ``line`` if it is an ordinary one, else None (the reference path reads it)."""
    if not line.isascii():  # msgspec checks UTF-8 only in the fields it decodes
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        page: _Page = _PAGE.decode(line)
    except (msgspec.DecodeError, RecursionError):
        try:
            page = _STREAM_PAGE.decode(line)
        except (msgspec.DecodeError, RecursionError):
            return None
    data: Any = page.data  # a list of tweets, or one (a _StreamPage's Raw)
    if data is UNSET or page.errors is not UNSET:
        return None
    single = isinstance(data, Raw)
    try:
        captured = _captured(page)
        found = [_tweet(raw) for raw in ([data] if single else data)]
        includes = page.includes or _Includes()
        users = [_user(raw) for raw in includes.users or ()]
        media = {m.media_key: _media(m) for m in includes.media or ()}
    except (msgspec.DecodeError, RecordError, UnicodeDecodeError, RecursionError):
        return None
    tweets = [(payload, tweet) for payload, tweet in found if tweet is not None]
    if len(tweets) < len(found):
        return None
    authors = {user.id: user for user, _ in users}
    return CompiledPage(tweets, users, authors, media, captured, single)


def _captured(page: _Page) -> datetime | None:
    if page.twarc is UNSET or page.twarc.retrieved_at is UNSET:
        return None
    return timestamp(page.twarc.retrieved_at, "__twarc.retrieved_at", UTC)


def _tweet(raw: Raw) -> tuple[str, Tweet | None]:
    tweet: _Tweet = _TWEET.decode(raw)
    if tweet.author_id is UNSET or tweet.author is not UNSET:
        return "", None  # a user, or a flattened tweet: the reference path reads those
    keys: tuple[str, ...] = ()
    attachments = tweet.attachments
    if attachments is not None:
        if attachments.media is not UNSET:
            return "", None
        if attachments.media_keys:
            keys = tuple(attachments.media_keys)
    metrics = tweet.public_metrics or _NO_TWEET_METRICS
    references = tweet.referenced_tweets
    kinds = {r.type for r in references if type(r.type) is str} if references else _NO_KINDS
    retweet = "retweeted" in kinds
    urls = tweet.entities.urls if tweet.entities is not None else None
    return str(raw, "utf-8"), Tweet(
        tweet.id,
        tweet.author_id,
        timestamp(tweet.created_at, f"tweet {tweet.id}: created_at", UTC),
        tweet.text,
        metrics.retweet_count,
        metrics.reply_count,
        metrics.like_count,
        metrics.quote_count,
        metrics.bookmark_count,
        metrics.impression_count,
        retweet,
        reply_to_other(
            tweet.id,
            tweet.author_id,
            tweet.in_reply_to_user_id,
            tweet.conversation_id,
            retweet=retweet,
            replied="replied_to" in kinds,
            quoted="quoted" in kinds,
        ),
        keys,
        any(is_outside_link(u.media_key is not UNSET, u.expanded_url or u.url) for u in urls)
        if urls
        else False,
        None,
        (),
    )


def _user(raw: Raw) -> tuple[User, str]:
    user: _User = _USER.decode(raw)
    metrics = user.public_metrics or _NO_USER_METRICS
    username = user.username.lstrip("@") if user.username else None
    return User(
        user.id,
        username,
        user.name or None,
        metrics.followers_count,
        metrics.following_count,
        metrics.tweet_count,
    ), str(raw, "utf-8")


def _media(media: _Media) -> Media:
    views = media.public_metrics.view_count if media.public_metrics is not None else None
    duration = None if media.duration_ms is None else media.duration_ms / 1000
    return Media(media.media_key, media_kind(media.type, media.media_key), duration, views)
