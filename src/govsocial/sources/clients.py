"""What every platform's live-API client offers the collector (``collect/``).

One client per platform, in ``sources/<platform>/client.py``, built on the one HTTP toolkit
(:mod:`govsocial.sources.http`). A client never parses what it fetches into rows: each
:class:`Fetched` body is an API response that the platform's own file reader (the import
format named by :attr:`PlatformClient.format`) reads exactly as it reads the same response
saved to a file. So collected and imported data go through the same records, quarantine,
raw keeping and loader.

A client reads three things of an account:

- :meth:`PlatformClient.followers`: one reading of its follower count (a response the reader
  turns into an account snapshot);
- :meth:`PlatformClient.posts`: its posts published in ``[since, until)`` with their counts,
  newest first where the API allows, page by page; every yielded body carries the
  :class:`~govsocial.sources.http.Resume` to continue after it (``None`` after the last), so
  the collector commits the page and its cursor together and a killed run continues there;
- :meth:`PlatformClient.recount`: fresh counts of some of its posts (by platform post id),
  for the re-reading schedule.

What the clients share lives here too: :func:`credential_values` (a missing credential is a
:class:`~govsocial.errors.ConfigError` naming every missing setting), :func:`account_failure`
(a :class:`~govsocial.errors.TerminalSourceError` about one account), :func:`fetched` (a
toolkit :class:`~govsocial.sources.http.Page` as a :class:`Fetched`), :class:`ClientOptions`
(the keywords every client takes) and :class:`ToolkitClient`, the base of a client over one
:class:`~govsocial.sources.http.ApiClient`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, Self, TypedDict, Unpack

import httpx

from govsocial.errors import ConfigError, TerminalSourceError
from govsocial.sources.http import Api, ApiClient, Page, QuotaBudget, Resume, Usage, Wait

# The Graph API root Facebook Pages and Instagram are read from, one version for both
# (https://developers.facebook.com/docs/graph-api/guides/versioning).
GRAPH_ROOT = "https://graph.facebook.com/v21.0"


@dataclass(frozen=True, slots=True)
class AccountRef:
    """A registered account as the collector knows it: at least one of ``platform_id`` (the
    platform's stable id: page id, channel id, user id) and ``handle``."""

    account_id: int  # accounts.account_id in the warehouse
    platform: str
    platform_id: str | None
    handle: str | None

    def describe(self) -> str:
        """For messages: ``instagram account @humasjabar``."""
        name = f"@{self.handle}" if self.handle else f"id {self.platform_id}"
        return f"{self.platform} account {name}"


@dataclass(frozen=True, slots=True)
class Fetched:
    """One response to load: ``body`` is what the platform's file reader reads (credentials
    already removed), ``origin`` the request URL without credentials, ``number`` the page's
    number in its walk, ``resume`` where the walk continues after it (None: it was the last
    page, or the body is not part of a walk)."""

    body: bytes
    origin: str
    number: int
    fetched_at: datetime
    resume: Resume | None = None


class PlatformClient(Protocol):
    """A live-API client of one platform (see the module docstring)."""

    @property
    def platform(self) -> str: ...

    @property
    def format(self) -> str:
        """The import format whose reader reads every :class:`Fetched` body."""
        ...

    @property
    def usage(self) -> Usage: ...

    def followers(self, account: AccountRef) -> Fetched: ...

    def posts(
        self, account: AccountRef, since: datetime, until: datetime, resume: Resume | None
    ) -> Iterator[Fetched]: ...

    def recount(self, account: AccountRef, post_ids: Sequence[str]) -> Iterator[Fetched]: ...

    def close(self) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


def settings_named(*keys: str) -> str:
    """Where credential settings are set, for messages: ``GOVSOCIAL_X_BEARER_TOKEN (or
    x_bearer_token in govsocial.toml or govsocial.secrets.toml)``."""
    env = " and ".join(f"GOVSOCIAL_{key.upper()}" for key in keys)
    return f"{env} (or {' and '.join(keys)} in govsocial.toml or govsocial.secrets.toml)"


def credential_values(
    credentials: Mapping[str, str], needed: Mapping[str, str], *, platform: str, docs: str
) -> dict[str, str]:
    """The ``needed`` credential settings' values (``needed`` maps each setting to what it
    is, for the message), stripped; a :class:`ConfigError` naming every one that is missing,
    where to set it and the page saying how to get it, if any is."""
    values = {key: str(credentials.get(key) or "").strip() for key in needed}
    missing = [key for key, value in values.items() if not value]
    if missing:
        what = " and ".join(needed[key] for key in missing)
        they, them = ("it is", "it") if len(missing) == 1 else ("they are", "them")
        raise ConfigError(
            f"{platform}: collecting needs {what}, and {they} not set. Set "
            f"{settings_named(*missing)}; {docs} says how to get {them}."
        )
    return values


def account_failure(
    platform: str, account: AccountRef, what: str, page: Page | None = None
) -> TerminalSourceError:
    """A failure about one account that trying again will not mend, named as the toolkit names
    its own: ``YouTube (youtube account @x): what``, ``what`` ending with its fix; with the
    status and origin of ``page`` when an answer was read."""
    return TerminalSourceError(
        f"{platform} ({account.describe()}): {what}",
        status=None if page is None else page.status,
        url=None if page is None else page.origin,
        platform=platform,
    )


def fetched(
    page: Page,
    resume: Resume | None = None,
    *,
    body: bytes | None = None,
    number: int | None = None,
) -> Fetched:
    """A toolkit page as the collector takes it: its body (or ``body``, the page's
    rewritten), origin, number (or ``number``) and time, with ``resume``."""
    return Fetched(
        page.body if body is None else body,
        page.origin,
        page.number if number is None else number,
        page.fetched_at,
        resume,
    )


class ClientOptions(TypedDict, total=False):
    """The keywords every client takes besides its credentials (``base_url`` None: the real
    API root; ``on_wait``, ``clock``, ``sleep``, ``transport`` and ``budget`` are as for
    :class:`~govsocial.sources.http.ApiClient`)."""

    base_url: str | None
    on_wait: Callable[[Wait], None] | None
    clock: Callable[[], datetime]
    sleep: Callable[[float], None]
    transport: httpx.BaseTransport | None
    budget: QuotaBudget | None


@dataclass(frozen=True, slots=True)
class Auth:
    """The credentials a client adds to every request."""

    params: Mapping[str, str] | None = None
    headers: Mapping[str, str] | None = None


class ToolkitClient:
    """The base of a platform client over one :class:`~govsocial.sources.http.ApiClient`:
    a subclass names its platform (``platform``, ``format``, ``name`` shown in messages), its
    API (``api``, the real ``root``), its credential settings (``settings``: pairs of a
    setting and what it is; ``docs``: the page saying how to get them) and how they are sent
    (:meth:`auth`)."""

    platform: ClassVar[str]
    format: ClassVar[str]
    name: ClassVar[str]
    api: ClassVar[type[Api]]
    root: ClassVar[str]
    settings: ClassVar[tuple[tuple[str, str], ...]]
    docs: ClassVar[str]

    def __init__(self, credentials: Mapping[str, str], **options: Unpack[ClientOptions]) -> None:
        needed = dict(self.settings)
        values = credential_values(credentials, needed, platform=self.name, docs=self.docs)
        auth = self.auth(values)
        budget = options.get("budget")
        self.budget = budget if budget is not None else self.default_budget()
        self.clock = options.get("clock", utc_now)
        self._api = ApiClient(
            self.name,
            self.api(),
            options.get("base_url") or self.root,
            auth_params=auth.params,
            auth_headers=auth.headers,
            credential=settings_named(*needed),
            budget=self.budget,
            on_wait=options.get("on_wait"),
            clock=self.clock,
            sleep=options.get("sleep", time.sleep),
            transport=options.get("transport"),
        )

    def auth(self, values: Mapping[str, str]) -> Auth:
        """The credentials sent, from the settings' ``values``."""
        raise NotImplementedError

    def default_budget(self) -> QuotaBudget | None:
        """The quota budget when none is given (None: the API's headers say the limits)."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._api!r})"

    @property
    def usage(self) -> Usage:
        return self._api.usage

    def close(self) -> None:
        self._api.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
