"""What every request of the web app shares: who is asking (:class:`Viewer`), the state store,
the CSRF check, the published runs, and rendering a page in the viewer's language.

Every router takes what it needs from here through FastAPI dependencies::

    @router.get("/jury")
    def my_juries(viewer: Viewer = Depends(need("juror"))) -> HTMLResponse:
        return render(viewer, "jury/list.html", page_title=viewer._("Jury"), ...)

- :func:`viewer` reads the session cookie, resumes the session (its user checked now:
  disabled or gone means signed out) and the language cookie;
- :func:`need` refuses anyone without one of the roles (403; 401 with a sign-in link when
  nobody is signed in);
- :func:`csrf_guard` runs before every route (the app's own dependency): a POST, PUT, PATCH
  or DELETE without the viewer's CSRF token (form field ``csrf`` or header ``X-CSRF-Token``)
  is refused with 403 before the route runs;
- :func:`store` is the state store of the request's thread (one SQLite connection per
  worker thread, opened on first use).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from itsdangerous import BadSignature, URLSafeSerializer

from govsocial import __version__
from govsocial.errors import AuthError, NotFoundError
from govsocial.jury import sessions
from govsocial.jury.sessions import Session
from govsocial.jury.store import StateStore
from govsocial.jury.users import User
from govsocial.reports.i18n import DEFAULT_LANGUAGE, LANGUAGES, Language, catalogue
from govsocial.web.config import WebConfig

if TYPE_CHECKING:
    from govsocial.publish.model import ReadModel

SESSION_COOKIE = "gs_session"
CSRF_COOKIE = "gs_csrf"  # an anonymous visitor's CSRF token (signed), for the sign-in forms
LANG_COOKIE = "gs_lang"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Unauthenticated(AuthError):
    """Nobody is signed in where someone must be (401: the page offers the sign-in)."""


class Forbidden(AuthError):
    """Signed in, but not allowed (403)."""


# ---------------------------------------------------------------- the language


@functools.cache
def language(lang: str) -> WebLanguage:
    return WebLanguage(lang)


class WebLanguage:
    """The web app's messages (domain ``web``), falling back to the results site's (domain
    ``site``: the web shows the same pages), with the site's number and date formats."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.site = Language(lang, "site")
        self.web = Language(lang, "web")

    def gettext(self, message: str, **values: Any) -> str:
        if message in catalogue(self.lang, "web"):
            return self.web.gettext(message, **values)
        return self.site.gettext(message, **values)

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        if singular in catalogue(self.lang, "web"):
            return self.web.ngettext(singular, plural, n, **values)
        return self.site.ngettext(singular, plural, n, **values)


# ---------------------------------------------------------------- who is asking


@dataclass
class Viewer:
    """The person behind a request: a signed-in user (with their session) or the public."""

    request: Request
    lang: str
    session: Session | None = None
    token: str | None = None  # the session cookie's token (to sign out)
    anonymous_csrf: str | None = None  # a new anonymous CSRF token to set as a cookie
    _csrf: str | None = field(default=None, repr=False)

    @property
    def user(self) -> User | None:
        return self.session.user if self.session else None

    @property
    def role(self) -> str | None:
        return self.user.role if self.user else None

    @property
    def csrf(self) -> str:
        """The token every form of this viewer carries (field ``csrf``)."""
        if self.session is not None:
            return self.session.csrf
        if self._csrf is None:
            self._csrf = self.anonymous_csrf = sessions_token()
        return self._csrf

    def _(self, message: str, **values: Any) -> str:
        return language(self.lang).gettext(message, **values)


def sessions_token() -> str:
    import secrets

    return secrets.token_urlsafe(32)


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.govsocial
    return state


def viewer(request: Request) -> Viewer:
    """Who is asking, read once per request (FastAPI caches a dependency per request)."""
    cached: Viewer | None = getattr(request.state, "viewer", None)
    if cached is not None:
        return cached
    app = app_state(request)
    lang = request.cookies.get(LANG_COOKIE, DEFAULT_LANGUAGE)
    found = Viewer(request, lang if lang in LANGUAGES else DEFAULT_LANGUAGE)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        session = sessions.resume(app.store(), token)
        if session is not None:
            found.session, found.token = session, token
    if found.session is None:
        signed = request.cookies.get(CSRF_COOKIE)
        if signed:
            try:
                found._csrf = str(app.signer.loads(signed))
            except BadSignature:
                found._csrf = None
    request.state.viewer = found
    return found


def need(*roles: str) -> Callable[..., Viewer]:
    """A dependency: the viewer, if signed in with one of ``roles`` (any role when none)."""

    def check(who: Viewer = Depends(viewer)) -> Viewer:
        if who.user is None:
            raise Unauthenticated("sign in first")
        if roles and who.user.role not in roles:
            raise Forbidden(f"this page is for {' or '.join(roles)}s only")
        return who

    return check


async def csrf_guard(request: Request) -> None:
    """Refuse an unsafe request whose CSRF token (form field ``csrf`` or header
    ``X-CSRF-Token``) is not the viewer's."""
    if request.method not in UNSAFE:
        return
    who = viewer(request)
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf")
        given = value if isinstance(value, str) else None
    expected = who.session.csrf if who.session else who._csrf
    if expected is None or not sessions.same(given, expected):
        raise Forbidden(
            "the form's security token is missing or out of date (CSRF); reload the page "
            "and send it again"
        )


# ---------------------------------------------------------------- the server's shared state


class AppState:
    """What the server holds across requests: its settings, one state store per worker
    thread, the cookie signer, the template environments and the published runs."""

    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self.signer = URLSafeSerializer(config.key, salt="govsocial-csrf")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._models: dict[str, tuple[float, ReadModel]] = {}
        self.cache: dict[Any, Any] = {}  # routers' rendered pages and tables (see cached())
        self._by_state: dict[Any, tuple[tuple[int, ...], Any]] = {}
        self._newest: tuple[int, str | None] | None = None

    def store(self) -> StateStore:
        """This thread's connection to the state file."""
        opened: StateStore | None = getattr(self._local, "store", None)
        if opened is None:
            opened = StateStore.open(self.config.state, create=True)
            self._local.store = opened
        return opened

    # -- published runs

    def runs(self) -> list[ReadModel]:
        """The published runs under the root, newest first (a damaged folder is skipped)."""
        from govsocial.errors import ConfigError

        found = []
        root = self.config.published
        for folder in sorted(root.iterdir()) if root.is_dir() else ():
            if folder.is_dir() and not folder.name.startswith("."):
                try:
                    found.append(self.model(folder.name))
                except (ConfigError, NotFoundError):
                    continue
        return sorted(found, key=lambda m: str(m.manifest.get("published_at", "")), reverse=True)

    def newest(self) -> str | None:
        """The folder name of the newest published run (the front page), or None; kept
        until the root folder changes."""
        try:
            stamp = self.config.published.stat().st_mtime_ns
        except OSError:
            return None
        found = self._newest
        if found is None or found[0] != stamp:
            runs = self.runs()
            found = self._newest = (stamp, runs[0].folder.name if runs else None)
        return found[1]

    def model(self, run_id: str) -> ReadModel:
        """The published run ``run_id`` (its folder's name), checked when first opened and
        again whenever its manifest changes."""
        from govsocial.publish.model import MANIFEST, ReadModel

        if not run_id or "/" in run_id or run_id.startswith("."):
            raise NotFoundError(f"no published run {run_id!r}")
        folder = self.config.published / run_id
        try:
            stamp = (folder / MANIFEST).stat().st_mtime
        except OSError:
            raise NotFoundError(f"no published run {run_id!r}") from None
        with self._lock:
            known = self._models.get(run_id)
            if known is not None and known[0] == stamp:
                return known[1]
        model = ReadModel.open(folder)
        with self._lock:
            self._models[run_id] = (stamp, model)
            self.cache = {k: v for k, v in self.cache.items() if k[:1] != (run_id,)}
        return model

    def state_stamp(self) -> tuple[int, ...]:
        """A value that changes whenever anything commits to the state file, in any process
        (in WAL mode every commit appends to the ``-wal`` file; a checkpoint rewrites both):
        two ``stat`` calls, no query."""
        stamp: list[int] = []
        for path in (
            self.config.state,
            self.config.state.with_name(self.config.state.name + "-wal"),
        ):
            try:
                found = os.stat(path)
            except FileNotFoundError:
                stamp += [0, 0]
            else:
                stamp += [found.st_mtime_ns, found.st_size]
        return tuple(stamp)

    def while_state_unchanged(self, key: Any, make: Callable[[], Any]) -> Any:
        """``make()``, kept until the state file changes (:meth:`state_stamp`): a read of
        the state that many requests share (what closed juries decided) without a query per
        request."""
        stamp = self.state_stamp()
        found = self._by_state.get(key)
        if found is not None and found[0] == stamp:
            return found[1]
        value = make()
        with self._lock:
            self._by_state[key] = (stamp, value)
        return value

    def cached(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        """``make()`` once per ``key`` (whose first item is the run id, so that publishing a
        run again drops its entries); thread-safe, last writer wins."""
        found = self.cache.get(key)
        if found is None:
            found = make()
            with self._lock:
                self.cache[key] = found
        return found


# ---------------------------------------------------------------- rendering


TEMPLATES = Path(__file__).parent / "templates"


@functools.cache
def loader() -> jinja2.BaseLoader:
    """The web's templates first (its ``base.html`` extends ``site/base.html``), then the
    results site's (so its pages render inside the web's layout)."""
    site = jinja2.PackageLoader("govsocial.reports", "templates/site")
    return jinja2.ChoiceLoader(
        [
            jinja2.PackageLoader("govsocial.web", "templates"),
            site,
            jinja2.PrefixLoader({"site": site}),
        ]
    )


@functools.cache
def environment(lang: str) -> jinja2.Environment:
    from govsocial.reports.i18n import template_environment

    env = template_environment("site")
    env.loader = loader()
    words = language(lang)
    site = words.site
    env.globals.update(
        _=words.gettext,
        ngettext=words.ngettext,
        lang=lang,
        languages=LANGUAGES,
        version=__version__,
    )
    env.filters.update(
        num=lambda v, d=None: site.number(v, d),
        pct=lambda v, d=1: site.percent(v, d),
        date=site.date,
        datetime=site.datetime,
    )
    return env


def page_context(who: Viewer) -> dict[str, Any]:
    """What the web's layout needs beside a page's own values: who is signed in, their CSRF
    token, the path (to come back to after switching the language)."""
    return {
        "viewer": who,
        "user": who.user,
        "csrf": who.csrf,
        "languages": LANGUAGES,
        "here": who.request.url.path
        + (f"?{who.request.url.query}" if who.request.url.query else ""),
    }


def render(who: Viewer, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """A web page (``templates/<template>``) in the viewer's language. Pages outside a run
    get the layout's run fields empty."""
    newest = app_state(who.request).newest()
    defaults = {
        # the site's links (overview, categories, methodology) go to the newest run
        "root": f"/runs/{newest}/" if newest else "/",
        "edition": "govsocial",
        "run_id": "",
        "synthetic": False,
        "current": "",
        "in_run": False,
        "error": None,  # a form's refusal, said above it
        "done": None,  # what a form did
    }
    html = (
        environment(who.lang)
        .get_template(template)
        .render(**{**defaults, **page_context(who), **values})
    )
    return HTMLResponse(html, status_code=status)
