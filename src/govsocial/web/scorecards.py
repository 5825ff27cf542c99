"""An institution's scorecard in the web app: the report's scorecard (reports/scorecards.py),
HTML or A4 PDF, rendered on first request and kept per run, language and institution."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from govsocial.errors import NotFoundError
from govsocial.reports.files import file_stem
from govsocial.reports.scorecard_facts import RunTables
from govsocial.reports.scorecards import Renderer
from govsocial.web.context import AppState, Viewer, app_state, viewer

router = APIRouter(include_in_schema=False)  # pages, not the JSON API


def _renderer(state: AppState, run_id: str, lang: str) -> Renderer:
    model = state.model(run_id)
    tables: RunTables = state.cached(
        (run_id, "scorecard-tables"), lambda: RunTables.from_model(model)
    )
    made: Renderer = state.cached(
        (run_id, "scorecard-renderer", lang), lambda: Renderer(tables, Path(), lang, pdf=False)
    )
    return made


def _institution(renderer: Renderer, run_id: str, stem: str) -> str:
    """The institution whose file stem is ``stem`` (as in the static report's links)."""
    for institution_id in renderer.run.institutions():
        if file_stem(institution_id) == stem:
            return institution_id
    raise NotFoundError(f"run {run_id} has no institution {stem!r}")


def scorecard_html(state: AppState, run_id: str, lang: str, institution_id: str) -> str:
    renderer = _renderer(state, run_id, lang)
    html: str = state.cached(
        (run_id, "scorecard-html", lang, institution_id), lambda: renderer.html(institution_id)
    )
    return html


@router.get("/runs/{run_id}/scorecards/{stem}.html", response_class=HTMLResponse)
def scorecard(run_id: str, stem: str, request: Request, who: Viewer = Depends(viewer)) -> Response:
    state = app_state(request)
    institution_id = _institution(_renderer(state, run_id, who.lang), run_id, stem)
    return HTMLResponse(scorecard_html(state, run_id, who.lang, institution_id))


@router.get("/runs/{run_id}/scorecards/{stem}.pdf")
def scorecard_pdf(
    run_id: str, stem: str, request: Request, who: Viewer = Depends(viewer)
) -> Response:
    state = app_state(request)
    renderer = _renderer(state, run_id, who.lang)
    institution_id = _institution(renderer, run_id, stem)
    pdf: bytes = state.cached(
        (run_id, "scorecard-pdf", who.lang, institution_id),
        lambda: renderer.pdf_of(scorecard_html(state, run_id, who.lang, institution_id)),
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{stem}-{who.lang}.pdf"'},
    )
