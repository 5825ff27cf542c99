"""The one HTTP client every platform collector uses: :class:`ApiClient`.

It sends a request with the caller's credentials, keeps them out of everything it returns or
raises, retries transient failures with exponential backoff and jitter (tenacity), waits
until the platform's reset time when a rate limit is reached (saying so through ``on_wait``),
refuses calls beyond a quota budget, limits requests in flight, and turns every failure into
a :class:`~govsocial.errors.TransientSourceError` or
:class:`~govsocial.errors.TerminalSourceError` (or :class:`~govsocial.errors.QuotaExhausted`)
whose message names the platform, the URL without secrets, the HTTP status, what the API said
and the fix. :meth:`ApiClient.paginate` walks the pages of a list with a paginator
(:mod:`govsocial.sources.http.paginators`) and yields :class:`Page` records that a collector
loads one transaction each, keeping :attr:`Page.resume` to continue after a crash.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import tenacity

from govsocial import __version__
from govsocial.errors import (
    QuotaExhausted,
    SourceError,
    TerminalSourceError,
    TransientSourceError,
)
from govsocial.sources.api import ApiError
from govsocial.sources.http.apis import Api, Failure
from govsocial.sources.http.limits import (
    QuotaBudget,
    RateWindow,
    Usage,
    Wait,
    clock_time,
    duration,
    read_graph_usage,
    read_window,
)
from govsocial.sources.http.paginators import BasePaginator, PageRequest, State
from govsocial.sources.http.redact import Redactor
from govsocial.words import count, number, when

USER_AGENT = f"govsocial/{__version__} (government social media monitoring; python-httpx)"
_NUMERIC_SEGMENT = re.compile(r"/\d{3,}(?=/|$)")  # ids, not versions such as /2/
_USERNAME_SEGMENT = re.compile(r"(/by/username/)[^/]+")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def endpoint_of(path: str) -> str:
    """A request path with its numeric ids written ``:id`` (``/2/users/:id/tweets``): rate
    limits are per endpoint, not per account."""
    plain = _USERNAME_SEGMENT.sub(r"\1:username", httpx.URL(path).path or "/")
    return _NUMERIC_SEGMENT.sub("/:id", plain)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: ``attempts`` per request in all (the first included); backoff waits a
    random time up to ``backoff * 2**attempt`` seconds, at most ``max_backoff`` (tenacity's
    ``wait_random_exponential``, "full jitter"); a rate-limit wait longer than ``max_wait`` is
    not made (the error goes to the caller, with its reset time)."""

    attempts: int = 5
    backoff: float = 1.0
    max_backoff: float = 60.0
    max_wait: timedelta = timedelta(hours=1)
    margin: timedelta = timedelta(seconds=1)  # waited past a reset time, for clock skew


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a paginated walk continues: the ``page`` number to fetch next and the
    paginator's cursor ``state``. Kept with the committed page (``to_json``) and given back to
    :meth:`ApiClient.paginate` to continue. Holds no URL and no credential."""

    page: int
    state: State = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"page": self.page, "state": self.state}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Resume:
        raw = json.loads(text)
        if not isinstance(raw, dict) or not isinstance(raw.get("page"), int):
            raise ValueError(f"not a saved cursor: {text[:80]!r}")
        state = raw.get("state") or {}
        if not isinstance(state, dict):
            raise ValueError(f"not a saved cursor: {text[:80]!r}")
        return cls(raw["page"], state)


@dataclass(frozen=True, slots=True)
class Page:
    """One response, as received: ``number`` (1, 2, ... continuing across a resume),
    ``origin`` (the request URL without any credential), ``body`` (the raw bytes, credentials
    replaced by REDACTED), ``data`` (``body`` parsed), ``status``, ``fetched_at``, and
    ``resume`` (where to continue after this page; None on the last one)."""

    number: int
    origin: str
    body: bytes
    data: Any
    status: int
    fetched_at: datetime
    resume: Resume | None = None


class ApiClient:
    """A client for one platform API (``api``: :class:`~govsocial.sources.http.apis.GraphApi`,
    ``YouTubeApi``, ``XApi`` or ``TikTokApi``), over a synchronous ``httpx.Client``.

    - ``platform``: the name shown in messages ("Facebook", "YouTube", "X");
    - ``auth_params`` / ``auth_headers``: credentials added to every request (``{"key":
      ...}``, ``{"access_token": ...}``, ``{"Authorization": "Bearer ..."}``); their values
      never appear in origins, bodies, messages or errors;
    - ``credential``: where the user sets the credential, named in fixes
      ("GOVSOCIAL_YOUTUBE_KEY");
    - ``concurrency``: requests in flight at once (a number, or a semaphore shared with other
      clients of the same platform);
    - ``budget``: a :class:`QuotaBudget` each call's ``cost`` is taken from before it is sent;
    - ``on_wait``: called with a :class:`Wait` before every wait (rate limit or retry);
    - ``clock`` / ``sleep``: the time (aware UTC) and how to wait, for tests;
    - ``transport``: an httpx transport, for tests (``httpx.MockTransport``).

    Thread-safe: collectors may share one client between threads.
    """

    def __init__(
        self,
        platform: str,
        api: Api,
        base_url: str,
        *,
        auth_params: Mapping[str, str] | None = None,
        auth_headers: Mapping[str, str] | None = None,
        credential: str = "the platform's credential setting",
        concurrency: int | threading.Semaphore = 4,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        budget: QuotaBudget | None = None,
        on_wait: Callable[[Wait], None] | None = None,
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.platform = platform
        self.api = api
        self.credential = credential
        self.retry = retry or RetryPolicy()
        self.budget = budget
        self.on_wait = on_wait
        self.clock = clock
        self.sleep = sleep
        self._auth_params = dict(auth_params or {})
        auth_headers = dict(auth_headers or {})
        secrets = [*self._auth_params.values(), *auth_headers.values()]
        secrets += [v.split(None, 1)[1] for v in auth_headers.values() if " " in v.strip()]
        self.redactor = Redactor(secrets)
        self._slots = (
            threading.BoundedSemaphore(concurrency) if isinstance(concurrency, int) else concurrency
        )
        in_flight = concurrency if isinstance(concurrency, int) else None
        self._http = httpx.Client(
            base_url=base_url,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **auth_headers},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight),
            transport=transport,
            follow_redirects=False,
        )
        self._lock = threading.Lock()
        self._usage = Usage(platform)
        self._windows: dict[str, RateWindow] = {}

    # -- public -----------------------------------------------------------------------------

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"ApiClient({self.platform!r}, {self.api.name!r}, {str(self._http.base_url)!r})"

    @property
    def usage(self) -> Usage:
        """What the client has used and what the platform's headers last said."""
        with self._lock:
            usage = replace(self._usage, windows=tuple(self._windows.values()))
        if self.budget is not None:
            now = self.clock()
            usage = replace(
                usage,
                quota_used=self.budget.used(now),
                quota_limit=self.budget.limit,
                quota_unit=self.budget.unit,
                quota_resets_at=self.budget.resets_at(now),
            )
        return usage

    def get(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        cost: int = 1,
        about: str | None = None,
    ) -> Page:
        """One GET (no pagination): the response as a :class:`Page` numbered 1."""
        return self.request("GET", path, params=params, cost=cost, about=about)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: dict[str, Any] | None = None,
        cost: int = 1,
        about: str | None = None,
    ) -> Page:
        """One request (retried, waited, budgeted as described above) as a :class:`Page`.
        ``about`` names what it is for in messages ("account @jabarprov")."""
        request = PageRequest(method, path, dict(params or {}), json)
        return self._fetch(request, 1, cost, about)[0]

    def paginate(
        self,
        path: str,
        params: Mapping[str, str] | None,
        paginator: BasePaginator,
        *,
        method: str = "GET",
        json: dict[str, Any] | None = None,
        resume: Resume | None = None,
        cost: int = 1,
        about: str | None = None,
        max_pages: int | None = None,
    ) -> Iterator[Page]:
        """The pages of a list, first to last (or from ``resume``): each page is fetched when
        the previous one has been consumed, so a caller that commits each page before asking
        for the next loses nothing on a crash and continues from ``page.resume``.
        To continue, call with the same ``path``, ``params`` and kind of paginator and the kept
        ``resume``. ``max_pages`` stops early (the last page yielded keeps its ``resume``)."""
        request = PageRequest(method, path, dict(params or {}), dict(json) if json else None)
        number_ = 1
        if resume is not None:
            paginator.restore(resume.state)
            number_ = resume.page
        paginator.init_request(request)
        fetched = 0
        while True:
            page, response = self._fetch(request, number_, cost, about)
            before = paginator.state
            paginator.update_state(response, page.data)
            after = paginator.state
            more = paginator.has_next_page
            if more and after == before and before:
                raise TerminalSourceError(
                    self._message(
                        "the API gave the same cursor twice, so paging would never end",
                        REPORT_LOOP,
                        page.status,
                        request,
                        None,
                        about,
                    ),
                    status=page.status,
                    url=page.origin,
                    platform=self.platform,
                )
            fetched += 1
            yield replace(page, resume=Resume(number_ + 1, after) if more else None)
            if not more or (max_pages is not None and fetched >= max_pages):
                return
            paginator.update_request(request)
            number_ += 1

    # -- one request ----------------------------------------------------------------------

    def _fetch(
        self, request: PageRequest, number_: int, cost: int, about: str | None
    ) -> tuple[Page, httpx.Response]:
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.retry.attempts),
            wait=self._wait_seconds,
            retry=tenacity.retry_if_exception(self._should_retry),
            before_sleep=self._before_sleep,
            sleep=self._sleep,
            reraise=True,
        )
        fetched: tuple[Page, httpx.Response] = retrying(
            self._attempt, request, number_, cost, about
        )
        return fetched

    def _attempt(
        self, request: PageRequest, number_: int, cost: int, about: str | None
    ) -> tuple[Page, httpx.Response]:
        self._pause_if_exhausted(request, about)
        if self.budget is not None and not self.budget.take(cost, self.clock()):
            raise self._refusal(cost, request, about)
        params = {**request.params, **self._auth_params}
        prepared = self._http.build_request(
            request.method, request.path, params=params, json=request.json
        )
        origin = self.redactor.url(prepared.url)
        with self._lock:
            self._usage = replace(self._usage, requests=self._usage.requests + 1)
        try:
            with self._slots:
                response = self._http.send(prepared)
                body = response.read()
        except httpx.TimeoutException as exc:
            raise self._network("the request timed out", exc, request, origin, about) from None
        except httpx.TransportError as exc:
            raise self._network("the connection failed", exc, request, origin, about) from None
        now = self.clock()
        self._read_headers(response, request, now)
        body = self.redactor.body(body)
        data = _parse(body)
        parsed = None if data is _NOT_JSON else data
        failure = self.api.failure(response, parsed, now, self.credential)
        if failure is None and data is _NOT_JSON:
            failure = Failure(
                "transient",
                "the response was cut off or is not JSON",
                "try again later; if it keeps happening, the platform may be down",
            )
        if failure is not None:
            raise self._error(failure, response.status_code, request, origin, about)
        return Page(number_, origin, body, data, response.status_code, now), response

    def _read_headers(self, response: httpx.Response, request: PageRequest, now: datetime) -> None:
        endpoint = endpoint_of(request.path)
        window = read_window(response.headers, endpoint)
        graph = read_graph_usage(response.headers, now)
        with self._lock:
            if window is not None:
                self._windows[endpoint] = window
            if graph:
                self._usage = replace(self._usage, graph=graph)
            self._usage = replace(self._usage, updated_at=now)

    def _pause_if_exhausted(self, request: PageRequest, about: str | None) -> None:
        """Wait before sending when the last headers said the endpoint's window is used up
        (X) or the app is throttled until a time (Graph API)."""
        now = self.clock()
        with self._lock:
            window = self._windows.get(endpoint_of(request.path))
            regain = [g.regain_access_at for g in self._usage.graph if g.regain_access_at]
        until: datetime | None = None
        if window is not None and window.exhausted(now):
            until = window.resets_at
        later = [moment for moment in regain if moment > now]
        if later:
            until = max([*later, *([until] if until else [])])
        if until is None:
            return
        if until - now > self.retry.max_wait:
            failure = Failure("rate_limit", "rate limit reached", TOO_LONG, None, until)
            raise self._error(failure, None, request, self._origin(request), about)
        self._wait(
            Wait(
                self.platform,
                "rate_limit",
                "rate limit reached",
                _seconds(until + self.retry.margin - now),
                until,
                now,
            )
        )

    # -- retries and waits ----------------------------------------------------------------

    def _should_retry(self, exc: BaseException) -> bool:
        if not isinstance(exc, TransientSourceError):
            return False
        return exc.retry_at is None or exc.retry_at - self.clock() <= self.retry.max_wait

    def _wait_seconds(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, SourceError) and exc.retry_at is not None:
            return _seconds(exc.retry_at + self.retry.margin - self.clock())
        backoff = tenacity.wait_random_exponential(
            multiplier=self.retry.backoff, max=self.retry.max_backoff
        )
        return float(backoff(state))

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        seconds = state.next_action.sleep if state.next_action else 0.0
        now = self.clock()
        with self._lock:
            self._usage = replace(self._usage, retries=self._usage.retries + 1)
        if isinstance(exc, TransientSourceError) and exc.rate_limited and exc.retry_at:
            wait = Wait(
                self.platform, "rate_limit", "rate limit reached", seconds, exc.retry_at, now
            )
        else:
            reason = _reason(exc)
            wait = Wait(
                self.platform,
                "retry",
                reason,
                seconds,
                now + timedelta(seconds=seconds),
                now,
                state.attempt_number + 1,
                self.retry.attempts,
            )
        if self.on_wait is not None:
            self.on_wait(wait)

    def _sleep(self, seconds: float) -> None:
        with self._lock:
            self._usage = replace(self._usage, waited_seconds=self._usage.waited_seconds + seconds)
        self.sleep(seconds)

    def _wait(self, wait: Wait) -> None:
        if self.on_wait is not None:
            self.on_wait(wait)
        self._sleep(wait.seconds)

    # -- errors ---------------------------------------------------------------------------

    def _origin(self, request: PageRequest) -> str:
        url = self._http.build_request(request.method, request.path, params=request.params).url
        return self.redactor.url(url)

    def _message(
        self,
        what: str,
        fix: str,
        status: int | None,
        request: PageRequest,
        error: ApiError | None,
        about: str | None,
    ) -> str:
        who = f"{self.platform} ({about})" if about else self.platform
        http = f"HTTP {status}, " if status is not None else ""
        said = f" The API said: {error.describe().rstrip('.')}." if error is not None else ""
        text = f"{who}: {what} ({http}{request.method} {self._origin(request)}).{said} Fix: {fix}."
        return self.redactor.text(text)

    def _error(
        self,
        failure: Failure,
        status: int | None,
        request: PageRequest,
        origin: str,
        about: str | None,
    ) -> SourceError:
        error = failure.error
        if error is not None:
            error = replace(
                error,
                message=self.redactor.text(error.message),
                resource=self.redactor.text(error.resource) if error.resource else None,
            )
        what, fix = failure.what, failure.fix
        if failure.retry_at is not None and failure.kind == "rate_limit":
            now = self.clock()
            left = failure.retry_at - now
            what += f"; it resets at {clock_time(failure.retry_at, now)}"
            if left > self.retry.max_wait:
                fix = (
                    f"run again after {when(failure.retry_at, UTC)}: that is "
                    f"{duration(left.total_seconds())} away, longer than the longest wait "
                    f"({duration(self.retry.max_wait.total_seconds())})"
                )
        if failure.kind == "quota":
            if self.budget is not None:
                self.budget.exhaust(self.clock())
            if failure.retry_at is not None:
                what += f"; it resets at {when(failure.retry_at, UTC)}"
        message = self._message(what, fix, status, request, error, about)
        keywords: dict[str, Any] = {
            "status": status,
            "url": origin,
            "platform": self.platform,
            "api_error": error,
            "retry_at": failure.retry_at,
        }
        if failure.kind == "quota":
            return QuotaExhausted(message, **keywords)
        if failure.kind == "terminal":
            return TerminalSourceError(message, **keywords)
        return TransientSourceError(message, rate_limited=failure.kind == "rate_limit", **keywords)

    def _network(
        self,
        what: str,
        exc: httpx.HTTPError,
        request: PageRequest,
        origin: str,
        about: str | None,
    ) -> TransientSourceError:
        detail = self.redactor.text(str(exc)) or "no detail"
        message = self._message(
            f"{what} ({type(exc).__name__}: {detail})",
            "check the network connection and try again later; the next run continues from "
            "the last page kept",
            None,
            request,
            None,
            about,
        )
        return TransientSourceError(message, url=origin, platform=self.platform)

    def _refusal(self, cost: int, request: PageRequest, about: str | None) -> QuotaExhausted:
        budget = self.budget
        assert budget is not None
        now = self.clock()
        resets = budget.resets_at(now)
        used = budget.used(now)
        what = (
            f"the day's quota of {count(budget.limit, budget.unit)} would be exceeded "
            f"({number(used)} used, this call costs {number(cost)}); it resets at "
            f"{budget.resets} ({when(resets, UTC)})"
        )
        fix = "run again after the reset, or collect fewer accounts per day"
        message = self._message(what, fix, None, request, None, about)
        return QuotaExhausted(
            message, url=self._origin(request), platform=self.platform, retry_at=resets
        )


REPORT_LOOP = "this is a govsocial or platform bug: report it with this message"
TOO_LONG = "run again after the reset"
_NOT_JSON: Any = object()


def _parse(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError:
        return _NOT_JSON


def _seconds(delta: timedelta) -> float:
    return max(0.0, delta.total_seconds())


def _reason(exc: BaseException | None) -> str:
    """A short reason for a retry, from the error's status: 'server error (HTTP 503)'."""
    status = exc.status if isinstance(exc, SourceError) else None
    if status is None:
        return "network error"
    if status >= 500:
        return f"server error (HTTP {status})"
    if 200 <= status < 300:
        return f"incomplete response (HTTP {status})"
    return f"HTTP {status}"
