"""Pagination as small strategy objects, one per API shape (dlt's ``BasePaginator`` shape:
https://dlthub.com/docs/api_reference/dlt/sources/helpers/rest_client/paginators).

:meth:`ApiClient.paginate <govsocial.sources.http.client.ApiClient.paginate>` drives one:

1. ``init_request(request)`` shapes the first request (and puts in a resumed cursor);
2. after each response, ``update_state(response, data)`` reads the next cursor out of the
   parsed JSON ``data`` and sets ``has_next_page``;
3. ``update_request(request)`` puts that cursor into the next request.

``state`` is the cursor the next request needs, as a small JSON-able dict, never a URL (the
Graph API's ``paging.next`` links carry the access token); ``restore(state)`` puts a saved one
back, so a run continues from the last page it committed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

# A cursor as kept between runs: names to strings, numbers or booleans.
State = dict[str, str | int | bool]


@dataclass(slots=True)
class PageRequest:
    """The request a paginator shapes: ``path`` relative to the client's base URL, query
    ``params`` (no credentials: the client adds those), and for POST APIs a ``json`` body."""

    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None


class BasePaginator(ABC):
    """A pagination strategy. Subclasses read ``data`` (the response's parsed JSON)."""

    def __init__(self) -> None:
        self._has_next_page = True

    @property
    def has_next_page(self) -> bool:
        """Whether the last response said there is another page."""
        return self._has_next_page

    def init_request(self, request: PageRequest) -> None:
        """Shape the first request; a restored cursor goes in as ``update_request`` would."""
        if self.state:
            self.update_request(request)

    @abstractmethod
    def update_state(self, response: httpx.Response, data: Any) -> None:
        """Read the next cursor from the response and set ``has_next_page``."""

    @abstractmethod
    def update_request(self, request: PageRequest) -> None:
        """Put the cursor into ``request`` for the next page."""

    @property
    @abstractmethod
    def state(self) -> State:
        """The cursor the next request needs (empty before the first response)."""

    @abstractmethod
    def restore(self, state: Mapping[str, str | int | bool]) -> None:
        """Continue from a saved :attr:`state`."""


def _dig(data: Any, path: Sequence[str]) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, Mapping) else None
    return data


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class GraphCursorPaginator(BasePaginator):
    """The Graph API's cursor pages (Facebook Pages, Instagram): a list edge answers ::

        {"data": [{"id": "19292868552_10158349356748553", ...}, ...],
         "paging": {"cursors": {"before": "QVFIUmlt...", "after": "QVFIUjRi..."},
                    "next": "https://graph.facebook.com/v19.0/19292868552/feed?access_token=...
                             &fields=...&limit=25&after=QVFIUjRi..."}}

    The next page is the same request with ``after`` set to ``paging.cursors.after``; the
    last page has no ``paging.next`` (a page may be empty and still have one). Some edges page
    by time instead (``paging.next`` with ``until``/``since``/``__paging_token`` and no
    cursors): those parameters are taken from ``next`` (never its access token).
    https://developers.facebook.com/docs/graph-api/results

    ``edge`` is where the list sits when it is nested in an object, and ``fields`` builds the
    ``fields`` parameter around the cursor for edges paged by field expansion, as Instagram's
    business discovery (cursors only, no ``next``; an empty page or no ``after`` ends it)::

        {"business_discovery": {"id": "17841401441775531", "followers_count": 267788,
           "media": {"data": [...], "paging": {"cursors": {"after": "QVFIUkx..."}}}},
         "id": "17841405309211844"}

        GraphCursorPaginator(edge=("business_discovery", "media"),
                             fields=lambda after: "business_discovery.username(bluebottle)"
                                 "{followers_count,media" + (f".after({after})" if after else "")
                                 + "{id,timestamp,like_count,comments_count}}")

    https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/business_discovery
    """

    _TIME_PAGING = ("until", "since", "__paging_token", "offset")

    def __init__(
        self,
        edge: Sequence[str] = (),
        fields: Callable[[str | None], str] | None = None,
    ) -> None:
        super().__init__()
        self.edge = tuple(edge)
        self.fields = fields
        self._state: State = {}

    def init_request(self, request: PageRequest) -> None:
        if self.fields is not None:
            after = self._state.get("after")
            request.params["fields"] = self.fields(after if isinstance(after, str) else None)
        else:
            super().init_request(request)

    def update_state(self, response: httpx.Response, data: Any) -> None:
        node = _dig(data, self.edge)
        paging = _dig(node, ("paging",))
        after = _text(_dig(paging, ("cursors", "after")))
        items = _dig(node, ("data",))
        if self.fields is not None:  # nested: no `next` link is given
            self._state = {"after": after} if after else {}
            self._has_next_page = bool(after) and bool(items)
            return
        following = _text(_dig(paging, ("next",)))
        self._has_next_page = following is not None
        if following is None:
            self._state = {}
        elif after:
            self._state = {"after": after}
        else:
            query = httpx.URL(following).params
            self._state = {k: query[k] for k in self._TIME_PAGING if k in query}
            self._has_next_page = bool(self._state)

    def update_request(self, request: PageRequest) -> None:
        if self.fields is not None:
            after = self._state.get("after")
            request.params["fields"] = self.fields(after if isinstance(after, str) else None)
            return
        for key in ("after", *self._TIME_PAGING):
            request.params.pop(key, None)
        request.params.update({k: str(v) for k, v in self._state.items()})

    @property
    def state(self) -> State:
        return dict(self._state)

    def restore(self, state: Mapping[str, str | int | bool]) -> None:
        self._state = dict(state)


class TokenPaginator(BasePaginator):
    """A list whose next page is the same request with one parameter (``param``) set to a
    token the response holds at ``where``; the last page holds none. The token is kept in
    :attr:`state` under ``key``."""

    where: tuple[str, ...]
    key: str

    def __init__(self, param: str) -> None:
        super().__init__()
        self.param = param
        self._token: str | None = None

    def update_state(self, response: httpx.Response, data: Any) -> None:
        self._token = _text(_dig(data, self.where))
        self._has_next_page = self._token is not None

    def update_request(self, request: PageRequest) -> None:
        if self._token:
            request.params[self.param] = self._token

    @property
    def state(self) -> State:
        return {self.key: self._token} if self._token else {}

    def restore(self, state: Mapping[str, str | int | bool]) -> None:
        token = state.get(self.key)
        self._token = token if isinstance(token, str) and token else None


class PageTokenPaginator(TokenPaginator):
    """YouTube Data API v3 list methods (``playlistItems.list``, ``videos.list``, …)::

        {"kind": "youtube#playlistItemListResponse", "etag": "...",
         "nextPageToken": "CAoQAA", "pageInfo": {"totalResults": 13, "resultsPerPage": 10},
         "items": [{"kind": "youtube#playlistItem", ...}, ...]}

    The next page is the same request with ``pageToken`` set to ``nextPageToken``; the last
    page has none. https://developers.google.com/youtube/v3/guides/implementation/pagination
    """

    where = ("nextPageToken",)
    key = "pageToken"

    def __init__(self) -> None:
        super().__init__("pageToken")


class NextTokenPaginator(TokenPaginator):
    """X API v2 lists (a user's posts ``GET /2/users/:id/tweets``, ``GET /2/users``, search)::

        {"data": [{"id": "1380242611781386245", "text": "...", "public_metrics": {...}}, ...],
         "includes": {"users": [...]},
         "meta": {"newest_id": "1380242611781386245", "oldest_id": "1380241916814581761",
                  "result_count": 100, "next_token": "b26v89c19zqg8o3fostqs9sdj5y8pqyhj4w0..."}}

    The next page is the same request with ``pagination_token`` set to ``meta.next_token``
    (search endpoints name the parameter ``next_token``: pass ``param="next_token"``); the last
    page has no ``next_token``. https://docs.x.com/x-api/fundamentals/pagination
    """

    where = ("meta", "next_token")
    key = "next_token"

    def __init__(self, param: str = "pagination_token") -> None:
        super().__init__(param)


class TikTokCursorPaginator(BasePaginator):
    """TikTok Research API video query (``POST /v2/research/video/query/``): the query is a
    JSON body, and the answer carries the cursor in ``data``::

        {"data": {"videos": [{"video_id": 702874395068494965, "region_code": "CA",
                              "create_time": 1633823999, "view_count": 1050, ...}, ...],
                  "cursor": 100, "search_id": "7201388525814961198", "has_more": true},
         "error": {"code": "ok", "message": "", "log_id": "20230113024658F0D7C5D6CA3A9B79C5B9"}}

    The next page is the same body with ``cursor`` and ``search_id`` from ``data``; the last
    page has ``has_more: false``. A window (``start_date``..``end_date``) spans at most 30
    days; the caller splits longer ones.
    https://developers.tiktok.com/doc/research-api-specs-query-videos
    """

    def __init__(self) -> None:
        super().__init__()
        self._state: State = {}

    def update_state(self, response: httpx.Response, data: Any) -> None:
        inner = _dig(data, ("data",))
        cursor, search_id = _dig(inner, ("cursor",)), _dig(inner, ("search_id",))
        more = _dig(inner, ("has_more",)) is True
        state: State = {}
        if isinstance(cursor, int) and not isinstance(cursor, bool):
            state["cursor"] = cursor
        if isinstance(search_id, str) and search_id:
            state["search_id"] = search_id
        self._state = state
        self._has_next_page = more and "cursor" in state

    def update_request(self, request: PageRequest) -> None:
        body = dict(request.json or {})
        body.update(self._state)
        request.json = body

    @property
    def state(self) -> State:
        return dict(self._state)

    def restore(self, state: Mapping[str, str | int | bool]) -> None:
        self._state = dict(state)
