"""Signing in and out, the first organiser, the password, the language (docs/web.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from govsocial.errors import AuthError, InputError
from govsocial.jury import sessions
from govsocial.jury.users import (
    change_password,
    create_first_organiser,
    has_users,
    verify_login,
)
from govsocial.reports.i18n import LANGUAGES
from govsocial.web.context import (
    LANG_COOKIE,
    SESSION_COOKIE,
    Viewer,
    app_state,
    need,
    render,
    viewer,
)

router = APIRouter(include_in_schema=False)  # pages, not the JSON API
HOME = {"organiser": "/admin", "juror": "/jury", "operator": "/registration"}


def safe_next(target: str | None, fallback: str = "/") -> str:
    """Only a path of this site (never another host: ``//evil``, ``https://…``, ``\\``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target


def home_of(who: Viewer) -> str:
    return HOME.get(who.role or "", "/")


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "", who: Viewer = Depends(viewer)) -> Response:
    state = app_state(request)
    if not has_users(state.store()):
        return RedirectResponse("/setup", status_code=303)
    if who.user is not None:
        return RedirectResponse(safe_next(next, home_of(who)), status_code=303)
    return render(who, "login.html", page_title=who._("Sign in"), next=safe_next(next, ""))


@router.post("/login")
def login(
    request: Request,
    login: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2000)] = "",
    who: Viewer = Depends(viewer),
) -> Response:
    state = app_state(request)
    try:
        user = verify_login(state.store(), login, password, state.config.throttle)
    except AuthError as exc:
        return render(
            who,
            "login.html",
            status=401,
            page_title=who._("Sign in"),
            next=safe_next(next, ""),
            error=_login_error(who, exc.message),
            login=login,
        )
    token, _ = sessions.start(state.store(), user)
    target = safe_next(next, HOME.get(user.role, "/"))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=state.config.secure_cookies,
        path="/",
    )
    return response


def _login_error(who: Viewer, message: str) -> str:
    if message.startswith("too many failed sign-ins"):
        return who._(
            "Too many failed sign-ins for this login. Try again after {until} UTC.",
            until=message.rsplit("after ", 1)[-1].replace(" UTC", ""),
        )
    if message.endswith("is disabled; ask an organiser"):
        return who._("This account is disabled; ask an organiser.")
    return who._("Wrong login or password.")


@router.post("/logout")
def logout(request: Request, who: Viewer = Depends(viewer)) -> Response:
    if who.token:
        sessions.end(app_state(request).store(), who.token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/setup", response_class=HTMLResponse)
def setup_page(request: Request, who: Viewer = Depends(viewer)) -> Response:
    if has_users(app_state(request).store()):
        return RedirectResponse("/login", status_code=303)
    return render(who, "setup.html", page_title=who._("First organiser"))


@router.post("/setup")
def setup(
    request: Request,
    name: Annotated[str, Form(max_length=200)],
    login: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    repeat: Annotated[str, Form(max_length=1024)],
    who: Viewer = Depends(viewer),
) -> Response:
    store = app_state(request).store()
    try:
        if password != repeat:
            raise InputError(who._("The two passwords differ."))
        create_first_organiser(store, name=name, login=login, password=password)
    except (InputError, AuthError) as exc:
        if isinstance(exc, AuthError):
            return RedirectResponse("/login", status_code=303)
        return render(
            who,
            "setup.html",
            status=400,
            page_title=who._("First organiser"),
            error=exc.message,
            name=name,
            login=login,
        )
    return RedirectResponse("/login", status_code=303)


@router.get("/account", response_class=HTMLResponse)
def account_page(who: Viewer = Depends(need())) -> Response:
    return render(who, "account.html", page_title=who._("Your account"))


@router.post("/account/password")
def password(
    request: Request,
    current: Annotated[str, Form(max_length=1024)],
    new: Annotated[str, Form(max_length=1024)],
    repeat: Annotated[str, Form(max_length=1024)],
    who: Viewer = Depends(need()),
) -> Response:
    assert who.user is not None and who.session is not None
    try:
        if new != repeat:
            raise InputError(who._("The two passwords differ."))
        change_password(
            app_state(request).store(), who.user.id, current, new, keep_session=who.session.key
        )
    except (InputError, AuthError) as exc:
        return render(
            who, "account.html", status=400, page_title=who._("Your account"), error=exc.message
        )
    return render(
        who,
        "account.html",
        page_title=who._("Your account"),
        done=who._("Your password was changed; your other sessions were signed out."),
    )


@router.get("/language/{lang}")
def choose_language(lang: str, next: str = "/") -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, samesite="lax", path="/", max_age=365 * 86400)
    return response


@router.get("/home")
def home(who: Viewer = Depends(viewer)) -> Response:
    return RedirectResponse(home_of(who) if who.user else "/login", status_code=303)
