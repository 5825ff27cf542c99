"""Turn parsed X API v2 pages into rows of the canonical posts and account snapshots tables.

A page is one API response, as twarc2 writes it (one per line)::

    {"data": [tweet, …] | tweet,            # a list; the streaming endpoint: ONE object
     "includes": {"users": [user, …], "media": [media, …], "tweets": [tweet, …]},
     "errors": [error, …],                   # partial errors: what could not be returned
     "meta": {"result_count": 100, "next_token": "…"},
     "__twarc": {"url": "…", "version": "2.0.3", "retrieved_at": "2021-04-08T19:34:32+00:00"}}

A users-lookup page has users in ``data``. A line (or an element of a JSON array) may also
be one bare tweet (twarc2 ``flatten``; academictwitteR's ``data_<id>.json`` is an array of
them) or one bare user. academictwitteR saves a page's ``includes`` alone as
``users_<id>.json`` (``{"users": [user, …], "tweets": […], "places": […]}``): its users are
read as follower snapshots. Every user of a page's ``includes.users`` who wrote a tweet of the
page is one record: a follower reading, or quarantined saying why; a post takes its author's
handle and name from there even when the author's counts are broken. Users expanded only
because a tweet mentions, quotes or retweets them are other accounts and are not loaded.
Expansions are looked up through per-page dictionaries, so a page costs time linear in its
size. ``includes.tweets`` (the retweeted/quoted
originals) are other accounts' posts and are not loaded.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from govsocial.errors import RecordError
from govsocial.sources.documents import loads
from govsocial.sources.payloads import payload_json
from govsocial.sources.rows import Rows
from govsocial.sources.values import show, timestamp
from govsocial.sources.x.compiled import CompiledPage
from govsocial.sources.x.records import Author, Media, Tweet, User, api_error, listed

# The canonical columns an X record fills, in the order the rows give them (X has no
# reactions; the platform is written on every good row by Rows).
POST_FIELDS = (
    "account_platform_id", "account_handle", "account_name", "post_id", "posted_at",
    "captured_at", "media_type", "text", "url", "is_repost", "is_reply_to_other",
    "video_duration_s",
    "views", "likes", "comments", "shares", "quotes", "saves",
)  # fmt: skip
SNAPSHOT_FIELDS = (
    "account_platform_id", "account_handle", "account_name", "captured_at",
    "followers", "following", "posts_count",
)  # fmt: skip


def classify(media: tuple[Media, ...], outside_link: bool) -> tuple[str, float | None, int | None]:
    """media_type, video duration (s) and video views of a tweet's attachments."""
    videos = [m for m in media if m.type in ("video", "animated_gif")]
    if videos:
        duration = next((m.duration_s for m in videos if m.duration_s is not None), None)
        views = next((m.view_count for m in videos if m.view_count is not None), None)
        return "video", duration, views
    if media:
        return ("image" if len(media) == 1 else "carousel"), None, None
    return ("link" if outside_link else "text"), None, None


class PageReader:
    """Reads pages into a posts table and an account snapshots table."""

    def __init__(self, fallback_captured: Callable[[], datetime]) -> None:
        numbers = itertools.count(1)  # one record number sequence across both relations
        self.posts = Rows("posts", "x", fields=POST_FIELDS, numbers=numbers)
        self.snapshots = Rows("account_snapshots", "x", fields=SNAPSHOT_FIELDS, numbers=numbers)
        self._fallback = fallback_captured
        # The readings of expanded users already taken at ``_seen_at``: an author expanded
        # again at the same capture time (flattened tweets of one page, stream lines or pages
        # sharing a time) with the same values is the same reading, not a new record. Only
        # the current capture time is remembered, so memory stays that of one run of pages.
        self._seen_at: datetime | None = None
        self._seen: set[tuple[Any, ...]] = set()

    def record(self, value: Any, place: str, primary: Rows) -> None:
        """One JSON value of the file (a page, a bare tweet or user, a page's ``includes``)."""
        if not isinstance(value, dict):
            primary.reject(value, "unknown_shape", f"{place}: not a JSON object")
        elif any(k in value for k in ("data", "errors", "includes", "meta")):
            self._page(value, place, primary)
        elif is_includes(value):
            captured = self._captured(value)
            for i, user in enumerate(value["users"]):
                self._user(user, f"{place}, users[{i}]", captured)
        elif "username" in value and "text" not in value and "author_id" not in value:
            self._user(value, place, self._captured(value))
        elif "id" in value:
            self._tweet(value, place, self._captured(value), {}, {})
        else:
            keys = ", ".join(list(value)[:6])
            primary.reject(
                value, "unknown_shape", f"{place}: not an X API page, tweet or user (keys: {keys})"
            )

    def _page(self, page: dict[str, Any], place: str, primary: Rows) -> None:
        """The page's tweets (or users), then every user of ``includes.users``, then its
        ``errors``: each one record."""
        includes = page.get("includes")
        includes = includes if isinstance(includes, dict) else {}
        users = listed(includes.get("users"))
        # Expansions by key, read when a tweet refers to them: linear in the page's size.
        authors = _authors(users)
        media = _index(includes.get("media"), "media_key")
        data = page.get("data")
        if isinstance(data, dict):  # the streaming endpoint: one tweet per line
            items: list[Any] = [data]
        elif isinstance(data, list):
            items = data
        elif data is None:
            items = []
        else:
            primary.reject(page, "unknown_shape", f"{place}: data {show(data)} is not tweets")
            return
        captured = self._captured(page)
        of_users = bool(items) and all(_is_user(item) for item in items)
        for i, item in enumerate(items):
            where = f"{place}, data" if isinstance(data, dict) else f"{place}, data[{i}]"
            if of_users:
                self._user(item, where, captured)
            else:
                self._tweet(item, where, captured, authors, media)
        # The authors' follower readings: every expanded user who wrote a tweet of the page
        # (kept or rejected, the reading is the author's). Users expanded because a tweet
        # mentions, quotes or retweets them are other accounts, not loaded (as
        # includes.tweets are not): they would make every mentioned account an account.
        wrote = {_hashable(i.get("author_id")) for i in items if isinstance(i, dict)} - {None}
        for i, user in enumerate(users):
            if isinstance(user, dict) and _hashable(user.get("id")) in wrote:
                self._user(user, f"{place}, includes.users[{i}]", captured, expanded=True)
        target = self.snapshots if of_users else (self.posts if items else primary)
        for i, raw in enumerate(listed(page.get("errors"))):
            error = api_error(raw)
            target.reject(raw, "api_error", f"{place}, errors[{i}]: {error.describe()}")

    def _captured(self, envelope: dict[str, Any]) -> datetime | RecordError:
        twarc = envelope.get("__twarc")
        if isinstance(twarc, dict) and "retrieved_at" in twarc:
            try:
                return timestamp(twarc["retrieved_at"], "__twarc.retrieved_at", UTC)
            except RecordError as exc:
                return exc  # the records of this page go to quarantine, saying why
        return self._fallback()

    def _tweet(
        self,
        item: Any,
        place: str,
        captured: datetime | RecordError,
        authors: dict[str, Author],
        media: dict[Any, Any],
    ) -> None:
        """A tweet; a flattened one's inline ``author`` is then read as its own reading."""
        inline = item.get("author") if isinstance(item, dict) else None
        if isinstance(captured, RecordError):
            self.posts.reject(item, captured.reason, f"{place}: {captured.detail}")
        else:
            try:
                payload = payload_json(item)
                tweet = Tweet.from_payload(item)
                attached = tweet.media or tuple(_media(media, key) for key in tweet.media_keys)
            except RecordError as exc:
                self.posts.reject(item, exc.reason, f"{place}: {exc.detail}")
            else:
                author = tweet.author or authors.get(tweet.author_id)
                self._add_post(payload, tweet, attached, author, captured)
        if isinstance(inline, dict):  # the author's reading, whatever became of the tweet
            self._user(inline, f"{place}, author", captured, expanded=True)

    def compiled(self, page: CompiledPage, place: str) -> None:
        """An ordinary page decoded by ``compiled.decode_page``: the same rows as ``record``."""
        captured = self._fallback() if page.captured is None else page.captured
        media, authors = page.media, page.authors
        for payload, tweet in page.tweets:
            keys = tweet.media_keys
            attached = tuple(media.get(k) or Media.from_key(k) for k in keys) if keys else ()
            self._add_post(payload, tweet, attached, authors.get(tweet.author_id), captured)
        wrote = {tweet.author_id for _, tweet in page.tweets}
        for i, (user, payload) in enumerate(page.users):  # per user, not per tweet
            if user.id not in wrote:
                continue  # a mentioned, quoted or retweeted account: not loaded
            missing = user.missing_followers()
            if missing is not None:  # rare: the page was asked without user public_metrics
                where = f"{place}, includes.users[{i}]"
                self.snapshots.reject(loads(payload), missing.reason, f"{where}: {missing.detail}")
            elif self._new_reading(user, captured):
                self._add_snapshot(user, None, captured, place, payload)

    def _add_post(
        self,
        payload: str,
        tweet: Tweet,
        attached: tuple[Media, ...],
        author: Author | None,
        captured: datetime,
    ) -> None:
        handle = author.username if author else None
        name = author.name if author else None
        media_type, duration, video_views = classify(attached, tweet.has_outside_link)
        self.posts.add(
            payload,
            (
                tweet.author_id,
                handle,
                name,
                tweet.id,
                tweet.created_at,
                captured,
                media_type,
                tweet.text,
                f"https://x.com/{handle or 'i/web'}/status/{tweet.id}",
                tweet.is_retweet,
                tweet.is_reply_to_other,
                duration,
                tweet.impressions if tweet.impressions is not None else video_views,
                tweet.likes,
                tweet.replies,
                tweet.retweets,
                tweet.quotes,
                tweet.bookmarks,
            ),
        )

    def _user(
        self, item: Any, place: str, captured: datetime | RecordError, expanded: bool = False
    ) -> None:
        """One user object: a follower reading, or a quarantined record saying why not.

        ``expanded``: an expansion (``includes.users``, a flat tweet's ``author``), which the
        API repeats on every page or line that refers to the account: the same reading at
        the same capture time is taken once. A users page lists what was asked for, so a
        user asked twice is two records (the loader quarantines the second as a duplicate).
        """
        if isinstance(captured, RecordError):
            self.snapshots.reject(item, captured.reason, f"{place}: {captured.detail}")
            return
        try:
            user = User.from_payload(item)
            missing = user.missing_followers()
            if missing is not None:
                raise missing
        except RecordError as exc:
            self.snapshots.reject(item, exc.reason, f"{place}: {exc.detail}")
            return
        if not expanded or self._new_reading(user, captured):
            self._add_snapshot(user, item, captured, place)

    def _new_reading(self, user: User, captured: datetime) -> bool:
        """Whether an expanded user's reading is not one already taken at ``captured``."""
        if captured != self._seen_at:
            self._seen_at, self._seen = captured, set()
        key = (user.id, user.username, user.name, user.followers, user.following, user.tweet_count)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def _add_snapshot(
        self, user: User, raw: Any, captured: datetime, place: str, payload: str | None = None
    ) -> None:
        """A follower reading; ``payload`` is the user as received, else made from ``raw``."""
        if payload is None:
            try:
                payload = payload_json(raw)
            except RecordError as exc:
                self.snapshots.reject(raw, exc.reason, f"{place}: user {user.id}: {exc.detail}")
                return
        self.snapshots.add(
            payload,
            (
                user.id,
                user.username,
                user.name,
                captured,
                user.followers,
                user.following,
                user.tweet_count,
            ),
        )


def _authors(users: list[Any]) -> dict[str, Author]:
    """Who each expanded user is, by id: a post takes its author's handle and name from here
    even when the author's counts are broken (that reading alone is quarantined)."""
    found = {}
    for raw in users:
        try:
            author = Author.from_payload(raw)
        except RecordError:  # no id to be referred to by: its reading is quarantined
            continue
        found[author.id] = author
    return found


def _hashable(value: Any) -> Any:
    """``value`` when it can be looked up in a set (ids are strings or numbers), else None."""
    return value if isinstance(value, str | int) else None


def _index(objects: Any, key: str) -> dict[str, Any]:
    """An expansion list by its key (ids are strings; anything else cannot be referred to)."""
    return {o[key]: o for o in listed(objects) if isinstance(o, dict) and type(o.get(key)) is str}


def _is_user(item: Any) -> bool:
    return isinstance(item, dict) and "username" in item and "author_id" not in item


def _media(index: dict[Any, Any], key: str) -> Media:
    raw = index.get(key)
    if raw is None:
        return Media.from_key(key)
    try:
        return Media.from_payload(raw)
    except RecordError as exc:  # its views or duration cannot be known
        raise RecordError(exc.reason, f"its attached {exc.detail}") from None


_INCLUDES = frozenset({"users", "tweets", "media", "places", "polls", "topics"})


def is_includes(value: dict[str, Any]) -> bool:
    """Whether an object is a page's ``includes`` saved alone (academictwitteR's users file)."""
    return isinstance(value.get("users"), list) and value.keys() <= _INCLUDES


def looks_like_users(value: Any) -> bool:
    """Whether a file's first record is about accounts (a users page or a bare user)."""
    if not isinstance(value, dict):
        return False
    if is_includes(value):
        return True
    data = value.get("data")
    if isinstance(data, list):
        return bool(data) and _is_user(data[0])
    if isinstance(data, dict):
        return _is_user(data)
    return _is_user(value) and "text" not in value
