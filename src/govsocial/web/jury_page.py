"""What a jury's page shows (``GET /jury/{id}``, and the answer to the organiser's actions,
:mod:`judging`): to the organiser, every panel with its jurors' progress, the jurors who may
still join it and its part of the tally (live, or as closed), the champion and the deadline's
form; to a juror of the jury, their panels and, once closed, the outcome. Anyone else is
refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from govsocial.jury.ballots import Progress, progress
from govsocial.jury.closing import tally
from govsocial.jury.juries import Jury, Nominee, get_jury, nominees
from govsocial.jury.users import User, list_users
from govsocial.web.context import AppState, Forbidden, Viewer, app_state, render
from govsocial.web.jury_forms import local_input
from govsocial.web.jury_views import (
    RULE_NAMES,
    champion_names,
    panel_order,
    run_names,
    signed,
    user_of,
)


@dataclass
class PanelRow:
    """One panel on the organiser's page."""

    category: str
    cluster_id: str
    progress: list[Progress]
    assignable: list[User]  # active jurors not on the panel
    tally: dict[str, Any] | None  # the panel's part of the outcome (live, or as closed)
    nominees: dict[str, Nominee] = field(default_factory=dict)  # unit → nominee


def _about(state: AppState, who: Viewer, jury: Jury) -> dict[str, Any]:
    """What both views of a jury's page show of it."""
    names = run_names(state, jury, who.lang)
    return {
        "page_title": who._("Jury {id}", id=jury.id),
        "current": "jury",
        "jury": jury,
        "names": names,
    }


def render_jury(
    request: Request, who: Viewer, jury_id: int, status: int = 200, **values: Any
) -> HTMLResponse:
    """Jury ``jury_id``'s page for the signed-in organiser or juror; ``values``: more for the
    template (``error``, ``done``)."""
    state = app_state(request)
    store = state.store()
    me = user_of(who)
    jury = get_jury(store, jury_id)
    if me.role == "juror":
        return _juror_jury_page(request, who, jury, status, **values)
    users = {u.id: u for u in list_users(store, me.id)}
    jurors = [u for u in users.values() if u.role == "juror"]
    rows = progress(store, me.id, jury_id)
    everyone = nominees(store, jury_id)
    outcome: dict[str, Any] = (
        jury.outcome if jury.outcome is not None else tally(store, me.id, jury_id).as_json()
    )
    tallies = {(p["category"], p["cluster_id"]): p for p in outcome["panels"]}
    rows_of: dict[tuple[str, str], PanelRow] = {}
    for n in everyone:
        key = (n.category, n.cluster_id)
        if key not in rows_of:
            on = [r for r in rows if (r.category, r.cluster_id) == key]
            taken = {r.juror_id for r in on}
            free = [u for u in jurors if u.id not in taken and not u.disabled]
            rows_of[key] = PanelRow(n.category, n.cluster_id, on, free, tallies.get(key))
        rows_of[key].nominees[n.unit] = n
    institutions = {n.institution_id: n.institution_name for n in everyone}
    return render(
        who,
        "jury/jury.html",
        status=status,
        **_about(state, who, jury),
        panels=[rows_of[k] for k in sorted(rows_of, key=lambda p: panel_order(jury, p))],
        users=users,
        jurors=[u for u in jurors if not u.disabled],
        outcome=outcome,
        tied=champion_names(outcome, institutions),
        assignments=len(rows),
        submitted=sum(1 for r in rows if r.submitted),
        deadline_input=local_input(jury.deadline),
        rule_names=RULE_NAMES,
        signed=lambda v: signed(v, who.lang),
        **values,
    )


def _juror_jury_page(
    request: Request, who: Viewer, jury: Jury, status: int, **values: Any
) -> HTMLResponse:
    state = app_state(request)
    store = state.store()
    rows = progress(store, user_of(who).id, jury.id)
    if not rows:
        raise Forbidden(who._("You are not a juror of jury {id}.", id=jury.id))
    outcome = jury.outcome
    institutions: dict[str, str] = {}
    if outcome is not None:
        institutions = {n.institution_id: n.institution_name for n in nominees(store, jury.id)}
    return render(
        who,
        "jury/juror_jury.html",
        status=status,
        **_about(state, who, jury),
        rows=rows,
        outcome=outcome,
        tied=champion_names(outcome, institutions) if outcome else [],
        now=datetime.now(UTC),
        **values,
    )
