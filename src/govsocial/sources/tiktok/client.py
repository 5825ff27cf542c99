"""The TikTok Research API client (:class:`TikTokClient`, import format ``tiktok-research``).

What it asks, each checked against TikTok's reference:

- a **client access token**: ``POST /v2/oauth/token/`` with the form ``client_key``,
  ``client_secret``, ``grant_type=client_credentials``; the answer ``{"access_token":
  "clt.…", "expires_in": 7200, "token_type": "Bearer"}`` is kept in memory only, sent as
  ``Authorization: Bearer …`` and renewed before ``expires_in`` runs out, or once when the
  API answers ``access_token_invalid``
  (https://developers.tiktok.com/doc/client-access-token-management,
  https://developers.tiktok.com/doc/oauth-error-handling);
- **followers**: ``POST /v2/research/user/info/?fields=display_name,…,video_count`` with the
  body ``{"username": …}``; the answer does not name its user, so the kept body carries
  ``"username"`` beside ``data`` (:func:`~govsocial.sources.tiktok.records.saved_response`)
  (https://developers.tiktok.com/doc/research-api-specs-query-user-info);
- **posts**: ``POST /v2/research/video/query/?fields=id,…`` with the body ``{"query": {"and":
  [{"operation": "EQ", "field_name": "username", "field_values": [handle]}]}, "start_date":
  "YYYYMMDD", "end_date": "YYYYMMDD", "max_count": 100}`` plus ``cursor`` and ``search_id``
  from the previous page (:class:`~govsocial.sources.http.TikTokCursorPaginator`). Both
  dates are days in UTC and both are included (the reference's own example asks
  ``"start_date": "20181207", "end_date": "20181207"``, one day); a query may span at most 30
  days, so ``[since, until)`` is walked in windows of at most 30 days, newest first
  (https://developers.tiktok.com/doc/research-api-specs-query-videos,
  https://developers.tiktok.com/doc/research-api-get-started);
- **recount**: the same video query with ``{"operation": "IN", "field_name": "video_id",
  "field_values": [ids]}``. The query needs a date window and the contract passes only ids, so
  it asks the last 30 days (UTC) first and, for the ids not found there, the 30 days before
  (:data:`RECOUNT_WINDOWS`): a post older than 60 days is not recounted.

Every request to a research endpoint is counted against the project's daily limit
(:meth:`QuotaBudget.tiktok <govsocial.sources.http.QuotaBudget.tiktok>`: 1,000 requests a day,
reset at midnight UTC, https://developers.tiktok.com/doc/research-api-faq); token requests
are not. Failures are classified by :class:`~govsocial.sources.http.TikTokApi`.

A resumed walk of posts continues in the window it was in: :attr:`Fetched.resume
<govsocial.sources.clients.Fetched.resume>` holds the window's ``window_start`` and
``window_end`` (``YYYYMMDD``) beside the paginator's ``cursor`` and ``search_id``, and after
the last page of a window it names the next, older window (no cursor). Docs:
docs/collect-tiktok.md.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, TypeVar, Unpack

import httpx
import tenacity

from govsocial.errors import SourceError, TerminalSourceError, TransientSourceError
from govsocial.sources.api import ApiError
from govsocial.sources.clients import (
    AccountRef,
    ClientOptions,
    Fetched,
    account_failure,
    credential_values,
    fetched,
    settings_named,
    utc_now,
)
from govsocial.sources.http import (
    USER_AGENT,
    ApiClient,
    Page,
    QuotaBudget,
    Redactor,
    Resume,
    RetryPolicy,
    TikTokApi,
    TikTokCursorPaginator,
    Usage,
    Wait,
)
from govsocial.sources.tiktok.files import FORMAT_NAME
from govsocial.sources.tiktok.records import API, saved_response

API_ROOT = "https://open.tiktokapis.com"
TOKEN_PATH = "/v2/oauth/token/"
USER_INFO_PATH = "/v2/research/user/info/"
VIDEO_QUERY_PATH = "/v2/research/video/query/"
USER_FIELDS = (
    "display_name,bio_description,avatar_url,is_verified,follower_count,following_count,"
    "likes_count,video_count"
)
VIDEO_FIELDS = (
    "id,video_description,create_time,region_code,share_count,view_count,like_count,"
    "comment_count,music_id,hashtag_names,username,voice_to_text,favorites_count,video_duration"
)
MAX_COUNT = 100  # videos a page: the reference's maximum
WINDOW_DAYS = 30  # days one video query may span
RECOUNT_WINDOWS = 2  # 30-day windows a recount looks back through: 60 days
RECOUNT_BATCH = 100  # ids asked in one recount query (one page of max_count videos)
CONCURRENCY = 2  # requests in flight at once, for all accounts
# A token is renewed this long before TikTok says it expires (half its life if shorter).
RENEW_MARGIN = timedelta(minutes=5)
PLATFORM = "TikTok"
SETTINGS = {
    "tiktok_client_key": "the client key of a Research API project TikTok approved (TikTok "
    "for Developers > Research projects)",
    "tiktok_client_secret": "the research project's client secret",
}
CREDENTIAL = settings_named(*SETTINGS)
DOCS = "docs/collect-tiktok.md"
_DAY = "%Y%m%d"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Window:
    """The days ``start`` to ``end`` (both included, UTC) that one video query asks."""

    start: date
    end: date

    def dates(self) -> dict[str, str]:
        """The query body's ``start_date`` and ``end_date``."""
        return {"start_date": self.start.strftime(_DAY), "end_date": self.end.strftime(_DAY)}

    def state(self) -> dict[str, str | int | bool]:
        """The window as kept in a :class:`Resume`'s state."""
        return {"window_start": self.start.strftime(_DAY), "window_end": self.end.strftime(_DAY)}

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"


def days_of(since: datetime, until: datetime) -> tuple[date, date] | None:
    """The first and last UTC day holding a moment of ``[since, until)`` (None if empty)."""
    if until <= since:
        return None
    first = since.astimezone(UTC).date()
    last = (until - timedelta(microseconds=1)).astimezone(UTC).date()
    return first, last


def windows(first: date, last: date, days: int = WINDOW_DAYS) -> list[Window]:
    """``first`` to ``last`` (both included) in windows of at most ``days`` days, newest first,
    each starting the day after the one before it ends (no gap, no day twice)."""
    found: list[Window] = []
    end = last
    while end >= first:
        start = max(first, end - timedelta(days=days - 1))
        found.append(Window(start, end))
        end = start - timedelta(days=1)
    return found


def _kept_window(state: Mapping[str, str | int | bool]) -> Window | None:
    start, end = state.get("window_start"), state.get("window_end")
    if not isinstance(start, str) or not isinstance(end, str):
        return None
    try:
        window = Window(datetime.strptime(start, _DAY).date(), datetime.strptime(end, _DAY).date())
    except ValueError:
        return None
    return window if window.start <= window.end else None


def _cursor_only(state: Mapping[str, str | int | bool]) -> dict[str, str | int | bool]:
    return {k: v for k, v in state.items() if k not in ("window_start", "window_end")}


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    renew_at: datetime


class TikTokClient:
    """A :class:`~govsocial.sources.clients.PlatformClient` for the TikTok Research API (see
    the module docstring). ``credentials`` holds ``tiktok_client_key`` and
    ``tiktok_client_secret``; the keywords are
    :class:`~govsocial.sources.clients.ClientOptions` (``base_url`` None is the real API root,
    ``https://open.tiktokapis.com``; ``budget`` defaults to :meth:`QuotaBudget.tiktok`) and
    ``retry``, as for :class:`~govsocial.sources.http.ApiClient`. Thread-safe."""

    platform = "tiktok"
    format = FORMAT_NAME

    def __init__(
        self,
        credentials: Mapping[str, str],
        *,
        retry: RetryPolicy | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        values = credential_values(credentials, SETTINGS, platform=PLATFORM, docs=DOCS)
        key, secret = values["tiktok_client_key"], values["tiktok_client_secret"]
        self._key, self._secret = key, secret
        self.base_url = (options.get("base_url") or API_ROOT).rstrip("/")
        self.on_wait = options.get("on_wait")
        self.clock = options.get("clock", utc_now)
        self.sleep = options.get("sleep", time.sleep)
        self.transport = options.get("transport")
        budget = options.get("budget")
        self.budget = budget if budget is not None else QuotaBudget.tiktok()
        self.retry = retry or RetryPolicy()
        self.redactor = Redactor([key, secret])
        self._slots = threading.BoundedSemaphore(CONCURRENCY)
        self._lock = threading.Lock()
        self._token: _Token | None = None
        self._api: ApiClient | None = None
        self._retired: list[ApiClient] = []
        self._token_requests = 0
        self._oauth = httpx.Client(
            base_url=self.base_url,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            timeout=httpx.Timeout(30.0, connect=10.0),
            transport=self.transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"TikTokClient({self.base_url!r})"

    def __enter__(self) -> TikTokClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            clients = [*self._retired, *([self._api] if self._api else [])]
            self._retired, self._api, self._token = [], None, None
        for client in clients:
            client.close()
        self._oauth.close()

    @property
    def usage(self) -> Usage:
        """Research API requests, retries and waits of every token's client so far, and the
        daily request budget."""
        with self._lock:
            clients = [*self._retired, *([self._api] if self._api else [])]
        if not clients:  # nothing sent yet: only the budget (which may carry earlier runs)
            now = self.clock()
            return Usage(
                PLATFORM,
                quota_used=self.budget.used(now),
                quota_limit=self.budget.limit,
                quota_unit=self.budget.unit,
                quota_resets_at=self.budget.resets_at(now),
            )
        readings = [c.usage for c in clients]
        last = readings[-1]
        return replace(
            last,
            requests=sum(u.requests for u in readings),
            retries=sum(u.retries for u in readings),
            waited_seconds=sum(u.waited_seconds for u in readings),
        )

    @property
    def token_requests(self) -> int:
        """How many client access tokens were asked for."""
        return self._token_requests

    # -- the three readings -----------------------------------------------------------------

    def followers(self, account: AccountRef) -> Fetched:
        """One user info response, kept with the username it was asked about."""
        handle = _handle(account)
        page = self._with_token(
            lambda api: api.request(
                "POST",
                USER_INFO_PATH,
                params={"fields": USER_FIELDS},
                json={"username": handle},
                about=account.describe(),
            )
        )
        return fetched(page, body=_kept(page, handle), number=1)

    def posts(
        self, account: AccountRef, since: datetime, until: datetime, resume: Resume | None
    ) -> Iterator[Fetched]:
        """The account's video query pages of ``[since, until)``, window by window, newest
        window first; each with the :class:`Resume` to continue after it. The windows ask
        whole UTC days, so videos of the first and last day outside ``[since, until)`` come
        too (loading them again only adds a reading)."""
        handle = _handle(account)
        span = days_of(since, until)
        if span is None:
            return
        first, last = span
        plan = windows(first, last)
        cursor: Resume | None = None
        number = 1
        if resume is not None:
            number = resume.page
            kept = _kept_window(resume.state)
            if kept is not None:  # that window, then the older ones still in [since, until)
                older = kept.start - timedelta(days=1)
                plan = [kept, *(windows(first, older) if older >= first else [])]
                cursor = Resume(resume.page, _cursor_only(resume.state))
        about = account.describe()
        for index, window in enumerate(plan):
            body = {**_by_username(handle), **window.dates(), "max_count": MAX_COUNT}
            start = cursor if index == 0 and cursor is not None else Resume(number, {})
            for page in self._walk(body, start, about, window):
                number = page.number + 1
                following: Resume | None = None
                if page.resume is not None:
                    following = Resume(page.resume.page, {**window.state(), **page.resume.state})
                elif index + 1 < len(plan):
                    following = Resume(number, plan[index + 1].state())
                yield fetched(page, following, body=_kept(page, handle))

    def recount(self, account: AccountRef, post_ids: Sequence[str]) -> Iterator[Fetched]:
        """Video query pages holding fresh counts of ``post_ids`` (in batches of
        :data:`RECOUNT_BATCH`), asked in the last 30 days and then, for the ids not found,
        the 30 days before (:data:`RECOUNT_WINDOWS`). Ids not found in either are deleted,
        made private, or older: they are not asked again."""
        ids = list(dict.fromkeys(str(i).strip() for i in post_ids if str(i).strip()))
        if not ids:
            return
        today = self.clock().astimezone(UTC).date()
        recent = windows(today - timedelta(days=WINDOW_DAYS * RECOUNT_WINDOWS - 1), today)
        about = account.describe()
        number = 1
        for offset in range(0, len(ids), RECOUNT_BATCH):
            missing = ids[offset : offset + RECOUNT_BATCH]
            for window in recent:
                if not missing:
                    break
                query = {
                    "and": [{"operation": "IN", "field_name": "video_id", "field_values": missing}]
                }
                body = {"query": query, **window.dates(), "max_count": MAX_COUNT}
                found: set[str] = set()
                for page in self._walk(body, Resume(number, {}), about, window):
                    number = page.number + 1
                    found |= _video_ids(page.data)
                    yield fetched(page, body=_kept(page, account.handle))
                missing = [i for i in missing if i not in found]

    # -- walking a query ----------------------------------------------------------------------

    def _walk(
        self, body: dict[str, Any], start: Resume, about: str, window: Window
    ) -> Iterator[Page]:
        """The pages of one video query, one request at a time (so the token is checked, and
        renewed, between pages), from ``start``. A resumed ``search_id`` that TikTok no longer
        knows (they expire) starts the window again from its first page, once."""
        current = start
        restarted = False
        while True:
            try:
                page = self._with_token(partial(_one_page, body=body, start=current, about=about))
            except TerminalSourceError as exc:
                if restarted or "search_id" not in current.state or not _search_expired(exc):
                    raise
                restarted = True
                current = Resume(current.page, {})
                continue
            yield page
            if page.resume is None:
                return
            current = page.resume

    # -- the token ----------------------------------------------------------------------------

    def _with_token(self, call: Callable[[ApiClient], T]) -> T:
        """``call`` with the client of a valid token; when the API says the token is invalid,
        once more with a new one."""
        api = self._session()
        try:
            return call(api)
        except TerminalSourceError as exc:
            if not _token_refused(exc):
                raise
        return call(self._session(refused=api))

    def _session(self, refused: ApiClient | None = None) -> ApiClient:
        with self._lock:
            token, api = self._token, self._api
            stale = token is None or api is None or self.clock() >= token.renew_at
            if not stale and (refused is None or refused is not api):
                assert api is not None
                return api
            token = self._fetch_token()
            api = ApiClient(
                PLATFORM,
                TikTokApi(),
                self.base_url,
                auth_headers={"Authorization": f"Bearer {token.value}"},
                credential=CREDENTIAL,
                concurrency=self._slots,
                retry=self.retry,
                budget=self.budget,
                on_wait=self.on_wait,
                clock=self.clock,
                sleep=self.sleep,
                transport=self.transport,
            )
            if self._api is not None:
                self._retired.append(self._api)
            self._token, self._api = token, api
            return api

    def _fetch_token(self) -> _Token:
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.retry.attempts),
            wait=tenacity.wait_random_exponential(
                multiplier=self.retry.backoff, max=self.retry.max_backoff
            ),
            retry=tenacity.retry_if_exception_type(TransientSourceError),
            before_sleep=self._before_token_retry,
            sleep=self.sleep,
            reraise=True,
        )
        token: _Token = retrying(self._ask_token)
        return token

    def _ask_token(self) -> _Token:
        """``POST /v2/oauth/token/`` (form-encoded, as the reference says)."""
        self._token_requests += 1
        form = {
            "client_key": self._key,
            "client_secret": self._secret,
            "grant_type": "client_credentials",
        }
        origin = self.redactor.url(f"{self.base_url}{TOKEN_PATH}")
        try:
            response = self._oauth.post(
                TOKEN_PATH, data=form, headers={"Cache-Control": "no-cache"}
            )
        except httpx.TimeoutException:
            raise self._token_error("the request timed out", None, origin, None, True) from None
        except httpx.TransportError as exc:
            what = f"the connection failed ({type(exc).__name__})"
            raise self._token_error(what, None, origin, None, True) from None
        status = response.status_code
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("error"), str) and data["error"]:
            error = ApiError(
                API,
                self.redactor.text(str(data.get("error_description") or "no message")),
                kind=self.redactor.text(data["error"]),
                resource=f"log_id {data['log_id']}"
                if isinstance(data.get("log_id"), str)
                else None,
            )
            transient = status >= 500 or status == 429 or data["error"] == "temporarily_unavailable"
            raise self._token_error(
                "the client access token was refused", status, origin, error, transient
            )
        if status >= 500 or status == 429:
            raise self._token_error("the server failed", status, origin, None, True)
        value = data.get("access_token") if isinstance(data, dict) else None
        lifetime = data.get("expires_in") if isinstance(data, dict) else None
        if not (200 <= status < 300) or not isinstance(value, str) or not value:
            what = "the answer holds no access token" if 200 <= status < 300 else "it failed"
            raise self._token_error(what, status, origin, None, data is None)
        seconds = lifetime if isinstance(lifetime, int) and lifetime > 0 else 7200
        margin = min(RENEW_MARGIN, timedelta(seconds=seconds / 2))
        return _Token(value, self.clock() + timedelta(seconds=seconds) - margin)

    def _token_error(
        self, what: str, status: int | None, origin: str, error: ApiError | None, transient: bool
    ) -> SourceError:
        http = f"HTTP {status}, " if status is not None else ""
        said = f" The API said: {error.describe().rstrip('.')}." if error else ""
        if transient:
            fix = "try again later; the next run continues from the last page kept"
        else:
            fix = (
                f"check {CREDENTIAL}: they must be the client key and secret of a Research API "
                f"project that TikTok approved (TikTok for Developers > Research projects; {DOCS})"
            )
        message = self.redactor.text(
            f"{PLATFORM}: {what} while asking for a client access token "
            f"({http}POST {origin}).{said} Fix: {fix}."
        )
        kind = TransientSourceError if transient else TerminalSourceError
        return kind(message, status=status, url=origin, platform=PLATFORM, api_error=error)

    def _before_token_retry(self, state: tenacity.RetryCallState) -> None:
        if self.on_wait is None:
            return
        seconds = state.next_action.sleep if state.next_action else 0.0
        now = self.clock()
        self.on_wait(
            Wait(
                PLATFORM,
                "retry",
                "the client access token could not be had",
                seconds,
                now + timedelta(seconds=seconds),
                now,
                state.attempt_number + 1,
                self.retry.attempts,
            )
        )


def _one_page(api: ApiClient, *, body: dict[str, Any], start: Resume, about: str) -> Page:
    """One page of a video query from ``start`` (the page number and the cursor)."""
    pages = api.paginate(
        VIDEO_QUERY_PATH,
        {"fields": VIDEO_FIELDS},
        TikTokCursorPaginator(),
        method="POST",
        json=body,
        resume=start,
        about=about,
        max_pages=1,
    )
    try:
        return next(pages)
    finally:
        close = getattr(pages, "close", None)  # a generator: let it end now, not at gc
        if close is not None:
            close()


def _by_username(handle: str) -> dict[str, Any]:
    return {
        "query": {"and": [{"operation": "EQ", "field_name": "username", "field_values": [handle]}]}
    }


def _kept(page: Page, username: str | None) -> bytes:
    """The body the reader reads: the response with the username it was about beside its
    ``data`` (user info needs it; a video page uses it for a video without one)."""
    data = page.data
    if not isinstance(data, dict) or not username:
        return page.body
    kept = saved_response(data, username)
    return json.dumps(kept, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _video_ids(data: Any) -> set[str]:
    videos = data.get("data", {}).get("videos") if isinstance(data, dict) else None
    found: set[str] = set()
    for video in videos if isinstance(videos, list) else []:
        if isinstance(video, dict):
            value = video.get("id", video.get("video_id"))
            if value is not None:
                found.add(str(value))
    return found


def _handle(account: AccountRef) -> str:
    handle = (account.handle or "").strip().lstrip("@")
    if not handle:
        raise account_failure(
            PLATFORM,
            account,
            "the Research API finds accounts by username only, and this account has none in "
            "the registry. Fix: add its handle (the name after @ in its tiktok.com/@… address) "
            "to the registry and apply it.",
        )
    return handle


def _token_refused(exc: TerminalSourceError) -> bool:
    return exc.api_error is not None and exc.api_error.kind == "access_token_invalid"


def _search_expired(exc: TerminalSourceError) -> bool:
    """TikTok's answer to a ``search_id`` it no longer keeps: ``invalid_params`` saying
    "Search Id … is invalid or expired" (as research clients such as tiktok-library meet it)."""
    error = exc.api_error
    if error is None or error.kind != "invalid_params":
        return False
    message = error.message.lower()
    return "search id" in message or "search_id" in message
