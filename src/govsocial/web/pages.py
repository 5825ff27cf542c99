"""The rendered-page cache of the public pages and the JSON API: what a published run shows is
made once (:func:`once`) and each page or answer is rendered once per key and kept
(:class:`Pages`, bounded in size); a request is then a dict lookup and the viewer's CSRF token
put in place of a placeholder (:func:`serve`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from fastapi.responses import HTMLResponse

from govsocial.web.context import AppState, Viewer, page_context

# The values of the request being rendered (who is signed in, their CSRF token): a Site is
# shared by concurrent requests, so they are passed per rendering, never stored on it.
REQUEST: ContextVar[dict[str, Any]] = ContextVar("govsocial_web_request")
# Put in a kept page where the viewer's CSRF token goes (each viewer has their own).
PLACEHOLDER = "gsCsrfPlaceholder0x7f3a9c"
PAGES_LIMIT = 48_000_000  # characters of rendered pages kept per run (oldest used dropped)


class Pages:
    """Rendered pages of one run, least recently used dropped beyond ``limit`` characters
    (a leaderboard has a page per filter and sort: the set is bounded, its size is not
    small). Concurrent requests for a page not yet kept wait for one rendering of it, instead
    of all rendering it at once (a cold cache under load)."""

    def __init__(self, limit: int = PAGES_LIMIT) -> None:
        self.limit = limit
        self._kept: OrderedDict[Any, str] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._making: dict[Any, threading.Lock] = {}

    def get(self, key: Any, make: Callable[[], str]) -> str:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
                return found
            making = self._making.setdefault(key, threading.Lock())
        with making:  # the first caller renders; the others wait, then find it kept
            with self._lock:
                found = self._kept.get(key)
            if found is not None:
                return found
            try:
                made = make()
            except BaseException:
                with self._lock:
                    self._making.pop(key, None)
                raise
            with self._lock:
                self._making.pop(key, None)
                self._kept[key] = made
                self._size += len(made)
                while self._size > self.limit and len(self._kept) > 1:
                    _, dropped = self._kept.popitem(last=False)
                    self._size -= len(dropped)
        return made


_BUILDING: dict[Any, threading.Lock] = defaultdict(threading.Lock)
_BUILDING_LOCK = threading.Lock()


def one_at_a_time(key: Any) -> threading.Lock:
    """The lock held while one request makes what ``key`` names (concurrent ones wait)."""
    with _BUILDING_LOCK:
        return _BUILDING[key]


def once(state: AppState, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
    """``state.cached(key, make)``, made by one request while concurrent ones wait (reading a
    run's tables or building its site takes a while: fifty first visitors must not do it fifty
    times)."""
    found = state.cache.get(key)
    if found is not None:
        return found
    with one_at_a_time(key):
        return state.cached(key, make)


def pages(state: AppState, run_id: str) -> Pages:
    kept: Pages = once(state, (run_id, "public-pages"), Pages)
    return kept


def serve(
    state: AppState,
    run_id: str,
    who: Viewer,
    key: tuple[Any, ...],
    make: Callable[[dict[str, Any]], str],
    here: str,
) -> HTMLResponse:
    """A page of ``run_id``, rendered by ``make(context)`` once per ``key``, language and
    signed-in user, and kept; the viewer's CSRF token is put in on every request."""
    user = who.user
    by = (user.id, user.name, user.role) if user else None

    def rendered() -> str:
        context = {**page_context(who), "csrf": PLACEHOLDER, "here": here}
        token = REQUEST.set(context)
        try:
            return make(context)
        finally:
            REQUEST.reset(token)

    html = pages(state, run_id).get((who.lang, by, *key), rendered)
    response = HTMLResponse(html.replace(PLACEHOLDER, who.csrf))
    response.headers["Vary"] = "Cookie, HX-Request"
    return response
