"""Each platform API's failures, classified once: what went wrong, whether trying again may
help (transient), waiting for a reset will (rate limit, quota) or someone must act (terminal),
and the fix. The API's own words are read by the same ``api_error`` functions the file
readers use (one :class:`~govsocial.sources.api.ApiError` shape for all).

A response is a failure when its status is not 2xx, or when a 2xx body says so (an X lookup
whose only answer is ``errors``; TikTok's ``error.code`` other than ``ok``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx

from govsocial.sources import graph
from govsocial.sources.api import ApiError
from govsocial.sources.http.limits import PACIFIC, next_midnight, read_graph_usage, retry_after
from govsocial.sources.tiktok import records as tiktok_records
from govsocial.sources.x import records as x_records
from govsocial.sources.youtube import records as youtube_records

Kind = Literal["transient", "rate_limit", "terminal", "quota"]


@dataclass(frozen=True, slots=True)
class Failure:
    """A classified failure: ``what`` happened (a phrase), the ``fix``, the API's own
    ``error``, and ``retry_at`` when the platform said when to try again."""

    kind: Kind
    what: str
    fix: str
    error: ApiError | None = None
    retry_at: datetime | None = None


REPORT_BUG = (
    "check the account's id or handle in the registry; if it is right, this is a govsocial "
    "bug: report it with this message"
)
TRY_LATER = "try again later; the next run continues from the last page kept"
NOT_FOUND = (
    "check the account's id or handle in the registry: the account may have been deleted, "
    "renamed, suspended or made private"
)


def by_status(
    status: int, error: ApiError | None, headers: httpx.Headers, now: datetime, credential: str
) -> Failure | None:
    """The failure an HTTP status alone says (what every API shares); None for 2xx."""
    if 200 <= status < 300:
        return None
    if status == 429:
        return Failure(
            "rate_limit", "too many requests", TRY_LATER, error, retry_after(headers, now)
        )
    if status == 408 or status >= 500:
        return Failure(
            "transient", "the server failed", TRY_LATER, error, retry_after(headers, now)
        )
    if status == 401:
        return Failure(
            "terminal",
            "the credentials were refused",
            f"check the credential in {credential}: it may be wrong, expired or revoked",
            error,
        )
    if status == 403:
        return Failure(
            "terminal",
            "access was refused",
            f"check that the credential in {credential} has the permission or access level "
            "this request needs",
            error,
        )
    if status in (404, 410):
        return Failure("terminal", "not found", NOT_FOUND, error)
    return Failure("terminal", "the API refused the request", REPORT_BUG, error)


class Api(ABC):
    """One platform API's reading of failures."""

    name: str  # as in ApiError.api: "Graph API"

    @abstractmethod
    def failure(
        self, response: httpx.Response, data: Any, now: datetime, credential: str
    ) -> Failure | None:
        """The failure ``response`` reports (``data``: its parsed JSON, None if not JSON)."""


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


class GraphApi(Api):
    """Facebook Pages and Instagram through the Graph API. Error envelope and codes:
    https://developers.facebook.com/docs/graph-api/guides/error-handling ; throttling codes
    and usage headers: https://developers.facebook.com/docs/graph-api/overview/rate-limiting/

    - transient: codes 1 (API unknown) and 2 (API service), ``is_transient: true``, 5xx;
      throttling 4 (app), 17 (user), 32 (page), 341 (application limit), 613 (calls within a
      window) and the Business Use Case codes 80000-80014, waiting until
      ``estimated_time_to_regain_access`` when ``X-Business-Use-Case-Usage`` says it;
    - terminal: 190 / 102 (access token expired, revoked or invalid), 10 and 200-299
      (permission missing), 803 and 100 "does not exist" / subcode 33 (unknown or deleted
      account, or one the token cannot see), any other 4xx.
    """

    name = "Graph API"
    THROTTLING = frozenset({4, 17, 32, 341, 613, *range(80000, 80015)})
    TEMPORARY = frozenset({1, 2})

    def failure(
        self, response: httpx.Response, data: Any, now: datetime, credential: str
    ) -> Failure | None:
        status, headers = response.status_code, response.headers
        if not graph.is_error(data):
            return by_status(status, None, headers, now, credential)
        error = graph.api_error(data)
        inner = data["error"]
        code, subcode = _int(inner.get("code")), _int(inner.get("error_subcode"))
        message = str(inner.get("message") or "").lower()
        if code in self.THROTTLING:
            regain = [u.regain_access_at for u in read_graph_usage(headers, now)]
            known = [moment for moment in regain if moment is not None]
            when = max(known) if known else retry_after(headers, now)
            return Failure(
                "rate_limit",
                "rate limit reached (throttled)",
                "wait and run again; fewer accounts per run or a later start lowers the load",
                error,
                when,
            )
        if code in self.TEMPORARY or inner.get("is_transient") is True or status >= 500:
            return Failure("transient", "the API had a temporary problem", TRY_LATER, error)
        if code in (190, 102):
            return Failure(
                "terminal",
                "the access token has expired, was revoked or is not valid",
                "get a new access token (Meta's Access Token Debugger, "
                "https://developers.facebook.com/tools/debug/accesstoken/, says why this one "
                f"fails) and put it in {credential}",
                error,
            )
        if code == 10 or (code is not None and 200 <= code <= 299):
            return Failure(
                "terminal",
                "the access token lacks a permission this request needs",
                "grant the app the permission the message names (pages_read_engagement, "
                "instagram_basic, ...) and get a new token with it, or use the token of someone "
                f"with a role on the Page; put it in {credential}",
                error,
            )
        if code == 803 or (code == 100 and ("does not exist" in message or subcode == 33)):
            return Failure("terminal", "the account is unknown or not visible", NOT_FOUND, error)
        return by_status(status, error, headers, now, credential) or Failure(
            "terminal", "the API refused the request", REPORT_BUG, error
        )


class YouTubeApi(Api):
    """YouTube Data API v3 (an API key). Errors: https://developers.google.com/youtube/v3/docs/errors

    - quota: ``quotaExceeded`` (and the older ``dailyLimitExceeded``): spent until midnight
      Pacific time (https://developers.google.com/youtube/v3/determine_quota_cost);
    - transient: ``backendError``, ``internalError``, 5xx; ``rateLimitExceeded`` and
      ``userRateLimitExceeded`` (sent too fast: back off);
    - terminal: ``keyInvalid``/``keyExpired``/401 (the key), ``accessNotConfigured`` (the API
      is not enabled for the key's project), ``forbidden``/403, ``*NotFound``/404.
    """

    name = "YouTube Data API"

    def failure(
        self, response: httpx.Response, data: Any, now: datetime, credential: str
    ) -> Failure | None:
        status, headers = response.status_code, response.headers
        envelope = isinstance(data, Mapping) and isinstance(data.get("error"), Mapping)
        if not envelope:
            return by_status(status, None, headers, now, credential)
        error = youtube_records.api_error(dict(data))
        reasons = {r.strip() for r in (error.kind or "").split(",") if r.strip()}
        if reasons & {"quotaExceeded", "dailyLimitExceeded"}:
            return Failure(
                "quota",
                "the day's quota is used up",
                "run again after the reset, or ask Google for a larger quota (Google Cloud "
                "console, IAM & Admin > Quotas)",
                error,
                next_midnight(now, PACIFIC),
            )
        if reasons & {"rateLimitExceeded", "userRateLimitExceeded"}:
            return Failure(
                "rate_limit",
                "requests were sent too fast",
                TRY_LATER,
                error,
                retry_after(headers, now),
            )
        if reasons & {"backendError", "internalError"} or status >= 500:
            return Failure("transient", "the API had a temporary problem", TRY_LATER, error)
        if reasons & {"keyInvalid", "keyExpired"} or status == 401:
            return Failure(
                "terminal",
                "the API key was refused",
                "create an API key in the Google Cloud console (APIs & Services > Credentials) "
                f"for a project with the YouTube Data API v3 enabled, and put it in {credential}",
                error,
            )
        if reasons & {"accessNotConfigured", "SERVICE_DISABLED"}:
            return Failure(
                "terminal",
                "the YouTube Data API is not enabled for the key's project",
                "enable the YouTube Data API v3 in the Google Cloud console (APIs & Services > "
                "Library) for the project the key belongs to",
                error,
            )
        if any(r.endswith("NotFound") or r == "notFound" for r in reasons) or status == 404:
            return Failure("terminal", "the channel or playlist was not found", NOT_FOUND, error)
        return by_status(status, error, headers, now, credential) or Failure(
            "terminal", "the API refused the request", REPORT_BUG, error
        )


class XApi(Api):
    """X API v2 (a bearer token). Status codes and problem types:
    https://developer.x.com/en/support/x-api/error-troubleshooting ; rate limits:
    https://docs.x.com/fundamentals/rate-limits

    - rate limit: 429, waiting until ``x-rate-limit-reset``;
    - quota: 429/403 with problem type ``.../problems/usage-capped`` (the project's monthly
      post cap);
    - transient: 5xx;
    - terminal: 401 (the token), 403 (the access level), 404, other 4xx; and a 200 whose only
      answer is ``errors`` (``Not Found Error``, a suspended or protected account).
    """

    name = "X API"

    def failure(
        self, response: httpx.Response, data: Any, now: datetime, credential: str
    ) -> Failure | None:
        status, headers = response.status_code, response.headers
        problem = data if isinstance(data, Mapping) else {}
        errors = problem.get("errors")
        first = errors[0] if isinstance(errors, list) and errors else None
        kind = f"{problem.get('type', '')} {problem.get('title', '')}"
        if 200 <= status < 300:
            if "data" not in problem and first is not None:
                return Failure(
                    "terminal",
                    "the account or post could not be read (deleted, suspended or protected)",
                    NOT_FOUND,
                    x_records.api_error(first),
                )
            return None
        # An HTTP error is a problem object ({"title", "detail", "type"}); an older-style one
        # carries only "errors": [{"code": 88, "message": ...}].
        error: ApiError | None = None
        if "title" in problem or "detail" in problem:
            error = x_records.api_error(problem)
        elif first is not None:
            error = x_records.api_error(first)
        if "usage-capped" in kind or "UsageCapExceeded" in kind:
            return Failure(
                "quota",
                "the project's monthly post cap is used up",
                "wait for the cap to reset (the day is shown in the developer portal's usage "
                "page) or move the project to a plan with a larger cap",
                error,
            )
        if status == 429:
            reset = headers.get("x-rate-limit-reset", "").strip()
            when = (
                datetime.fromtimestamp(int(reset), UTC)
                if reset.isdigit()
                else retry_after(headers, now)
            )
            return Failure("rate_limit", "rate limit reached", TRY_LATER, error, when)
        if status == 401:
            return Failure(
                "terminal",
                "the bearer token was refused",
                "create a new bearer token in the X developer portal (Projects & Apps > Keys "
                f"and tokens) and put it in {credential}",
                error,
            )
        if status == 403:
            return Failure(
                "terminal",
                "the app may not use this endpoint",
                "check that the app belongs to a project and that the project's access tier "
                "includes this endpoint (developer portal > Products)",
                error,
            )
        return by_status(status, error, headers, now, credential)


class TikTokApi(Api):
    """TikTok Research API (a client access token). Errors:
    https://developers.tiktok.com/doc/tiktok-api-v2-error-handling ; limits:
    https://developers.tiktok.com/doc/tiktok-api-v2-rate-limit (a one-minute sliding window)
    and https://developers.tiktok.com/doc/research-api-faq (1,000 requests a day, reset at
    12 AM UTC).

    - quota: ``daily_quota_limit_exceeded`` (as research clients such as traktok meet it), or
      ``rate_limit_exceeded`` whose message speaks of the daily limit: until midnight UTC;
    - rate limit: ``rate_limit_exceeded`` / 429, waiting a minute (or ``Retry-After``);
    - transient: ``internal_error``, 5xx;
    - terminal: ``access_token_invalid`` (client tokens last 2 hours), ``scope_not_authorized``
      / ``scope_permission_missed``, ``invalid_params``, other 4xx.
    """

    name = "TikTok Research API"
    WINDOW = timedelta(minutes=1)

    def failure(
        self, response: httpx.Response, data: Any, now: datetime, credential: str
    ) -> Failure | None:
        status, headers = response.status_code, response.headers
        if not tiktok_records.is_error(data):
            return by_status(status, None, headers, now, credential)
        error = tiktok_records.api_error(data)
        code, message = error.kind or "", error.message.lower()
        if code == "daily_quota_limit_exceeded" or (
            code == "rate_limit_exceeded" and ("daily" in message or "quota" in message)
        ):
            return Failure(
                "quota",
                "the day's request limit is used up",
                "run again after the reset (midnight UTC); the research project's daily "
                "limit can only be raised by TikTok (Research-API@tiktok.com)",
                error,
                next_midnight(now, UTC),
            )
        if code == "rate_limit_exceeded" or status == 429:
            return Failure(
                "rate_limit",
                "rate limit reached",
                TRY_LATER,
                error,
                retry_after(headers, now) or now + self.WINDOW,
            )
        if code == "internal_error" or status >= 500:
            return Failure("transient", "the API had a temporary problem", TRY_LATER, error)
        if code == "access_token_invalid":
            return Failure(
                "terminal",
                "the client access token is invalid or expired (they last 2 hours)",
                "get a new client access token with the research project's client key and "
                f"secret, and check {credential}",
                error,
            )
        if code in ("scope_not_authorized", "scope_permission_missed"):
            return Failure(
                "terminal",
                "the research project is not approved for this data",
                "check that the research project is approved for the Research API and its "
                "scopes (research.data.basic) in the TikTok for Developers portal",
                error,
            )
        return by_status(status, error, headers, now, credential) or Failure(
            "terminal", "the API refused the request", REPORT_BUG, error
        )
