"""What every fake API shares: a request and a reply, the settings (credentials, limits,
faults), keyed cursors, and :class:`FakeApi`, the shape each platform module fills in.

Cursors are keyed, never offsets: a cursor names the last item served (its time and id),
and the next page starts strictly after it. A post published between two page reads
appears at the top of the timeline and shifts no page, so a walk neither loses nor repeats
a post, as with the platforms' own opaque cursors (the new post is found by the next run).
"""

from __future__ import annotations

import base64
import json
import random
import threading
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from govsocial.synth.platforms.world import FakeAccount, FakePost, FakeWorld

# A fault's target: a probability (of any request), or the handles it always hits.
Target = float | Collection[str]


@dataclass(frozen=True)
class Credentials:
    """What the server accepts; :meth:`settings` gives them under govsocial's setting names
    (``youtube_key``, ...), as a client's ``credentials`` mapping."""

    youtube_key: str = "fake-youtube-key"
    facebook_token: str = "fake-facebook-token"
    instagram_token: str = "fake-instagram-token"
    instagram_user_id: str = "17841400000000000"
    x_bearer_token: str = "fake-x-bearer-token"
    tiktok_client_key: str = "fake-tiktok-client-key"
    tiktok_client_secret: str = "fake-tiktok-client-secret"

    def settings(self) -> dict[str, str]:
        return dict(self.__dict__)

    def secrets(self) -> list[str]:
        return [v for k, v in self.__dict__.items() if k != "instagram_user_id"]


@dataclass(frozen=True)
class Limits:
    """The platforms' own limits, as documented (each cited where it is enforced)."""

    youtube_daily_units: int = 10_000
    tiktok_daily_requests: int = 1_000
    tiktok_token_lifetime_s: int = 7_200
    x_window_requests: int = 900
    x_window_s: int = 900
    graph_hourly_calls: int = 10_000  # X-App-Usage call_count is calls / this, in percent


@dataclass(frozen=True)
class Faults:
    """Faults to inject. A probability fault hits that share of requests; a handle
    collection hits every request about those accounts.

    Probability faults are drawn per request from the server's seed, the request (method,
    path, query without credentials) and how often it was asked before, so the same seed
    gives the same faults however the client's threads interleave. They are transient, as
    on the platforms: a request they answered ``in_a_row`` times running is then served.

    - ``rate_limit``: the platform's rate-limit answer, with its reset header and time
      (``reset_after_s`` seconds ahead);
    - ``server_error``: a 5xx in the platform's error shape;
    - ``slow``: the right answer, after ``slow_s`` seconds (past a short client timeout);
    - ``truncated``: status 200, the JSON body cut in half;
    - ``expired_token``: requests numbered in this range (1 = the server's first request)
      are answered as with an expired or revoked token;
    Handles are ``handle`` (that account on every platform) or ``platform:handle``.

    - ``deleted``: handles answered with the API's not-found shape;
    - ``forbidden``: handles answered with the API's permission error;
    - ``changing``: handles whose timeline gets a new post at the top right after its first
      page is served (once per account).
    """

    rate_limit: Target = 0.0
    server_error: Target = 0.0
    slow: Target = 0.0
    truncated: Target = 0.0
    expired_token: range | None = None
    deleted: Collection[str] = ()
    forbidden: Collection[str] = ()
    changing: Collection[str] = ()
    reset_after_s: int = 1
    slow_s: float = 0.3
    in_a_row: int = 2

    def hits(
        self, target: Target, account: FakeAccount | None, rng: random.Random | None = None
    ) -> bool:
        if isinstance(target, float | int):
            return target > 0 and rng is not None and rng.random() < target
        return account is not None and _named(account, target)


def _named(account: FakeAccount, handles: Collection[str]) -> bool:
    """Whether ``handles`` names the account: ``handle`` (on any platform) or
    ``platform:handle``, ``@`` and case ignored."""
    wanted = {h.lower().replace(":@", ":").removeprefix("@") for h in handles}
    handle = account.handle.lower()
    return handle in wanted or f"{account.platform}:{handle}" in wanted


@dataclass
class Request:
    """A request as a fake API sees it: ``path`` below the API's mount (``/channels``),
    ``query`` with one value per name, ``body`` the parsed JSON or form body (or None)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-case
    body: Any = None


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Reply:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Reply(
        status, body, {"Content-Type": "application/json; charset=UTF-8", **(headers or {})}
    )


@dataclass
class Context:
    """The server's state every fake API reads: the world, settings, the fault seed."""

    world: FakeWorld
    credentials: Credentials
    limits: Limits
    faults: Faults
    seed: int = 0
    root: str = ""  # the server's http://127.0.0.1:port, once it listens
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: set[str] = field(default_factory=set)

    def now(self) -> datetime:
        return self.world.clock()

    def first_page_served(self, account: FakeAccount) -> None:
        """The ``changing`` fault: a new post appears at the top after page 1 is served."""
        key = f"{account.platform}:{account.handle}"
        if self.faults.changing and _named(account, self.faults.changing):
            with self.lock:
                if key in self.changed:
                    return
                self.changed.add(key)
            self.world.add_post(account)


# ---- keyed cursors ----


def cursor_of(post: FakePost) -> str:
    """An opaque cursor naming ``post``: the next page starts after it."""
    raw = f"{post.posted_at.timestamp():.0f}:{post.platform_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def after_cursor(posts: Sequence[FakePost], cursor: str | None) -> list[FakePost]:
    """The posts (newest first) strictly after the one ``cursor`` names; ValueError if it is
    not a cursor of ours."""
    if not cursor:
        return list(posts)
    padded = cursor + "=" * (-len(cursor) % 4)
    stamp, _, post_id = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
    key = (float(stamp), post_id)
    return [p for p in posts if (p.posted_at.timestamp(), p.platform_id) < key]


class PeriodCount:
    """Requests counted per period of a platform's quota or usage (a Pacific or UTC day, an
    hour): the count starts again when the period changes."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._period: object = None
        self.count = 0

    def add(self, period: object) -> int:
        """Count one request made in ``period``: the requests counted in it, this one too."""
        with self._lock:
            if period != self._period:
                self._period, self.count = period, 0
            self.count += 1
            return self.count


def int_param(query: Mapping[str, str], name: str, default: int) -> int:
    value = query.get(name)
    return int(value) if value is not None and value.lstrip("-").isdigit() else default


class FakeApi(ABC):
    """One platform API (or two sharing one, as the Graph API). The server calls
    :meth:`authorise`, then the fault answers in this API's shapes, then :meth:`serve`;
    :meth:`decorate` adds the headers every response carries."""

    mount: str  # "/youtube/v3"

    def __init__(self, context: Context) -> None:
        self.context = context
        self.world = context.world

    def open_path(self, request: Request) -> bool:
        """A path served without credentials (TikTok's token endpoint)."""
        return False

    @abstractmethod
    def authorise(self, request: Request) -> Reply | None:
        """None when the request's credentials are accepted, else the API's auth error."""

    @abstractmethod
    def serve(self, request: Request) -> Reply: ...

    @abstractmethod
    def account_of(self, request: Request) -> FakeAccount | None:
        """The account a request is about, for targeted faults."""

    @abstractmethod
    def rate_limited(self, request: Request, reset: datetime) -> Reply: ...

    @abstractmethod
    def server_error(self, request: Request) -> Reply: ...

    @abstractmethod
    def expired(self, request: Request) -> Reply: ...

    @abstractmethod
    def not_found(self, request: Request, account: FakeAccount) -> Reply: ...

    @abstractmethod
    def forbidden(self, request: Request, account: FakeAccount) -> Reply: ...

    def decorate(self, request: Request, reply: Reply) -> None:  # noqa: B027 (optional hook)
        """Add the headers every response of this API carries (rate-limit state); none by
        default."""
