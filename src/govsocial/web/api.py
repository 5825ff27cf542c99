"""The published results as JSON (docs/web.md, "The JSON API"): under ``/api/``, GET only, the
same as the public pages: runs, a run's results, categories, nominees and winners per category
× cluster, leaderboards (filtered, sorted, paged), institutions. Errors are
``{"error", "status"}`` (app.py). ``/api/openapi.json`` describes every response (the models in
api_models.py; the answers are built in api_answers.py); ``/api/docs`` shows it as a page that
works offline under the pages' CSP (api_docs.py).

Like the pages, the API reads only published runs and the public outcome of closed juries:
never a ballot, a juror's score, an open jury or anyone's account. Each response is built once
per run, query and set of closed juries, and kept as bytes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import TypeAdapter

from govsocial.awards.results import Results
from govsocial.errors import NotFoundError
from govsocial.web import api_answers as answers
from govsocial.web.api_docs import JSON, endpoints, schemas
from govsocial.web.api_models import (
    Board,
    CategoryList,
    Index,
    Institution,
    InstitutionList,
    Panel,
    RunDetail,
    RunList,
    Winners,
)
from govsocial.web.boards import board_query
from govsocial.web.context import AppState, Viewer, app_state, render, viewer
from govsocial.web.decisions import Decision, published_run
from govsocial.web.pages import pages
from govsocial.web.published import RunData, run_data

router = APIRouter(prefix="/api", tags=["published results"])
MAX_LIMIT = 500  # leaderboard rows per response
DEFAULT_LIMIT = 100


@functools.cache
def _adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def _dump(model: Any, value: Any) -> str:
    """``value`` checked against ``model`` and serialised."""
    adapter = _adapter(model)
    return adapter.dump_json(adapter.validate_python(value)).decode()


def _json(
    state: AppState, run_id: str, key: tuple[Any, ...], model: Any, make: Callable[[], Any]
) -> Response:
    """``make()`` checked against ``model`` and serialised, once per key (kept with the run's
    pages, so publishing the run again drops it)."""
    body = pages(state, run_id).get(("api", *key), lambda: _dump(model, make()))
    return Response(body, media_type=JSON)


def _decided(
    request: Request,
    run_id: str,
    key: tuple[Any, ...],
    model: Any,
    make: Callable[[RunData, Decision], Any],
) -> Response:
    """``make(data, decision)`` of the run as :func:`_json`, kept per ``key`` and the set of
    closed juries."""
    state, data, found = published_run(request, run_id)
    return _json(state, run_id, (*key, found.juries), model, lambda: make(data, found))


@router.get("", include_in_schema=False)
@router.get("/", response_model=Index, summary="Where the API starts")
def index() -> Index:
    return Index(runs="/api/runs", openapi="/api/openapi.json", docs="/api/docs")


@router.get("/runs", response_model=RunList, summary="The published runs")
def runs(request: Request) -> Response:
    state = app_state(request)
    found = [answers.summary(run_data(state, m.folder.name)) for m in state.runs()]
    return Response(_dump(RunList, {"runs": found}), media_type=JSON)


@router.get("/runs/{run_id}", response_model=RunDetail, summary="A published run")
def run(run_id: str, request: Request) -> Response:
    """The run: its methodology, period, data, coverage, categories with their clusters, the
    champion standings by the numbers, and what the jury decided."""
    return _decided(request, run_id, ("run",), RunDetail, answers.run)


@router.get("/runs/{run_id}/results", response_model=Results, summary="The results document")
def results(run_id: str, request: Request) -> Response:
    """results.json as the run kept it (docs/results-schema.md): every nominee with its
    evidence, by the numbers. The jury's winners are at ``/winners``."""
    state = app_state(request)
    data = run_data(state, run_id)
    return _json(state, run_id, ("results",), Results, lambda: data.results)


@router.get(
    "/runs/{run_id}/categories", response_model=CategoryList, summary="Categories and clusters"
)
def categories(run_id: str, request: Request) -> Response:
    return _decided(request, run_id, ("categories",), CategoryList, answers.category_list)


@router.get(
    "/runs/{run_id}/categories/{category}/{cluster}",
    response_model=Panel,
    summary="Nominees and winner of a category × cluster",
)
def panel(run_id: str, category: str, cluster: str, request: Request) -> Response:
    state, data, found = published_run(request, run_id)
    found_panel = data.panels.get((category, cluster))
    if found_panel is None:
        raise NotFoundError(
            f"run {run_id} has no category × cluster {category}/{cluster}; "
            f"/api/runs/{run_id}/categories lists them"
        )
    return _json(
        state,
        run_id,
        ("panel", category, cluster, found.juries),
        Panel,
        lambda: answers.panel(data, found, category, cluster, found_panel),
    )


@router.get("/runs/{run_id}/winners", response_model=Winners, summary="The jury's winners")
def winners(run_id: str, request: Request) -> Response:
    """Per category × cluster the jury's places and winner, and the overall champion, once a
    jury on the run has closed (``decided`` false before)."""
    return _decided(request, run_id, ("winners",), Winners, answers.winners)


@router.get("/runs/{run_id}/leaderboard", response_model=Board, summary="A leaderboard")
def leaderboard(
    run_id: str,
    request: Request,
    category: str | None = Query(None, description="a category id; default: the first"),
    cluster: str | None = Query(None, description="a cluster id; default: all clusters"),
    platform: str | None = Query(
        None, description="units with an account on this platform, with its own values there"
    ),
    sort: str | None = Query(
        None,
        description="rank, name, cluster, score, platform_rank, a component's metric, posts, "
        "followers, interactions, platforms or status (``columns`` in the answer lists them); "
        "default: rank",
    ),
    order: str | None = Query(None, description="asc or desc; default: the column's own"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="rows per page"),
    offset: int = Query(0, ge=0, description="rows skipped"),
) -> Response:
    state, data, found = published_run(request, run_id)
    q = board_query(data, category, cluster, platform, sort, order)
    return _json(
        state,
        run_id,
        ("board", q, limit, offset, found.juries),
        Board,
        lambda: answers.leaderboard(data, found, q, limit, offset),
    )


@router.get("/runs/{run_id}/institutions", response_model=InstitutionList, summary="Institutions")
def institutions(run_id: str, request: Request) -> Response:
    return _decided(request, run_id, ("institutions",), InstitutionList, answers.institutions)


@router.get(
    "/runs/{run_id}/institutions/{institution_id}",
    response_model=Institution,
    summary="An institution",
)
def institution(run_id: str, institution_id: str, request: Request) -> Response:
    """Its accounts, its rank and score in every category × cluster it is eligible in, its
    wins, its weekly activity (per account, media type and week) and its top posts."""
    state, data, found = published_run(request, run_id)
    data.institution(institution_id)  # 404 for no such institution
    return _json(
        state,
        run_id,
        ("institution", institution_id, found.juries),
        Institution,
        lambda: answers.institution(data, found, institution_id),
    )


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def docs(request: Request, who: Viewer = Depends(viewer)) -> Response:
    """The API's endpoints and response schemas, read from its OpenAPI description and shown
    as a page (no script: it works offline and under the CSP)."""
    spec = request.app.openapi()
    described = schemas(spec)
    return render(
        who,
        "public/api_docs.html",
        page_title=who._("JSON API"),
        current="api",
        endpoints=endpoints(spec),
        schemas=described,
        schema_names={s["name"] for s in described},
        api_version=spec.get("info", {}).get("version", ""),
    )
