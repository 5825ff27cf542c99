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
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from govsocial.sources.http import Resume, Usage


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
