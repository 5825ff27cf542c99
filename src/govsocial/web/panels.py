"""A juror's panel (docs/web.md, "Jury"): the nominees of one category × cluster with the
juror's own ballots; the juror saves a draft of a nominee's scores, recuses from a nominee and
submits the panel. Once the jury is closed the page shows every juror's ballots and the
panel's outcome.

    GET  /jury/{id}/panel/{category}/{cluster}     a juror's panel: nominees, ballots
    POST /jury/{id}/panel/{category}/{cluster}/save|recuse|submit  (juror; save and recuse
                                                   answer htmx with the nominee's form)

The juror is always the signed-in user: the core checks the assignment, the deadline and
blindness. :mod:`panel_page` reads what the page shows; :mod:`judging`'s router includes this
one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from govsocial.errors import AuthError, InputError, NotFoundError
from govsocial.jury.ballots import recuse, save_draft, submit
from govsocial.jury.juries import get_jury
from govsocial.web.context import Viewer, app_state, render
from govsocial.web.jury_forms import given_scores, parse_scores, posted, status_of, text
from govsocial.web.jury_views import JUROR, user_of
from govsocial.web.panel_page import PANEL, Kept, Place, read_panel, weighted

router = APIRouter(include_in_schema=False)  # pages, not the JSON API
FRAGMENT = "X-Jury-Fragment"  # marks an htmx answer that replaces one nominee's form


def _panel_page(
    request: Request,
    who: Viewer,
    at: Place,
    status: int = 200,
    error: str | None = None,
    **options: Any,
) -> HTMLResponse:
    page = read_panel(request, who, at, **options)
    return render(
        who,
        "jury/panel.html",
        status=status,
        page_title=f"{page.names.category(at.category)} · {page.names.cluster(at.cluster)}",
        current="jury",
        page=page,
        error=error,
        weighted=lambda b: weighted(b, page.jury),
    )


def _not_a_nominee(at: Place, unit: str) -> NotFoundError:
    return NotFoundError(f"{unit!r} is not a nominee of {at.category} × {at.cluster}")


def _nominee_answer(
    request: Request,
    who: Viewer,
    at: Place,
    unit: str,
    status: int = 200,
    error: str | None = None,
    kept: Kept | None = None,
    saved: str | None = None,
) -> Response:
    """After a save or a recusal: htmx gets the nominee's form again (with "saved at" or the
    refusal); a browser without JavaScript goes back to the panel (or sees the refusal)."""
    htmx = request.headers.get("hx-request") == "true"
    if not htmx and error is None:
        page = read_panel(request, who, at)
        row = page.row(unit)
        address = f"{page.action}#nominee-{row.index}" if row else page.action
        return RedirectResponse(address, status_code=303)
    errors = {unit: error} if error else None
    if not htmx:
        return _panel_page(request, who, at, status, error, errors=errors, kept=kept, saved=saved)
    page = read_panel(request, who, at, kept=kept, errors=errors, saved=saved)
    found = page.row(unit)
    if found is None:
        raise _not_a_nominee(at, unit)
    answer = render(
        who,
        "jury/_nominee.html",
        status=status,
        page=page,
        row=found,
        weighted=lambda b: weighted(b, page.jury),
    )
    answer.headers[FRAGMENT] = "1"
    return answer


def _change_ballot(
    request: Request,
    who: Viewer,
    at: Place,
    unit: str,
    act: Callable[[], None],
    kept: Kept | None = None,
) -> Response:
    """Run ``act`` (a save or a recusal of the juror's ballot for ``unit``) and answer with
    the nominee's form: saved, or with the refusal and ``kept`` (the form as given). A
    refusal with no form to show it in (not the juror's panel, not a nominee on it) is a
    page (403, 404)."""
    try:
        act()
    except (InputError, AuthError, NotFoundError) as exc:
        if not isinstance(exc, InputError):
            page = read_panel(request, who, at)  # raises if the juror may not see the panel
            if page.row(unit) is None:
                raise _not_a_nominee(at, unit) from None
        return _nominee_answer(request, who, at, unit, status_of(exc), exc.message, kept=kept)
    return _nominee_answer(request, who, at, unit, saved=unit)


@router.get(PANEL, response_class=HTMLResponse)
def panel(request: Request, at: Place = Depends(Place), who: Viewer = Depends(JUROR)) -> Response:
    return _panel_page(request, who, at)


@router.post(PANEL + "/save")
def save(
    request: Request,
    at: Place = Depends(Place),
    form: FormData = Depends(posted),
    who: Viewer = Depends(JUROR),
) -> Response:
    store = app_state(request).store()
    unit, comment, given = text(form, "unit", 200), text(form, "comment"), given_scores(form)
    kept: Kept = {unit: (given, comment)}  # a refused form comes back as it was typed

    def act() -> None:
        scores = parse_scores(given, get_jury(store, at.jury_id), who)
        me = user_of(who).id
        save_draft(store, me, at.jury_id, at.category, at.cluster, unit, scores, comment)

    return _change_ballot(request, who, at, unit, act, kept)


@router.post(PANEL + "/recuse")
def recuse_from(
    request: Request,
    at: Place = Depends(Place),
    form: FormData = Depends(posted),
    who: Viewer = Depends(JUROR),
) -> Response:
    store = app_state(request).store()
    unit, reason = text(form, "unit", 200), text(form, "reason")

    def act() -> None:
        if not reason.strip():
            raise InputError(who._("Say why you recuse (the conflict of interest)."))
        recuse(store, user_of(who).id, at.jury_id, at.category, at.cluster, unit, reason)

    return _change_ballot(request, who, at, unit, act)


@router.post(PANEL + "/submit")
def submit_panel(
    request: Request, at: Place = Depends(Place), who: Viewer = Depends(JUROR)
) -> Response:
    store = app_state(request).store()
    try:
        submit(store, user_of(who).id, at.jury_id, at.category, at.cluster)
    except (InputError, AuthError) as exc:
        return _panel_page(request, who, at, status_of(exc), exc.message)
    return RedirectResponse(at.address, status_code=303)
