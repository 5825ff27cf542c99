"""The web app (docs/web.md): ``create_app(config)`` gives the ASGI app ``govsocial serve``
runs with uvicorn.

Routers, one module each: :mod:`auth` (sign-in, sign-out, first run, password, language),
:mod:`public` (the published results, leaderboards, institutions), :mod:`api` (the same as
JSON, with its OpenAPI description), :mod:`admin` (users, the audit log), :mod:`judging`
(juries: the organiser's and the jurors' pages), :mod:`registration` (institutions' account
changes). What they share is in :mod:`context`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from importlib import resources

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from govsocial import __version__
from govsocial.errors import (
    AuthError,
    ConfigError,
    GovsocialError,
    InputError,
    MethodologyError,
    NotFoundError,
)
from govsocial.reports.i18n import N_
from govsocial.web.config import WebConfig
from govsocial.web.context import (
    CSRF_COOKIE,
    AppState,
    Unauthenticated,
    Viewer,
    csrf_guard,
    render,
    viewer,
)

log = logging.getLogger("govsocial.web")

# Only our own files: no inline script, no other origin. Vega-Lite's charts run without
# eval (the expression interpreter); styles allow inline attributes (SVG charts use them).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


CONFIG_VARIABLE = "GOVSOCIAL_WEB_CONFIG"  # how `govsocial serve --workers N` passes its config


def from_environment() -> FastAPI:
    """The app of the config that ``govsocial serve`` put in the environment (each worker
    process of ``--workers`` builds its own)."""
    return create_app(WebConfig.from_json(os.environ[CONFIG_VARIABLE]))


def create_app(config: WebConfig) -> FastAPI:
    from govsocial.web import admin, api, auth, judging, public, registration, scorecards

    app = FastAPI(
        title="govsocial",
        version=__version__,
        description="Published results of government social media awards, as JSON.",
        docs_url=None,  # our own page (api.py): Swagger UI vendored, no inline script
        redoc_url=None,
        openapi_url="/api/openapi.json",
        dependencies=[Depends(csrf_guard)],
    )
    app.state.govsocial = AppState(config.with_key())
    static = resources.files("govsocial.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    for module in (auth, public, scorecards, api, admin, judging, registration):
        app.include_router(module.router)
    _handlers(app)

    app.add_middleware(SecurityHeaders, secure_cookies=config.secure_cookies)
    return app


class SecurityHeaders:
    """Plain ASGI middleware (cheaper than ``@app.middleware``): every response gets the
    security headers and its cache rule; a visitor given a new anonymous CSRF token during
    the request gets its signed cookie."""

    def __init__(self, app: ASGIApp, secure_cookies: bool = False) -> None:
        self.app = app
        self.secure = secure_cookies
        self.fixed = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.fixed:
                    if name.decode() not in headers:
                        headers.append(name.decode(), value.decode())
                if "cache-control" not in headers:
                    rule = "public, max-age=3600" if static else "no-store"
                    headers.append("Cache-Control", rule)
                who: Viewer | None = scope.get("state", {}).get("viewer")
                if who is not None and who.anonymous_csrf is not None:
                    state: AppState = scope["app"].state.govsocial
                    cookie = SimpleCookie()
                    cookie[CSRF_COOKIE] = state.signer.dumps(who.anonymous_csrf)
                    morsel = cookie[CSRF_COOKIE]
                    morsel["path"] = "/"
                    morsel["httponly"] = True
                    morsel["samesite"] = "strict"
                    if self.secure:
                        morsel["secure"] = True
                    headers.append("set-cookie", morsel.OutputString())
            await send(message)

        await self.app(scope, receive, sending)


def _wants_json(request: Request) -> bool:
    return (
        request.url.path.startswith("/api/")
        or "application/json" in request.headers.get("accept", "").split(",")[0]
    )


def _handlers(app: FastAPI) -> None:
    def problem(request: Request, status: int, message: str) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": message, "status": status}, status_code=status)
        who = viewer(request)
        if status == 401 and request.method == "GET":
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return render(
            who,
            "message.html",
            status=status,
            page_title=who._(_TITLES.get(status, N_("Something went wrong"))),
            message=message,
            status_code=status,
        )

    def answer(status: int) -> Callable[[Request, Exception], Awaitable[Response]]:
        async def handle(request: Request, exc: Exception) -> Response:
            return problem(request, status, str(exc))

        return handle

    for kind, status in STATUS_OF:  # the most specific class of an error wins (Starlette)
        app.add_exception_handler(kind, answer(status))

    @app.exception_handler(GovsocialError)
    async def other(request: Request, exc: GovsocialError) -> Response:
        log.warning("%s: %s", type(exc).__name__, exc.message)
        return problem(request, 500, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http(request: Request, exc: StarletteHTTPException) -> Response:
        return problem(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        fields = ", ".join(
            str(e.get("loc", ["?"])[-1]) + ": " + str(e.get("msg", "")) for e in exc.errors()
        )
        return problem(request, 400, f"the request is not valid ({fields})")


# What each refusal of the core is to a browser or an API client (docs/web.md, "Errors").
STATUS_OF: tuple[tuple[type[GovsocialError], int], ...] = (
    (Unauthenticated, 401),
    (AuthError, 403),
    (NotFoundError, 404),
    (InputError, 400),
    (ConfigError, 409),
    (MethodologyError, 409),
)
_TITLES = {
    400: N_("The request was refused"),
    401: N_("Sign in first"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    409: N_("Not possible now"),
}
ROLE_NAMES = (N_("organiser"), N_("juror"), N_("operator"))  # shown as _(user.role)
