"""What a client knows about its limits: the platform's own usage headers (:class:`Usage`),
the waits it makes (:class:`Wait`, reported on screen) and a quota it budgets itself
(:class:`QuotaBudget`: YouTube's daily units, TikTok's daily requests)."""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from email.utils import parsedate_to_datetime
from typing import Literal
from zoneinfo import ZoneInfo

import httpx

from govsocial.words import count, number, when

PACIFIC = ZoneInfo("America/Los_Angeles")


def duration(seconds: float) -> str:
    """A wait as people say it: '45 s', '14 min', '2 h 5 min' (seconds rounded up, minutes
    to the nearest)."""
    whole = max(0, math.ceil(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes = round(whole / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" + (f" {rest} min" if rest else "")


def clock_time(moment: datetime, now: datetime) -> str:
    """'03:12 UTC' when ``moment`` is today (UTC), else '2025-03-02 03:12 UTC'."""
    moment, now = moment.astimezone(UTC), now.astimezone(UTC)
    return f"{moment:%H:%M} UTC" if moment.date() == now.date() else when(moment, UTC)


def next_midnight(now: datetime, zone: tzinfo) -> datetime:
    """The first midnight in ``zone`` after ``now`` (as UTC)."""
    local = now.astimezone(zone)
    return datetime.combine(local.date() + timedelta(days=1), time(0), zone).astimezone(UTC)


def retry_after(headers: httpx.Headers, now: datetime) -> datetime | None:
    """``Retry-After``: delay seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RateWindow:
    """One endpoint's request window as the platform's headers last told it (X:
    ``x-rate-limit-limit`` / ``-remaining`` / ``-reset``). ``endpoint`` is the path with its
    numeric ids written ``:id`` (``/2/users/:id/tweets``), as limits are per endpoint."""

    endpoint: str
    limit: int | None
    remaining: int | None
    resets_at: datetime | None

    def exhausted(self, now: datetime) -> bool:
        return self.remaining == 0 and self.resets_at is not None and self.resets_at > now


@dataclass(frozen=True, slots=True)
class GraphUsage:
    """A Graph API usage header: ``X-App-Usage`` (scope ``app``) or one entry of
    ``X-Business-Use-Case-Usage`` (scope ``business <id> (<type>)``). The three numbers are
    percentages of the limit; at 100 calls are throttled. ``regain_access_at`` comes from
    ``estimated_time_to_regain_access`` (minutes), when throttled.
    https://developers.facebook.com/docs/graph-api/overview/rate-limiting/"""

    scope: str
    call_count: float | None
    total_time: float | None
    total_cputime: float | None
    regain_access_at: datetime | None = None

    @property
    def percent(self) -> float:
        """The highest of the three percentages (0 when none is given)."""
        values = [v for v in (self.call_count, self.total_time, self.total_cputime) if v]
        return max(values, default=0.0)


@dataclass(frozen=True, slots=True)
class Usage:
    """What a client has used and what the platform's headers last said, for ``collect
    status``: requests sent, retries, time spent waiting, X's windows, the Graph API's usage
    percentages, and the quota budget (if any)."""

    platform: str
    requests: int = 0
    retries: int = 0
    waited_seconds: float = 0.0
    windows: tuple[RateWindow, ...] = ()
    graph: tuple[GraphUsage, ...] = ()
    quota_used: int | None = None
    quota_limit: int | None = None
    quota_unit: str = "unit"
    quota_resets_at: datetime | None = None
    updated_at: datetime | None = None

    def window(self, endpoint: str) -> RateWindow | None:
        return next((w for w in self.windows if w.endpoint == endpoint), None)

    def lines(self) -> list[str]:
        """One line per fact: '1,234 requests, 3 retries, waited 14 min', 'X /2/users/:id/tweets:
        847 of 900 requests left until 2025-03-02 03:12 UTC', 'Graph API app usage: 45% ...',
        'YouTube quota: 9,800 of 10,000 units used; resets 2025-03-02 08:00 UTC'."""
        head = f"{self.platform}: {count(self.requests, 'request')}, "
        head += count(self.retries, "retry", "retries")
        if self.waited_seconds:
            head += f", waited {duration(self.waited_seconds)}"
        lines = [head]
        for w in self.windows:
            left = "?" if w.remaining is None else number(w.remaining)
            of = "" if w.limit is None else f" of {number(w.limit)}"
            until = "" if w.resets_at is None else f" until {when(w.resets_at, UTC)}"
            lines.append(f"{self.platform} {w.endpoint}: {left}{of} requests left{until}")
        for g in self.graph:
            parts = [
                f"{name} {value:g}%"
                for name, value in (
                    ("calls", g.call_count),
                    ("time", g.total_time),
                    ("CPU time", g.total_cputime),
                )
                if value is not None
            ]
            line = f"Graph API {g.scope} usage: {', '.join(parts) or 'not given'}"
            if g.regain_access_at is not None:
                line += f"; throttled until {when(g.regain_access_at, UTC)}"
            lines.append(line)
        if self.quota_limit is not None:
            used = number(self.quota_used or 0)
            line = f"{self.platform} quota: {used} of {count(self.quota_limit, self.quota_unit)}"
            line += " used"
            if self.quota_resets_at is not None:
                line += f"; resets {when(self.quota_resets_at, UTC)}"
            lines.append(line)
        return lines


@dataclass(frozen=True, slots=True)
class Wait:
    """A wait the client is about to make, for the screen: ``str(wait)`` is 'X rate limit
    reached; waiting 14 min until 03:12 UTC' or 'YouTube: server error (HTTP 503); retrying in
    4 s (attempt 2 of 5)'."""

    platform: str
    kind: Literal["rate_limit", "retry"]
    reason: str
    seconds: float
    until: datetime
    now: datetime
    attempt: int | None = None
    attempts: int | None = None

    def __str__(self) -> str:
        if self.kind == "rate_limit":
            return (
                f"{self.platform} {self.reason}; waiting {duration(self.seconds)}"
                f" until {clock_time(self.until, self.now)}"
            )
        tries = f" (attempt {self.attempt} of {self.attempts})" if self.attempt else ""
        return f"{self.platform}: {self.reason}; retrying in {duration(self.seconds)}{tries}"


class QuotaBudget:
    """A quota counted here, because the platform's headers do not say it: each call's cost is
    given by the caller, and a call that would go over ``limit`` is refused before it is sent.
    The count starts again at midnight in ``zone``. ``used`` (counted ``as_of``) carries the
    count over from an earlier run the same day. Thread-safe."""

    def __init__(
        self,
        limit: int,
        *,
        zone: tzinfo,
        unit: str = "unit",
        resets: str = "midnight UTC",
        used: int = 0,
        as_of: datetime | None = None,
    ) -> None:
        if limit < 1:
            raise ValueError("a quota budget needs a limit of at least 1")
        self.limit = limit
        self.zone = zone
        self.unit = unit
        self.resets = resets
        self._used = used
        self._as_of = as_of
        self._period_end: datetime | None = None
        self._lock = threading.Lock()

    @classmethod
    def youtube(
        cls, limit: int = 10_000, *, used: int = 0, as_of: datetime | None = None
    ) -> QuotaBudget:
        """YouTube Data API: 10,000 units a day by default, reset at midnight Pacific time;
        every request costs at least 1 unit, invalid ones too.
        https://developers.google.com/youtube/v3/determine_quota_cost"""
        return cls(
            limit, zone=PACIFIC, unit="unit", resets="midnight Pacific time", used=used, as_of=as_of
        )

    @classmethod
    def tiktok(
        cls, limit: int = 1_000, *, used: int = 0, as_of: datetime | None = None
    ) -> QuotaBudget:
        """TikTok Research API: 1,000 requests a day, reset at 12 AM UTC.
        https://developers.tiktok.com/doc/research-api-faq"""
        return cls(limit, zone=UTC, unit="request", resets="midnight UTC", used=used, as_of=as_of)

    def resets_at(self, now: datetime) -> datetime:
        """The next midnight in the budget's zone after ``now``."""
        return next_midnight(now, self.zone)

    def used(self, now: datetime) -> int:
        with self._lock:
            self._roll(now)
            return self._used

    def take(self, cost: int, now: datetime) -> bool:
        """Count ``cost`` if it fits in what is left today; False (nothing counted) if not."""
        with self._lock:
            self._roll(now)
            if self._used + cost > self.limit:
                return False
            self._used += cost
            return True

    def exhaust(self, now: datetime) -> None:
        """The platform said the quota is spent: refuse everything until the reset."""
        with self._lock:
            self._roll(now)
            self._used = max(self._used, self.limit)

    def _roll(self, now: datetime) -> None:
        if self._period_end is None:
            start = self._as_of if self._as_of is not None else now
            self._period_end = self.resets_at(start)
        if now >= self._period_end:
            self._used = 0
            self._period_end = self.resets_at(now)


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def read_window(headers: httpx.Headers, endpoint: str) -> RateWindow | None:
    """X's ``x-rate-limit-limit`` / ``x-rate-limit-remaining`` / ``x-rate-limit-reset`` (Unix
    seconds) for the endpoint just called, None when the response has none.
    https://docs.x.com/fundamentals/rate-limits"""
    remaining = _int(headers.get("x-rate-limit-remaining"))
    limit = _int(headers.get("x-rate-limit-limit"))
    reset = _int(headers.get("x-rate-limit-reset"))
    if remaining is None and limit is None and reset is None:
        return None
    resets_at = datetime.fromtimestamp(reset, UTC) if reset is not None else None
    return RateWindow(endpoint, limit, remaining, resets_at)


def _percent(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def read_graph_usage(headers: httpx.Headers, now: datetime) -> tuple[GraphUsage, ...]:
    """The Graph API's ``X-App-Usage`` (``{"call_count": 28, "total_time": 25,
    "total_cputime": 25}``) and ``X-Business-Use-Case-Usage`` (``{"<business id>": [{"type":
    "pages", "call_count": 100, "total_cputime": 25, "total_time": 25,
    "estimated_time_to_regain_access": 19}]}``, minutes), as sent with most responses once an
    app has made enough calls. A header that is not such JSON is ignored.
    https://developers.facebook.com/docs/graph-api/overview/rate-limiting/"""
    found: list[GraphUsage] = []
    app = _json_header(headers.get("x-app-usage"))
    if isinstance(app, dict):
        found.append(_graph_usage("app", app, now))
    business = _json_header(headers.get("x-business-use-case-usage"))
    if isinstance(business, dict):
        for owner, entries in business.items():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    kind = entry.get("type")
                    scope = f"business {owner}" + (f" ({kind})" if isinstance(kind, str) else "")
                    found.append(_graph_usage(scope, entry, now))
    return tuple(found)


def _json_header(value: str | None) -> object:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _graph_usage(scope: str, entry: dict[str, object], now: datetime) -> GraphUsage:
    minutes = _percent(entry.get("estimated_time_to_regain_access"))
    regain = now + timedelta(minutes=minutes) if minutes else None
    return GraphUsage(
        scope,
        _percent(entry.get("call_count")),
        _percent(entry.get("total_time")),
        _percent(entry.get("total_cputime")),
        regain,
    )
