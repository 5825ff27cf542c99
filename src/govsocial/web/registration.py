"""Registration (docs/web.md, "Registration"): an institution's operator sees its official
accounts and proposes changes (add, remove, correct a handle); the organiser approves or
rejects each (jury/registrations.py applies an approval to the warehouse's registry).

An operator's institution is always their user's, never a value of the URL or a form: asking
for another institution is refused (403), and another institution's change is "not found".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from govsocial.errors import ConfigError, InputError, NotFoundError, StoreError
from govsocial.jury import registrations
from govsocial.jury.registrations import InstitutionView, Registration
from govsocial.reports.files import file_stem
from govsocial.reports.i18n import N_
from govsocial.store.registry import RegisteredAccount
from govsocial.vocabulary import PLATFORMS
from govsocial.web.context import AppState, Forbidden, Viewer, app_state, need, render

router = APIRouter(include_in_schema=False)  # pages, not the JSON API
OPERATOR_OR_ORGANISER = need("operator", "organiser")
OPERATOR = need("operator")
ORGANISER = need("organiser")
DECIDED_SHOWN = 200  # decided changes on the organiser's page
KIND_NAMES = {
    "add": N_("add an account"),
    "remove": N_("remove the account"),
    "correct": N_("correct the handle"),
}
STATUS_NAMES = {
    "pending": N_("pending"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "withdrawn": N_("withdrawn"),
}
Form200 = Annotated[str, Form(max_length=200)]
Form1000 = Annotated[str, Form(max_length=registrations.MAX_TEXT + 50)]


# ---------------------------------------------------------------- the institution's accounts


@dataclass(frozen=True)
class Seen:
    """The institution's accounts as shown: read now, or kept from the last read when the
    warehouse is busy (``at``: when they were read)."""

    view: InstitutionView | None
    at: datetime | None
    problem: str | None  # why they are not read now (no warehouse, busy, not registered)


_kept: dict[tuple[str, str], tuple[datetime, InstitutionView]] = {}
_kept_lock = threading.Lock()


def accounts_of(warehouse: Path | None, institution_id: str) -> Seen:
    """The institution's accounts, from the warehouse now; while another command holds it,
    the last ones read (said so)."""
    key = (str(warehouse), institution_id)
    try:
        view = registrations.institution_view(warehouse, institution_id)
    except ConfigError as exc:
        return Seen(None, None, exc.message)
    except StoreError as exc:
        with _kept_lock:
            kept = _kept.get(key)
        if kept is None:
            return Seen(None, None, exc.message)
        return Seen(kept[1], kept[0], exc.message)
    now = datetime.now(UTC)
    with _kept_lock:
        _kept[key] = (now, view)
    return Seen(view, None, None)


def _account(seen: Seen, account_id: int, institution_id: str) -> RegisteredAccount:
    for account in seen.view.accounts if seen.view else ():
        if account.account_id == account_id:
            return account
    if seen.view is None and seen.problem:
        raise InputError(seen.problem)
    raise NotFoundError(f"no account {account_id} among the accounts of {institution_id}")


# ---------------------------------------------------------------- the latest published run


def _latest_run(state: AppState, institution_id: str) -> str | None:
    """The newest published run that has the institution (its id), if any."""
    runs = state.runs()
    if not runs:
        return None
    model = runs[0]
    run_id = model.folder.name
    present: frozenset[str] = state.cached(
        (run_id, "registration-institutions"),
        lambda: frozenset(
            str(i) for i in model.table("accounts").column("institution_id").to_pylist()
        ),
    )
    return run_id if institution_id in present else None


def _institution_names(state: AppState) -> dict[str, str]:
    runs = state.runs()
    if not runs:
        return {}
    model = runs[0]
    names: dict[str, str] = state.cached(
        (model.folder.name, "registration-names"),
        lambda: {
            str(r["institution_id"]): str(r["institution_name"])
            for r in model.table("accounts")
            .select(["institution_id", "institution_name"])
            .to_pylist()
        },
    )
    return names


# ---------------------------------------------------------------- pages


def _common(who: Viewer) -> dict[str, Any]:
    return {
        "page_title": who._("Registration"),
        "current": "registration",
        "kind_names": KIND_NAMES,
        "status_names": STATUS_NAMES,
    }


def _operator_page(request: Request, who: Viewer, status: int = 200, **values: Any) -> HTMLResponse:
    assert who.user is not None and who.user.institution_id is not None
    state = app_state(request)
    institution_id = who.user.institution_id
    seen = accounts_of(state.config.warehouse, institution_id)
    changes = registrations.list_changes(state.store(), who.user.id)
    pending = {c.account_id: c.id for c in changes if c.status == "pending" and c.account_id}
    run_id = _latest_run(state, institution_id)
    return render(
        who,
        "registration/operator.html",
        status=status,
        **_common(who),
        institution_id=institution_id,
        institution=seen.view.institution if seen.view else None,
        accounts=seen.view.accounts if seen.view else (),
        seen=seen,
        changes=changes,
        pending=pending,
        platforms=PLATFORMS,
        run_id=run_id,
        scorecard=f"/runs/{run_id}/scorecards/{file_stem(institution_id)}.html" if run_id else "",
        form=values.pop("form", {}),
        **values,
    )


def _organiser_page(
    request: Request,
    who: Viewer,
    status: int = 200,
    *,
    shown: str = "",
    institution: str = "",
    **values: Any,
) -> HTMLResponse:
    assert who.user is not None
    state = app_state(request)
    store = state.store()
    chosen = institution.strip() or None
    pending = registrations.list_changes(
        store, who.user.id, status="pending", institution_id=chosen
    )
    decided = [
        c
        for c in registrations.list_changes(
            store, who.user.id, status=shown or None, institution_id=chosen
        )
        if c.status != "pending"
    ][:DECIDED_SHOWN]
    return render(
        who,
        "registration/organiser.html",
        status=status,
        **_common(who),
        pending=pending,
        decided=decided,
        shown=shown,
        statuses=registrations.STATUSES[1:],
        institution=chosen or "",
        names=_institution_names(state),
        warehouse=state.config.warehouse,
        notes=values.pop("notes", {}),
        **values,
    )


@router.get("/registration", response_class=HTMLResponse)
def registration(
    request: Request,
    institution: str = "",
    status: str = "",
    who: Viewer = Depends(OPERATOR_OR_ORGANISER),
) -> Response:
    assert who.user is not None
    if who.user.role == "operator":
        if institution and institution != who.user.institution_id:
            raise Forbidden("an operator sees only their own institution's registration")
        return _operator_page(request, who)
    if status and status not in registrations.STATUSES[1:]:
        raise InputError(f"unknown status {status!r}; one of: approved, rejected, withdrawn")
    return _organiser_page(request, who, shown=status, institution=institution)


@router.get("/registration/", include_in_schema=False)
def slash() -> Response:
    return RedirectResponse("/registration", status_code=308)


# ---------------------------------------------------------------- the operator's forms


@router.post("/registration/propose")
def propose(
    request: Request,
    kind: Annotated[str, Form(max_length=20)],
    reason: Form1000 = "",
    platform: Annotated[str, Form(max_length=20)] = "",
    handle: Form200 = "",
    platform_id: Form200 = "",
    name: Annotated[str, Form(max_length=registrations.MAX_NAME + 50)] = "",
    account: Annotated[str, Form(max_length=20)] = "",
    institution: Form200 = "",
    who: Viewer = Depends(OPERATOR),
) -> Response:
    assert who.user is not None and who.user.institution_id is not None
    own = who.user.institution_id
    if institution and institution != own:
        raise Forbidden("you can propose changes to your own institution's accounts only")
    state = app_state(request)
    form = {
        "kind": kind,
        "reason": reason,
        "platform": platform,
        "handle": handle,
        "platform_id": platform_id,
        "name": name,
        "account": account,
    }
    try:
        chosen: RegisteredAccount | None = None
        if kind in ("remove", "correct"):
            if not account.strip().isdigit():
                raise InputError(who._("Choose the account to change."))
            chosen = _account(accounts_of(state.config.warehouse, own), int(account), own)
        made = registrations.propose(
            state.store(),
            who.user.id,
            kind,
            reason=reason,
            platform=platform,
            handle=handle,
            platform_id=platform_id,
            name=name,
            account=chosen,
        )
    except InputError as exc:
        return _operator_page(request, who, 400, error=exc.message, form=form)
    return _operator_page(
        request,
        who,
        done=who._("Change {id} is proposed; the organiser will approve or reject it.", id=made.id),
    )


@router.post("/registration/{change_id}/withdraw")
def withdraw(request: Request, change_id: int, who: Viewer = Depends(OPERATOR)) -> Response:
    assert who.user is not None
    try:
        done = registrations.withdraw(app_state(request).store(), who.user.id, change_id)
    except InputError as exc:
        return _operator_page(request, who, 400, error=exc.message)
    return _operator_page(request, who, done=who._("Change {id} is withdrawn.", id=done.id))


# ---------------------------------------------------------------- the organiser's forms


@router.post("/registration/{change_id}/{decision}")
def decide(
    request: Request,
    change_id: int,
    decision: str,
    note: Form1000 = "",
    who: Viewer = Depends(ORGANISER),
) -> Response:
    assert who.user is not None
    if decision not in registrations.DECISIONS:
        raise NotFoundError(f"no such action {decision!r}: approve or reject")
    state = app_state(request)
    try:
        done = registrations.decide(
            state.store(), who.user.id, change_id, decision, note, warehouse=state.config.warehouse
        )
    except InputError as exc:
        return _organiser_page(request, who, 400, error=exc.message, notes={change_id: note})
    except (ConfigError, StoreError) as exc:
        return _organiser_page(request, who, 409, error=exc.message, notes={change_id: note})
    return _organiser_page(request, who, done=_said(who, done))


def _said(who: Viewer, change: Registration) -> str:
    if change.status == "rejected":
        return who._("Change {id} is rejected.", id=change.id)
    outcome = change.outcome or {}
    if outcome.get("already"):
        return who._(
            "Change {id} is approved; the registry had it already (batch {batch}).",
            id=change.id,
            batch=outcome.get("batch_id"),
        )
    return who._(
        "Change {id} is approved and the registry is updated (batch {batch}).",
        id=change.id,
        batch=outcome.get("batch_id"),
    )
