"""Instagram professional accounts through the Graph API's business discovery: an account's
follower count, its media with their like and comment counts, and fresh counts of media
already kept.

Business discovery reads *other* Business or Creator accounts through one Instagram
professional account of our own (``instagram_user_id``), by username
(https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/business_discovery)::

    GET /{instagram_user_id}?fields=business_discovery.username(bluebottle)
        {followers_count,media_count,username,name,media.limit(50){id,caption,...}}

    {"business_discovery": {"id": "17841401441775531", "username": "bluebottle",
       "followers_count": 267788, "media_count": 1205,
       "media": {"data": [{"id": "17858843269216389", "timestamp": "2021-08-13T08:02:40+0000",
                           "like_count": 1234, "comments_count": 56, ...}, ...],
                 "paging": {"cursors": {"after": "QVFIUkx..."}}}},
     "id": "17841405309211844"}

The media edge is paged by field expansion, ``media.after(<cursor>)`` (no ``next`` link:
:class:`~govsocial.sources.http.GraphCursorPaginator` with ``edge`` and ``fields``), newest
first, and takes no ``since``/``until``. Every body fetched is such a response, which the
instagram-graph reader reads as a file (:mod:`govsocial.sources.instagram.files`): the user
object with ``followers_count`` is one follower reading, its media are posts. Only the
follower call asks for ``followers_count``, so a page of media holds no reading.

Credentials: a user access token with instagram_basic and pages_read_engagement
(``instagram_token``) and the id of the professional account it speaks for
(``instagram_user_id``); docs/collect-facebook-instagram.md says how to get them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Unpack

from govsocial.sources.clients import (
    GRAPH_ROOT,
    AccountRef,
    Auth,
    ClientOptions,
    Fetched,
    ToolkitClient,
    account_failure,
    fetched,
)
from govsocial.sources.http import GraphApi, GraphCursorPaginator, Page, Resume
from govsocial.sources.instagram.files import FORMAT_NAME

MEDIA_FIELDS = (
    "id,caption,media_type,media_product_type,timestamp,permalink,like_count,comments_count"
)
PAGE_SIZE = 50
ACCOUNT_FIELDS = "followers_count,follows_count,media_count,username,name"
# Instagram usernames: letters, digits, periods and underscores, at most 30.
_USERNAME = re.compile(r"^[A-Za-z0-9._]{1,30}$")
RECOUNT_PAGES = 20  # media pages walked at most to find posts to recount (1,000 media)


def discovery_fields(
    username: str, *, account: bool, media: bool, limit: int = PAGE_SIZE
) -> Callable[[str | None], str]:
    """The ``fields`` parameter for one account, given the media cursor (None: the newest):
    its counts (``account``: the follower reading) or only its name, and its media."""

    def build(after: str | None) -> str:
        parts = [ACCOUNT_FIELDS if account else "username,name"]
        if media:
            edge = f"media.limit({limit})" + (f".after({after})" if after else "")
            parts.append(f"{edge}{{{MEDIA_FIELDS}}}")
        return f"business_discovery.username({username}){{{','.join(parts)}}}"

    return build


class InstagramClient(ToolkitClient):
    """The Instagram client (:class:`govsocial.sources.clients.PlatformClient`); its keywords
    are :class:`~govsocial.sources.clients.ClientOptions` and ``recount_pages``."""

    platform = "instagram"
    format = FORMAT_NAME
    name = "Instagram"
    api = GraphApi
    root = GRAPH_ROOT
    settings = (
        ("instagram_token", "a user access token with instagram_basic and pages_read_engagement"),
        (
            "instagram_user_id",
            "the id of the Instagram professional account that makes business discovery calls",
        ),
    )
    docs = "docs/collect-facebook-instagram.md"

    def __init__(
        self,
        credentials: Mapping[str, str],
        *,
        recount_pages: int = RECOUNT_PAGES,
        **options: Unpack[ClientOptions],
    ) -> None:
        super().__init__(credentials, **options)
        self.recount_pages = recount_pages

    def auth(self, values: Mapping[str, str]) -> Auth:
        self.user_id = values["instagram_user_id"]  # not a secret: it is in every path
        return Auth(params={"access_token": values["instagram_token"]})

    def followers(self, account: AccountRef) -> Fetched:
        """The account's counts, without media: one follower reading."""
        build = discovery_fields(_username(account), account=True, media=False)
        page = self._api.get(f"/{self.user_id}", {"fields": build(None)}, about=account.describe())
        return fetched(page)

    def posts(
        self, account: AccountRef, since: datetime, until: datetime, resume: Resume | None
    ) -> Iterator[Fetched]:
        """The account's media in ``[since, until)``. The API has no time filter: media come
        newest first, and the walk stops after the page holding one older than ``since``;
        media outside the window are left out of the body kept."""
        for page in self._walk(account, resume):
            media = _media(page.data)
            older = any(moment < since for moment in map(_timestamp, media) if moment)
            body = _keep(page, lambda m: _within(m, since, until))
            yield fetched(page, None if older else page.resume, body=body)
            if older:
                return

    def recount(self, account: AccountRef, post_ids: Sequence[str]) -> Iterator[Fetched]:
        """Fresh counts of ``post_ids``: business discovery cannot read media by id, so the
        newest media are walked again until every one asked for was seen (at most
        ``recount_pages`` pages), each page kept with only those media."""
        asked = frozenset(post_ids)
        missing = set(asked)
        if not asked:
            return
        for page in self._walk(account, None, max_pages=self.recount_pages):
            found = {m.get("id") for m in _media(page.data)} & asked
            if found:
                yield fetched(page, None, body=_keep(page, lambda m: m.get("id") in asked))
            missing -= found
            if not missing:
                return

    def _walk(
        self, account: AccountRef, resume: Resume | None, max_pages: int | None = None
    ) -> Iterator[Page]:
        build = discovery_fields(_username(account), account=False, media=True)
        return self._api.paginate(
            f"/{self.user_id}",
            {},
            GraphCursorPaginator(edge=("business_discovery", "media"), fields=build),
            resume=resume,
            about=account.describe(),
            max_pages=max_pages,
        )


def _username(account: AccountRef) -> str:
    """The handle business discovery asks by (it cannot ask by id)."""
    handle = (account.handle or "").lstrip("@")
    if not _USERNAME.match(handle):
        what = f"its handle {handle!r} is not" if handle else "it has no handle:"
        raise account_failure(
            "Instagram",
            account,
            f"business discovery reads an account by its username, and {what} an Instagram "
            "username. Fix: set the account's handle in the registry (letters, digits, '.' "
            "and '_').",
        )
    return handle


def _media(data: Any) -> list[Mapping[str, Any]]:
    discovery = data.get("business_discovery") if isinstance(data, Mapping) else None
    edge = discovery.get("media") if isinstance(discovery, Mapping) else None
    items = edge.get("data") if isinstance(edge, Mapping) else None
    return [m for m in items if isinstance(m, Mapping)] if isinstance(items, list) else []


def _timestamp(media: Mapping[str, Any]) -> datetime | None:
    value = media.get("timestamp")
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z") if isinstance(value, str) else None
    except ValueError:
        return None  # the reader quarantines it, saying why


def _within(media: Mapping[str, Any], since: datetime, until: datetime) -> bool:
    """In ``[since, until)``; a media without a readable time is kept (for the reader to
    quarantine, saying why)."""
    moment = _timestamp(media)
    return moment is None or since <= moment < until


def _keep(page: Page, keep: Callable[[Mapping[str, Any]], bool]) -> bytes:
    """The page's body with only the media ``keep`` accepts: as received when that is all of
    them, else the same response written again without the others."""
    data = page.data
    items = _media(data)
    if all(keep(m) for m in items):
        return page.body
    edge = data["business_discovery"]["media"]
    kept = {**edge, "data": [m for m in edge["data"] if not isinstance(m, Mapping) or keep(m)]}
    rewritten = {**data, "business_discovery": {**data["business_discovery"], "media": kept}}
    return json.dumps(rewritten, ensure_ascii=False, separators=(",", ":")).encode()
