"""The published results, for everyone: the results site's pages of each published run,
inside the web's layout (docs/web.md, "Public pages")."""

from __future__ import annotations

from contextvars import ContextVar
from importlib import resources
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from govsocial.errors import NotFoundError
from govsocial.reports.site import CSS, Site
from govsocial.web.context import (
    AppState,
    Viewer,
    app_state,
    language,
    loader,
    page_context,
    render,
    viewer,
)

router = APIRouter()
# The values of the request being rendered (who is signed in, their CSRF token): a Site is
# shared by concurrent requests, so they are passed per rendering, never stored on it.
REQUEST: ContextVar[dict[str, Any]] = ContextVar("govsocial_web_request")


def site(state: AppState, run_id: str, who: Viewer) -> Site:
    """The results site of ``run_id`` in the viewer's language (built once per run and
    language; each page is rendered with the viewer's own context)."""
    model = state.model(run_id)
    words = language(who.lang)

    def make() -> Site:
        return Site(
            model,
            words.site,
            link_scorecards=False,
            loader=loader(),
            globals={"_": words.gettext, "ngettext": words.ngettext, "in_run": True},
            context=lambda: REQUEST.get({}),
        )

    built: Site = state.cached((run_id, "site", who.lang), make)
    return built


def _page(state: AppState, run_id: str, who: Viewer, name: str) -> Response:
    built = site(state, run_id, who)
    pages = dict(built.pages())
    if name not in pages:
        raise NotFoundError(f"run {run_id} has no page {name!r}")
    REQUEST.set(page_context(who))
    return HTMLResponse(pages[name]())


@router.get("/", response_class=HTMLResponse)
def front(request: Request, who: Viewer = Depends(viewer)) -> Response:
    runs = app_state(request).runs()
    if not runs:
        return render(who, "runs.html", page_title=who._("Published runs"), runs=[])
    return RedirectResponse(f"/runs/{runs[0].folder.name}/", status_code=303)


@router.get("/runs", response_class=HTMLResponse)
def runs(request: Request, who: Viewer = Depends(viewer)) -> Response:
    return render(
        who,
        "runs.html",
        page_title=who._("Published runs"),
        runs=app_state(request).runs(),
        current="runs",
    )


@router.get("/runs/{run_id}/", response_class=HTMLResponse)
@router.get("/runs/{run_id}/index.html", response_class=HTMLResponse)
def overview(run_id: str, request: Request, who: Viewer = Depends(viewer)) -> Response:
    return _page(app_state(request), run_id, who, "index.html")


@router.get("/runs/{run_id}/methodology.html", response_class=HTMLResponse)
def methodology(run_id: str, request: Request, who: Viewer = Depends(viewer)) -> Response:
    return _page(app_state(request), run_id, who, "methodology.html")


@router.get("/runs/{run_id}/categories/{category}/{cluster}.html", response_class=HTMLResponse)
def category(
    run_id: str, category: str, cluster: str, request: Request, who: Viewer = Depends(viewer)
) -> Response:
    return _page(app_state(request), run_id, who, f"categories/{category}/{cluster}.html")


@router.get("/runs/{run_id}/site.css")
def stylesheet(run_id: str) -> Response:
    css = resources.files("govsocial.reports") / "static" / CSS
    return Response(css.read_bytes(), media_type="text/css")
