"""Opening a jury (docs/web.md, "Jury"): the organiser picks a published run, its categories
and clusters, the jurors, the panel size, the deadline (WIB) and the tally rule; the form
starts from the run's defaults and keeps what was typed when the core refuses it.

    GET  /jury/new, POST /jury/new                 open a jury (organiser)

:mod:`judging` includes this router before its own (``/jury/new`` is not ``/jury/{id}``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from govsocial.awards.methodology import JURY_RULES, parse_methodology
from govsocial.errors import GovsocialError, InputError, MethodologyError
from govsocial.jury.juries import DEFAULT_PANEL_SIZE, open_jury
from govsocial.jury.users import list_users
from govsocial.web.context import Viewer, app_state, render
from govsocial.web.jury_forms import local_input, parse_local, posted, status_of, text, texts
from govsocial.web.jury_views import (
    ORGANISER,
    RULE_NAMES,
    category_titles,
    cluster_names,
    user_of,
)

router = APIRouter(include_in_schema=False)  # pages, not the JSON API
DEFAULT_DAYS = 30  # a new jury's deadline, from now


def _new_page(
    request: Request,
    who: Viewer,
    form: dict[str, Any] | None = None,
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    state = app_state(request)
    runs = state.runs()
    chosen_id = (form or {}).get("run") or request.query_params.get("run") or ""
    model = next((m for m in runs if m.folder.name == chosen_id), runs[0] if runs else None)
    jurors = [u for u in list_users(state.store(), user_of(who).id) if u.role == "juror"]
    active = [u for u in jurors if not u.disabled]
    categories: list[tuple[str, str]] = []
    clusters: list[tuple[str, str]] = []
    rule, has_criteria = "standardised", False
    if model is not None:
        results = model.results
        categories = list(category_titles(results, who.lang).items())
        clusters = list(cluster_names(results["categories"][0]["clusters"]).items())
        try:
            methodology = parse_methodology(model.methodology_text, "methodology.toml")
        except MethodologyError:
            methodology = None
        if methodology is not None:
            rule, has_criteria = methodology.jury_rule, bool(methodology.jury)
    default = {
        "run": model.folder.name if model else "",
        "categories": [c for c, _ in categories],
        "clusters": [k for k, _ in clusters],
        # every active juror on every panel when there are no more of them than a panel
        # needs (GSM's three); else the organiser picks
        "jurors": [str(u.id) for u in active] if len(active) <= DEFAULT_PANEL_SIZE else [],
        "deadline": local_input(
            (datetime.now(UTC) + timedelta(days=DEFAULT_DAYS)).replace(
                minute=0, second=0, microsecond=0
            )
        ),
        "panel_size": str(DEFAULT_PANEL_SIZE),
        "rule": rule,
    }
    if form is not None and form.get("run") != default["run"]:
        form = None  # another run was chosen: its own defaults
    return render(
        who,
        "jury/new.html",
        status=status,
        page_title=who._("Open a jury"),
        current="jury",
        runs=runs,
        model=model,
        categories=categories,
        clusters=clusters,
        jurors=jurors,
        has_criteria=has_criteria,
        methodology_rule=rule,
        rules=JURY_RULES,
        rule_names=RULE_NAMES,
        form={**default, **(form or {})},
        **values,
    )


@router.get("/jury/new", response_class=HTMLResponse)
def new(request: Request, who: Viewer = Depends(ORGANISER)) -> Response:
    return _new_page(request, who)


@router.post("/jury/new")
def create(
    request: Request, form: FormData = Depends(posted), who: Viewer = Depends(ORGANISER)
) -> Response:
    state = app_state(request)
    kept: dict[str, Any] = {
        "run": text(form, "run", 200),
        "categories": texts(form, "category"),
        "clusters": texts(form, "cluster"),
        "jurors": texts(form, "juror"),
        "deadline": text(form, "deadline", 40),
        "panel_size": text(form, "panel_size", 10),
        "rule": text(form, "rule", 40),
    }
    try:
        model = state.model(kept["run"])
        if not kept["categories"]:
            raise InputError(who._("Choose at least one category."))
        if not kept["clusters"]:
            raise InputError(who._("Choose at least one cluster."))
        try:
            size = int(kept["panel_size"])
            jurors = [int(j) for j in kept["jurors"]]
        except ValueError:
            raise InputError(
                who._("The panel size and the jurors must be whole numbers.")
            ) from None
        rule = (
            kept["rule"] or parse_methodology(model.methodology_text, "methodology.toml").jury_rule
        )
        if rule not in JURY_RULES:
            raise InputError(
                who._(
                    "The tally rule '{rule}' is not one of: {rules}.",
                    rule=rule,
                    rules=", ".join(JURY_RULES),
                )
            )
        opened = open_jury(
            state.store(),
            user_of(who).id,
            model.folder,
            deadline=parse_local(kept["deadline"], who),
            categories=kept["categories"],
            clusters=kept["clusters"],
            jurors=jurors,
            panel_size=size,
            rule=rule,  # checked above
        )
    except GovsocialError as exc:
        return _new_page(request, who, kept, status_of(exc), error=exc.message)
    return RedirectResponse(f"/jury/{opened.id}", status_code=303)
