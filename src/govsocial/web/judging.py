"""The jury's pages (docs/web.md, "Jury"): the organiser opens a jury on a published run,
assigns jurors, watches their progress and the live tally, extends the deadline, reopens a
juror's panel and closes the jury; a juror scores the nominees of their panels, recuses from a
nominee, saves drafts and submits each panel.

This module is the jury's router: the list of juries, a jury's page (:mod:`jury_page` builds
it) and the organiser's actions on it. It includes the routers of :mod:`jury_opening` (opening
a jury) and :mod:`panels` (a juror's panel); :mod:`jury_forms` reads the forms,
:mod:`jury_views` holds what the pages share.

Every call to the jury core (govsocial.jury) passes the signed-in user's id: the core checks
the role, the assignment, the deadline and blindness in its own transaction. No juror route
takes a juror id (the juror is always the signed-in user); an organiser's forms name the juror
they act on.

    GET  /jury                                     the organiser's juries, or a juror's panels
    GET  /jury/new, POST /jury/new                 open a jury (organiser; jury_opening)
    GET  /jury/{id}                                the organiser's view, or a juror's panels
    POST /jury/{id}/assign|unassign|deadline|reopen|close          (organiser)
    GET  /jury/{id}/panel/{category}/{cluster}     a juror's panel: nominees, ballots (panels)
    POST /jury/{id}/panel/{category}/{cluster}/save|recuse|submit  (juror; panels)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from govsocial.errors import GovsocialError
from govsocial.jury.ballots import progress, reopen
from govsocial.jury.closing import close_jury
from govsocial.jury.juries import assign, extend_deadline, get_jury, list_juries, unassign
from govsocial.jury.store import StateStore
from govsocial.web import jury_opening, panels
from govsocial.web.context import Viewer, app_state, language, render
from govsocial.web.jury_forms import juror_id, panel_of, parse_local, posted, status_of, text
from govsocial.web.jury_page import render_jury
from govsocial.web.jury_views import JURY, ORGANISER, language_datetime, run_names, user_of

router = APIRouter(include_in_schema=False)  # pages, not the JSON API
router.include_router(jury_opening.router)  # first: /jury/new before /jury/{jury_id}
router.include_router(panels.router)


@router.get("/jury", response_class=HTMLResponse)
def index(request: Request, who: Viewer = Depends(JURY)) -> Response:
    state = app_state(request)
    store = state.store()
    me = user_of(who)
    juries = list_juries(store)
    if me.role == "organiser":
        listed = []
        for jury in reversed(juries):
            rows = progress(store, me.id, jury.id)
            listed.append(
                {
                    "jury": jury,
                    "names": run_names(state, jury, who.lang),
                    "assignments": len(rows),
                    "submitted": sum(1 for r in rows if r.submitted),
                    "panels": len({(r.category, r.cluster_id) for r in rows}),
                }
            )
        return render(
            who,
            "jury/index.html",
            page_title=who._("Juries"),
            current="jury",
            juries=listed,
            runs=state.runs(),
        )
    mine = []
    for jury in reversed(juries):
        rows = progress(store, me.id, jury.id)
        if rows:
            mine.append({"jury": jury, "names": run_names(state, jury, who.lang), "rows": rows})
    return render(
        who,
        "jury/mine.html",
        page_title=who._("Your juries"),
        current="jury",
        juries=mine,
        now=datetime.now(UTC),
    )


@router.get("/jury/{jury_id}", response_class=HTMLResponse)
def jury_page(request: Request, jury_id: int, who: Viewer = Depends(JURY)) -> Response:
    return render_jury(request, who, jury_id)


# ---------------------------------------------------------------- the organiser's actions


@dataclass(frozen=True)
class Action:
    """What an organiser's action acts with (``POST /jury/{id}/<action>``)."""

    store: StateStore
    organiser: int  # the signed-in organiser's id
    jury_id: int
    form: FormData
    who: Viewer


def assign_juror(a: Action) -> str:
    category, cluster = panel_of(a.form)
    added = assign(a.store, a.organiser, a.jury_id, juror_id(a.form, a.who), category, cluster)
    return language(a.who.lang).ngettext(
        "The juror was assigned to {n} panel.",
        "The juror was assigned to {n} panels.",
        len(added),
    )


def unassign_juror(a: Action) -> str:
    category, cluster = text(a.form, "category", 200), text(a.form, "cluster", 200)
    unassign(a.store, a.organiser, a.jury_id, juror_id(a.form, a.who), category, cluster)
    return a.who._("The juror was taken off the panel.")


def deadline(a: Action) -> str:
    moved = extend_deadline(
        a.store, a.organiser, a.jury_id, parse_local(text(a.form, "deadline", 40), a.who)
    )
    return a.who._(
        "The deadline is now {deadline}.", deadline=language_datetime(a.who, moved.deadline)
    )


def reopen_panel(a: Action) -> str:
    category, cluster = text(a.form, "category", 200), text(a.form, "cluster", 200)
    reason = text(a.form, "reason", 4000)
    reopen(a.store, a.organiser, a.jury_id, juror_id(a.form, a.who), category, cluster, reason)
    return a.who._("The juror's panel is open again: their ballots are drafts until they submit.")


def close(a: Action) -> str:
    close_jury(a.store, a.organiser, a.jury_id)
    return a.who._("The jury is closed: the winners and the champion are recorded and published.")


def _action_route(act: Callable[[Action], str]) -> Callable[..., Response]:
    """The route of an organiser's action: run ``act`` (a core call; it says what it did) and
    show the jury's page with that, or with the core's refusal. An unknown jury is a 404."""

    def route(
        request: Request,
        jury_id: int,
        form: FormData = Depends(posted),
        who: Viewer = Depends(ORGANISER),
    ) -> Response:
        store = app_state(request).store()
        get_jury(store, jury_id)
        try:
            done = act(Action(store, user_of(who).id, jury_id, form, who))
        except GovsocialError as exc:
            return render_jury(request, who, jury_id, status_of(exc), error=exc.message)
        return render_jury(request, who, jury_id, done=done)

    return route


ACTIONS: dict[str, Callable[[Action], str]] = {
    "assign": assign_juror,
    "unassign": unassign_juror,
    "deadline": deadline,
    "reopen": reopen_panel,
    "close": close,
}
for _name, _act in ACTIONS.items():
    router.add_api_route(
        f"/jury/{{jury_id}}/{_name}", _action_route(_act), methods=["POST"], name=_act.__name__
    )
