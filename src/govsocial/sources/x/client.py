"""The X API v2 live client (:class:`XClient`), on the one HTTP toolkit.

It reads, with an app's bearer token (``Authorization: Bearer ...``, app-only
authentication, https://docs.x.com/fundamentals/authentication/oauth-2-0/application-only):

- followers: a user lookup, ``GET /2/users/:id`` (the registry has the account's id) or
  ``GET /2/users/by/username/:username``, with ``user.fields=public_metrics,created_at,
  description,username,name`` (https://docs.x.com/x-api/users/get-user-by-id ,
  https://docs.x.com/x-api/users/get-user-by-username): ``{"data": {user}}``, which the
  ``x-v2`` reader reads as one follower reading;
- posts: the user's posts timeline ``GET /2/users/:id/tweets``
  (https://docs.x.com/x-api/users/get-posts) with ``start_time``/``end_time`` (RFC 3339, second
  granularity, both inclusive), ``max_results=100`` and ``pagination_token`` =
  ``meta.next_token`` (https://docs.x.com/x-api/fundamentals/pagination), newest first, with
  the fields and expansions the reader needs (:data:`TWEET_PARAMS`). The timeline serves a
  user's 3,200 most recent posts at most;
- recount: the posts lookup ``GET /2/tweets?ids=`` (up to 100 ids,
  https://docs.x.com/x-api/posts/get-posts-by-ids) with the same fields.

Rate limits are per endpoint, in 15-minute windows, per app with a bearer token
(https://docs.x.com/fundamentals/rate-limits): the toolkit reads ``x-rate-limit-limit`` /
``-remaining`` / ``-reset`` after every call and waits for the reset before calling an
endpoint whose window is used up, saying so through ``on_wait``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Unpack
from urllib.parse import quote

from govsocial.errors import TerminalSourceError
from govsocial.sources.clients import (
    AccountRef,
    Auth,
    ClientOptions,
    Fetched,
    ToolkitClient,
    account_failure,
    fetched,
)
from govsocial.sources.http import NextTokenPaginator, Page, Resume, XApi
from govsocial.sources.x.files import FORMAT_NAME

BASE_URL = "https://api.x.com"
BATCH = 100  # the most ids GET /2/tweets takes, and the most posts a timeline page holds
USER_FIELDS = "public_metrics,created_at,description,username,name"
TWEET_PARAMS = {
    "tweet.fields": "created_at,public_metrics,conversation_id,in_reply_to_user_id,"
    "referenced_tweets,attachments,entities,lang,author_id",
    "expansions": "author_id,attachments.media_keys,referenced_tweets.id",
    "user.fields": "public_metrics,username",
    "media.fields": "type,public_metrics,duration_ms",
}
# The earliest start_time the timeline accepts (its reference, above).
EARLIEST = datetime(2010, 11, 6, tzinfo=UTC)
# X refuses a start_time or end_time less than 10 seconds before the request; kept clear of it.
FRESH = timedelta(seconds=30)
# A resumed walk must repeat the first request's times (end_time omitted when it was "now").
_START, _END = "start_time", "end_time"


def rfc3339(moment: datetime) -> str:
    """``2025-03-01T00:00:00Z``: what start_time and end_time take (whole seconds, UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _floor(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _ceil(moment: datetime) -> datetime:
    return moment if not moment.microsecond else _floor(moment) + timedelta(seconds=1)


class XClient(ToolkitClient):
    """A :class:`~govsocial.sources.clients.PlatformClient` for X accounts (see the module
    docstring). ``credentials["x_bearer_token"]`` is the app's bearer token; the keywords are
    :class:`~govsocial.sources.clients.ClientOptions`. X's quotas are its per-endpoint windows
    (read from headers) and the project's monthly post cap (reported by the API as a
    :class:`~govsocial.errors.QuotaExhausted`); ``budget`` is optional."""

    platform = "x"
    format = FORMAT_NAME
    name = "X"
    api = XApi
    root = BASE_URL
    settings = (("x_bearer_token", "the bearer token of an app in the X developer portal"),)
    docs = "docs/collect-x.md"

    def __init__(self, credentials: Mapping[str, str], **options: Unpack[ClientOptions]) -> None:
        super().__init__(credentials, **options)
        self._ids: dict[int, str] = {}  # account_id -> X user id, found by a lookup

    def auth(self, values: Mapping[str, str]) -> Auth:
        return Auth(headers={"Authorization": f"Bearer {values['x_bearer_token']}"})

    # -- followers --------------------------------------------------------------------------

    def followers(self, account: AccountRef) -> Fetched:
        """The user lookup: one follower reading (``{"data": {..., "public_metrics":
        {"followers_count": ...}}}``). A deleted, suspended or unknown account is a
        :class:`~govsocial.errors.TerminalSourceError` naming it."""
        return fetched(self._lookup(account))

    def _lookup(self, account: AccountRef) -> Page:
        about = account.describe()
        params = {"user.fields": USER_FIELDS}
        if account.platform_id:
            path = f"/2/users/{quote(account.platform_id, safe='')}"
        elif account.handle:
            path = f"/2/users/by/username/{quote(account.handle.lstrip('@'), safe='')}"
        else:
            raise account_failure(
                "X",
                account,
                "the account has neither a user id nor a username. Fix: add its @username or "
                "user id to the registry.",
            )
        page = self._api.get(path, params, about=about)
        data = page.data.get("data") if isinstance(page.data, dict) else None
        user_id = data.get("id") if isinstance(data, dict) else None
        if isinstance(user_id, str) and user_id:
            self._ids[account.account_id] = user_id
        return page

    def _user_id(self, account: AccountRef) -> str:
        if account.platform_id:
            return account.platform_id
        if account.account_id not in self._ids:
            page = self._lookup(account)
            if account.account_id not in self._ids:
                raise account_failure(
                    "X",
                    account,
                    f"the user lookup gave no user id (GET {page.origin}). Fix: check the "
                    "account's @username in the registry.",
                    page,
                )
        return self._ids[account.account_id]

    # -- posts ------------------------------------------------------------------------------

    def posts(
        self, account: AccountRef, since: datetime, until: datetime, resume: Resume | None
    ) -> Iterator[Fetched]:
        """The user's posts created in ``[since, until)``, newest first, one timeline page
        per body (an empty last page too: it loads nothing). ``end_time`` is inclusive, so
        it is the last whole second before ``until``; it is left out when ``until`` is not
        yet 30 seconds past (the API then reads up to now; it refuses times less than 10
        seconds old), and a resumed walk asks exactly what its first page asked."""
        if until <= since:
            return
        user_id = self._user_id(account)
        now = self.clock()
        kept = resume.state if resume is not None else {}
        if _START in kept and _END in kept:
            start, end = str(kept[_START]), str(kept[_END])
        else:
            start = rfc3339(min(max(_floor(since), EARLIEST), _floor(now - FRESH)))
            last = _ceil(until) - timedelta(seconds=1)
            end = rfc3339(last) if last < now - FRESH else ""
        params = {**TWEET_PARAMS, "max_results": str(BATCH), _START: start}
        if end:
            params[_END] = end
        walk = self._api.paginate(
            f"/2/users/{quote(user_id, safe='')}/tweets",
            params,
            NextTokenPaginator(),
            resume=resume,
            about=account.describe(),
        )
        for page in walk:
            following = page.resume
            if following is not None:
                times = {_START: start, _END: end}
                following = Resume(following.page, {**following.state, **times})
            yield fetched(page, following)

    # -- recount ----------------------------------------------------------------------------

    def recount(self, account: AccountRef, post_ids: Sequence[str]) -> Iterator[Fetched]:
        """Fresh counts of the given posts, ``GET /2/tweets`` 100 ids at a time. A deleted
        post is one of the answer's ``errors`` (quarantined by the reader, saying so); a
        batch whose posts are all gone has no body to load and is skipped."""
        about = account.describe()
        unique = list(dict.fromkeys(i for i in post_ids if i))
        number = 0
        for start in range(0, len(unique), BATCH):
            params = {**TWEET_PARAMS, "ids": ",".join(unique[start : start + BATCH])}
            try:
                page = self._api.get("/2/tweets", params, about=about)
            except TerminalSourceError as exc:
                if exc.status is not None and 200 <= exc.status < 300:
                    continue  # only errors: every post of the batch is deleted or hidden
                raise
            number += 1
            yield fetched(page, number=number)
