"""The organiser's pages: the users of the web app and the audit log (docs/web.md)."""

from __future__ import annotations

import io
from itertools import islice
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from govsocial.errors import AuthError, InputError, NotFoundError
from govsocial.jury import audit
from govsocial.jury.juries import list_juries
from govsocial.jury.registrations import list_changes
from govsocial.jury.users import ROLES, add_user, disable_user, list_users
from govsocial.web.context import Viewer, app_state, need, render

router = APIRouter(include_in_schema=False)  # pages, not the JSON API
ORGANISER = need("organiser")
RECENT = 200  # audit entries shown on the page (the export has them all)


@router.get("/admin", response_class=HTMLResponse)
def dashboard(request: Request, who: Viewer = Depends(ORGANISER)) -> Response:
    assert who.user is not None
    state = app_state(request)
    users = list_users(state.store(), who.user.id)
    juries = list_juries(state.store())
    return render(
        who,
        "admin/dashboard.html",
        page_title=who._("Organiser"),
        current="admin",
        users=users,
        juries=juries,
        runs=state.runs(),
        pending=len(list_changes(state.store(), who.user.id, status="pending")),
        report=audit.verify(state.store()),
    )


def _users_page(request: Request, who: Viewer, status: int = 200, **values: object) -> HTMLResponse:
    assert who.user is not None
    state = app_state(request)
    institutions = sorted(
        {
            (str(row["institution_id"]), str(row["institution_name"]))
            for model in state.runs()[:1]
            for row in model.table("accounts")
            .select(["institution_id", "institution_name"])
            .to_pylist()
        }
    )
    return render(
        who,
        "admin/users.html",
        status=status,
        page_title=who._("Users"),
        current="admin",
        users=list_users(state.store(), who.user.id),
        roles=ROLES,
        institutions=institutions,
        form=values.pop("form", {}),
        **values,
    )


@router.get("/admin/users", response_class=HTMLResponse)
def users(request: Request, who: Viewer = Depends(ORGANISER)) -> Response:
    return _users_page(request, who)


@router.post("/admin/users")
def add(
    request: Request,
    name: Annotated[str, Form(max_length=200)],
    login: Annotated[str, Form(max_length=254)],
    role: Annotated[str, Form(max_length=20)],
    password: Annotated[str, Form(max_length=1024)],
    institution: Annotated[str, Form(max_length=200)] = "",
    who: Viewer = Depends(ORGANISER),
) -> Response:
    assert who.user is not None
    form = {"name": name, "login": login, "role": role, "institution": institution}
    if role not in ROLES:
        return _users_page(request, who, 400, error=who._("Choose a role."), form=form)
    try:
        added = add_user(
            app_state(request).store(),
            who.user.id,
            name=name,
            login=login,
            role=role,  # checked above
            password=password,
            institution_id=institution.strip() or None,
        )
    except InputError as exc:
        return _users_page(request, who, 400, error=exc.message, form=form)
    return _users_page(
        request,
        who,
        done=who._("{login} was added as {role}.", login=added.login, role=who._(added.role)),
    )


@router.post("/admin/users/{user_id}/disable")
def disable(request: Request, user_id: int, who: Viewer = Depends(ORGANISER)) -> Response:
    assert who.user is not None
    try:
        gone = disable_user(app_state(request).store(), who.user.id, user_id)
    except (AuthError, NotFoundError) as exc:
        return _users_page(request, who, 400, error=exc.message)
    return _users_page(
        request, who, done=who._("{login} is disabled and signed out.", login=gone.login)
    )


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_log(request: Request, who: Viewer = Depends(ORGANISER)) -> Response:
    store = app_state(request).store()
    report = audit.verify(store)
    with store.read():
        recent = list(islice(audit.entries(store, max(0, report.entries - RECENT)), RECENT))
    return render(
        who,
        "admin/audit.html",
        page_title=who._("Audit log"),
        current="admin",
        report=report,
        entries=list(reversed(recent)),
        total=report.entries,
    )


@router.get("/admin/audit/export")
def audit_export(request: Request, who: Viewer = Depends(ORGANISER)) -> Response:
    buffer = io.StringIO()
    audit.export(app_state(request).store(), buffer)
    return Response(
        buffer.getvalue(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="govsocial-audit.jsonl"'},
    )


@router.get("/admin/", include_in_schema=False)
def slash() -> Response:
    return RedirectResponse("/admin", status_code=308)
