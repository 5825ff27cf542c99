"""Each platform API's failures, classified once: what went wrong, whether trying again may
help (transient), waiting for a reset will (rate limit, quota) or someone must act (terminal),
and the fix. The API's own words are read by the same ``api_error`` functions the file
readers use (one :class:`~govsocial.sources.api.ApiError` shape for all).

A response is a failure when its status is not 2xx, or when a 2xx body says so (an X lookup
whose only answer is ``errors``; TikTok's ``error.code`` other than ``ok``). Graph, YouTube and
TikTok answer a failure with an error envelope (:class:`EnvelopeApi`): each reads its own
codes, and what it does not know is judged by the HTTP status alone (:func:`by_status`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace
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
UNKNOWN_ACCOUNT = "the account is unknown or not visible"


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


@dataclass(frozen=True, slots=True)
class Answer:
    """A response holding an error envelope, as :meth:`EnvelopeApi.classify` reads it: its
    status and headers, its parsed ``data``, the reader's ``error``, the time, and where the
    credential is set (for fixes)."""

    status: int
    headers: httpx.Headers
    data: Any
    error: ApiError
    now: datetime
    credential: str

    def failure(self, kind: Kind, what: str, fix: str, retry_at: datetime | None = None) -> Failure:
        """A failure carrying this answer's error."""
        return Failure(kind, what, fix, self.error, retry_at)


class EnvelopeApi(Api):
    """An API that answers a failure with an error envelope, read by the platform's file
    reader (:meth:`error_of`) and classified by its codes (:meth:`classify`); a response
    without one, or with codes :meth:`classify` does not know, is judged by its status, and a
    2xx envelope nobody knows is refused for a bug report."""

    def failure(
        self, response: httpx.Response, data: Any, now: datetime, credential: str
    ) -> Failure | None:
        status, headers = response.status_code, response.headers
        error = self.error_of(data)
        if error is None:
            return by_status(status, None, headers, now, credential)
        answer = Answer(status, headers, data, error, now, credential)
        return (
            self.classify(answer)
            or by_status(status, error, headers, now, credential)
            or Failure("terminal", "the API refused the request", REPORT_BUG, error)
        )

    @abstractmethod
    def error_of(self, data: Any) -> ApiError | None:
        """The envelope's error as the reader reads it; None when ``data`` holds none."""

    @abstractmethod
    def classify(self, answer: Answer) -> Failure | None:
        """The failure the envelope's codes say; None when they say nothing known."""


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


class GraphApi(EnvelopeApi):
    """Facebook Pages and Instagram through the Graph API. Error envelope and codes:
    https://developers.facebook.com/docs/graph-api/guides/error-handling ; throttling codes
    and usage headers: https://developers.facebook.com/docs/graph-api/overview/rate-limiting/

    - transient: codes 1 (API unknown) and 2 (API service), ``is_transient: true``, 5xx;
      throttling 4 (app), 17 (user), 32 (page), 341 (application limit), 613 (calls within a
      window) and the Business Use Case codes 80000-80014, waiting until
      ``estimated_time_to_regain_access`` when ``X-Business-Use-Case-Usage`` says it;
    - terminal: 190 / 102 (access token expired, revoked or invalid), 10 and 200-299
      (permission missing), 803 and 100 "does not exist" / subcode 33 (unknown or deleted
      account, or one the token cannot see), any other 4xx;
    - terminal for that account: business discovery of a username that does not exist or is
      not a Business or Creator account, code 110 subcode 2207013 ("Invalid user id", titled
      "Cannot find User"). Meta's Instagram error table
      (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes)
      does not list it; public business-discovery clients read it so (an unknown handle and a
      personal account answer alike), and so does the fake Graph server.
    """

    name = "Graph API"
    THROTTLING = frozenset({4, 17, 32, 341, 613, *range(80000, 80015)})
    TEMPORARY = frozenset({1, 2})
    NO_SUCH_USER = (110, 2207013)  # (code, error_subcode) of business discovery

    def error_of(self, data: Any) -> ApiError | None:
        return graph.api_error(data) if graph.is_error(data) else None

    def classify(self, answer: Answer) -> Failure | None:
        inner = answer.data["error"]
        code, subcode = _int(inner.get("code")), _int(inner.get("error_subcode"))
        message = str(inner.get("message") or "").lower()
        if code in self.THROTTLING:
            regain = [u.regain_access_at for u in read_graph_usage(answer.headers, answer.now)]
            known = [moment for moment in regain if moment is not None]
            when = max(known) if known else retry_after(answer.headers, answer.now)
            return answer.failure(
                "rate_limit",
                "rate limit reached (throttled)",
                "wait and run again; fewer accounts per run or a later start lowers the load",
                when,
            )
        if code in self.TEMPORARY or inner.get("is_transient") is True or answer.status >= 500:
            return answer.failure("transient", "the API had a temporary problem", TRY_LATER)
        if code in (190, 102):
            return answer.failure(
                "terminal",
                "the access token has expired, was revoked or is not valid",
                "get a new access token (Meta's Access Token Debugger, "
                "https://developers.facebook.com/tools/debug/accesstoken/, says why this one "
                f"fails) and put it in {answer.credential}",
            )
        if code == 10 or (code is not None and 200 <= code <= 299):
            return answer.failure(
                "terminal",
                "the access token lacks a permission this request needs",
                "grant the app the permission the message names (pages_read_engagement, "
                "instagram_basic, ...) and get a new token with it, or use the token of someone "
                f"with a role on the Page; put it in {answer.credential}",
            )
        if (code, subcode) == self.NO_SUCH_USER:
            return answer.failure(
                "terminal",
                UNKNOWN_ACCOUNT,
                "check the account's handle in the registry: business discovery finds only "
                "Instagram Business and Creator accounts, and this username is not one (it "
                "does not exist, was renamed or deleted, or is a personal account)",
            )
        if code == 803 or (code == 100 and ("does not exist" in message or subcode == 33)):
            return answer.failure("terminal", UNKNOWN_ACCOUNT, NOT_FOUND)
        return None


class YouTubeApi(EnvelopeApi):
    """YouTube Data API v3 (an API key). Errors: https://developers.google.com/youtube/v3/docs/errors

    - quota: ``quotaExceeded`` (and the older ``dailyLimitExceeded``): spent until midnight
      Pacific time (https://developers.google.com/youtube/v3/determine_quota_cost);
    - transient: ``backendError``, ``internalError``, 5xx; ``rateLimitExceeded`` and
      ``userRateLimitExceeded`` (sent too fast: back off);
    - terminal: the key (below), ``accessNotConfigured`` / ``SERVICE_DISABLED`` (the API is not
      enabled for the key's project), ``forbidden``/403, ``*NotFound``/404.

    A wrong or expired key: the older answer is ``errors[].reason`` ``keyInvalid`` (or
    ``keyExpired``); today it is 400 ``badRequest`` "API key not valid. Please pass a valid API
    key." (or "API key expired. Please renew the API key.") whose ``error.details[]`` holds a
    ``google.rpc.ErrorInfo`` with reason ``API_KEY_INVALID`` (or ``API_KEY_EXPIRED``): Google's
    ``google.api.ErrorReason``
    (https://cloud.google.com/dotnet/docs/reference/Google.Api.CommonProtos/latest/Google.Api.ErrorReason
    : "API_KEY_INVALID: the provided API key is invalid. It may be in a bad format, cannot be
    found, or has been expired"), as met by YouTube clients (gabe565/CastSponsorSkip#66,
    trizen/youtube-viewer#308) and for an expired key (vueschool/vue-masterclass#10). The
    reasons of both places are read.
    """

    name = youtube_records.API
    KEY_REFUSED = frozenset({"keyInvalid", "keyExpired", "API_KEY_INVALID", "API_KEY_EXPIRED"})
    KEY_MESSAGES = ("api key not valid", "api key expired")

    def error_of(self, data: Any) -> ApiError | None:
        if not youtube_records.is_error(data):
            return None
        error = youtube_records.api_error(data)
        reasons = sorted(_reasons(error) | _detail_reasons(data))
        return replace(error, kind=", ".join(reasons) or None)

    def classify(self, answer: Answer) -> Failure | None:
        reasons = _reasons(answer.error)
        if reasons & {"quotaExceeded", "dailyLimitExceeded"}:
            return answer.failure(
                "quota",
                "the day's quota is used up",
                "run again after the reset, or ask Google for a larger quota (Google Cloud "
                "console, IAM & Admin > Quotas)",
                next_midnight(answer.now, PACIFIC),
            )
        if reasons & {"rateLimitExceeded", "userRateLimitExceeded"}:
            return answer.failure(
                "rate_limit",
                "requests were sent too fast",
                TRY_LATER,
                retry_after(answer.headers, answer.now),
            )
        if reasons & {"backendError", "internalError"} or answer.status >= 500:
            return answer.failure("transient", "the API had a temporary problem", TRY_LATER)
        said = answer.error.message.lower()
        if (
            reasons & self.KEY_REFUSED
            or answer.status == 401
            or any(m in said for m in self.KEY_MESSAGES)
        ):
            return answer.failure(
                "terminal",
                "the API key was refused (it is not valid, or has expired)",
                "create an API key in the Google Cloud console (APIs & Services > Credentials) "
                "for a project with the YouTube Data API v3 enabled, and put it in "
                f"{answer.credential}",
            )
        if reasons & {"accessNotConfigured", "SERVICE_DISABLED"}:
            return answer.failure(
                "terminal",
                "the YouTube Data API is not enabled for the key's project",
                "enable the YouTube Data API v3 in the Google Cloud console (APIs & Services > "
                "Library) for the project the key belongs to",
            )
        if any(r.endswith("NotFound") or r == "notFound" for r in reasons) or answer.status == 404:
            return answer.failure("terminal", "the channel or playlist was not found", NOT_FOUND)
        return None


def _reasons(error: ApiError) -> set[str]:
    """The reasons an :class:`ApiError` of the YouTube reader carries (its ``kind``)."""
    return {r.strip() for r in (error.kind or "").split(",") if r.strip()}


def _detail_reasons(data: Any) -> set[str]:
    """The ``reason`` of each ``error.details[]`` entry (``google.rpc.ErrorInfo``)::

    {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
               "errors": [{"message": "...", "domain": "global", "reason": "badRequest"}],
               "status": "INVALID_ARGUMENT",
               "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                            "reason": "API_KEY_INVALID", "domain": "googleapis.com",
                            "metadata": {"service": "youtube.googleapis.com"}}]}}
    """
    inner = data.get("error") if isinstance(data, Mapping) else None
    details = inner.get("details") if isinstance(inner, Mapping) else None
    if not isinstance(details, list):
        return set()
    return {
        d["reason"].strip()
        for d in details
        if isinstance(d, Mapping) and isinstance(d.get("reason"), str) and d["reason"].strip()
    }


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


class TikTokApi(EnvelopeApi):
    """TikTok Research API (a client access token). Errors:
    https://developers.tiktok.com/doc/tiktok-api-v2-error-handling ; limits:
    https://developers.tiktok.com/doc/tiktok-api-v2-rate-limit (a one-minute sliding window)
    and https://developers.tiktok.com/doc/research-api-faq (1,000 requests a day, reset at
    12 AM UTC). The envelope is read by the tiktok-research reader
    (:func:`govsocial.sources.tiktok.records.api_error`).

    - quota: ``daily_quota_limit_exceeded`` (as research clients such as traktok meet it), or
      ``rate_limit_exceeded`` whose message speaks of the daily limit: until midnight UTC;
    - rate limit: ``rate_limit_exceeded`` / 429, waiting a minute (or ``Retry-After``);
    - transient: ``internal_error``, 5xx;
    - terminal: ``access_token_invalid`` (client tokens last 2 hours), ``scope_not_authorized``
      / ``scope_permission_missed``, other 4xx;
    - terminal for that account: ``invalid_params`` (400, "One or more fields in request is
      invalid. Please refer to the error message for details") whose message says the user
      does not exist or is not public (user info of an unknown username: "The username you
      requested could not be found or is not public"); any other ``invalid_params`` is a
      refused request (a bug to report).
    """

    name = tiktok_records.API
    WINDOW = timedelta(minutes=1)
    NO_SUCH_USER = ("not found", "not be found", "not exist", "not public")

    def error_of(self, data: Any) -> ApiError | None:
        return tiktok_records.api_error(data) if tiktok_records.is_error(data) else None

    def classify(self, answer: Answer) -> Failure | None:
        code, message = answer.error.kind or "", answer.error.message.lower()
        if code == "daily_quota_limit_exceeded" or (
            code == "rate_limit_exceeded" and ("daily" in message or "quota" in message)
        ):
            return answer.failure(
                "quota",
                "the day's request limit is used up",
                "run again after the reset (midnight UTC); the research project's daily "
                "limit can only be raised by TikTok (Research-API@tiktok.com)",
                next_midnight(answer.now, UTC),
            )
        if code == "rate_limit_exceeded" or answer.status == 429:
            return answer.failure(
                "rate_limit",
                "rate limit reached",
                TRY_LATER,
                retry_after(answer.headers, answer.now) or answer.now + self.WINDOW,
            )
        if code == "internal_error" or answer.status >= 500:
            return answer.failure("transient", "the API had a temporary problem", TRY_LATER)
        if code == "access_token_invalid":
            return answer.failure(
                "terminal",
                "the client access token is invalid or expired (they last 2 hours)",
                "get a new client access token with the research project's client key and "
                f"secret, and check {answer.credential}",
            )
        if code in ("scope_not_authorized", "scope_permission_missed"):
            return answer.failure(
                "terminal",
                "the research project is not approved for this data",
                "check that the research project is approved for the Research API and its "
                "scopes (research.data.basic) in the TikTok for Developers portal",
            )
        if code == "invalid_params" and _about_unknown_user(message, self.NO_SUCH_USER):
            return answer.failure("terminal", UNKNOWN_ACCOUNT, NOT_FOUND)
        return None  # another invalid_params: a refused request, by its status


def _about_unknown_user(message: str, phrases: tuple[str, ...]) -> bool:
    """Whether an ``invalid_params`` message says the requested user is not there."""
    return "user" in message and any(phrase in message for phrase in phrases)
