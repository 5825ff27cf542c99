"""The published results as JSON (docs/web.md, "The JSON API"): under ``/api/``, GET only, the
same as the public pages: runs, a run's results, categories, nominees and winners per category
× cluster, leaderboards (filtered, sorted, paged), institutions. Errors are
``{"error", "status"}`` (app.py). ``/api/openapi.json`` describes every response (the models
below; the results' own records, govsocial/awards/results.py, for what results.json holds);
``/api/docs`` shows it as a page that works offline under the pages' CSP.

Like the pages, the API reads only published runs and the public outcome of closed juries:
never a ballot, a juror's score, an open jury or anyone's account. Each response is built once
per run, query and set of closed juries, and kept as bytes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field, TypeAdapter

from govsocial.awards.results import (
    Certainty,
    Champion,
    ComponentWeight,
    DataInfo,
    HeldNominee,
    Nominee,
    Period,
    Results,
    Stability,
    Title,
)
from govsocial.web.context import AppState, Viewer, app_state, render, viewer
from govsocial.web.public import (
    Decision,
    RunData,
    decision,
    institution_url,
    pages,
    run_data,
)

router = APIRouter(prefix="/api", tags=["published results"])
MAX_LIMIT = 500  # leaderboard rows per response
DEFAULT_LIMIT = 100
JSON = "application/json"


# ---------------------------------------------------------------- the responses


class Links(BaseModel):
    """Where the same run is, as pages and as JSON."""

    page: str = Field(description="the run's overview page")
    results: str
    categories: str
    winners: str
    leaderboard: str
    institutions: str


class RunSummary(BaseModel):
    """A published run."""

    run_id: str = Field(description="the run's id: its folder under the published root")
    edition: str
    methodology_id: str
    methodology_version: str
    published_at: str = Field(description="when it was published (UTC, ISO 8601)")
    synthetic: bool = Field(
        description="true: computed from generated demonstration data, NOT real results"
    )
    period: Period = Field(description="the evaluation period (end exclusive)")
    links: Links


class RunList(BaseModel):
    runs: list[RunSummary] = Field(description="newest published first")


class ClusterSummary(BaseModel):
    cluster_id: str
    cluster_name: str
    considered: int = Field(description="units of the cluster with posts in the category's scope")
    eligible: int
    nominees: int
    held: int = Field(description="units held for review (a severe flag), not nominated")
    winner: str | None = Field(description="the unit the jury chose, once a jury has decided")
    url: str = Field(description="this category × cluster as JSON")


class CategorySummary(BaseModel):
    id: str
    title: Title
    unit: str = Field(description="`institution` or `account`")
    media_types: list[str] = Field(description="the media types counted; empty: all")
    components: list[ComponentWeight]
    clusters: list[ClusterSummary]


class CategoryList(BaseModel):
    run_id: str
    categories: list[CategorySummary]


class Placed(BaseModel):
    """A nominee's place by the jury (no juror, no ballot: only the tally's outcome)."""

    place: int = Field(description="1 = the winner")
    unit: str = Field(description="the institution id, or the account id as text")
    institution_id: str
    institution_name: str
    account_id: int | None
    platform: str | None
    handle: str | None
    label: str
    jury_score: float | None = Field(
        description="the jury's score under the jury's rule (standardised: mean of each "
        "juror's standardised scores; borda: mean share of the others beaten)"
    )
    jurors: int | None = Field(description="jurors whose score counts (recusals left out)")
    rank: int | None = Field(description="its rank by the numbers (results.json)")


class PanelDecision(BaseModel):
    category: str
    cluster_id: str
    jury_id: int
    closed: str = Field(description="when the jury closed (UTC, ISO 8601)")
    rule: str = Field(description="`standardised` or `borda`")
    winner: Placed | None
    placed: list[Placed]


class Trophies(BaseModel):
    institution_id: str
    institution_name: str
    trophies: int = Field(description="categories won")


class JuryChampion(BaseModel):
    rule: str = Field(description="`most_trophies` or `most_nominations`")
    institution_id: str | None = Field(description="null: no sole champion (see tied)")
    institution_name: str | None
    tied: list[str] = Field(description="the institutions still tied after the tiebreaks")
    trophies: list[Trophies]


class Winners(BaseModel):
    """What the closed juries on the run decided (empty until a jury closes)."""

    run_id: str
    decided: bool
    juries: list[int] = Field(description="the closed juries' ids, oldest first")
    closed: str | None = Field(description="when the latest closed")
    panels: list[PanelDecision] = Field(
        description="per category × cluster, the latest closed jury's places and winner"
    )
    champion: JuryChampion | None = Field(description="the latest closed jury's champion")


class Coverage(BaseModel):
    """What the data covers (coverage.json, docs/read-model.md)."""

    period: Period
    platforms: list[str]
    clusters: list[str]
    institutions: dict[str, int] = Field(description="cluster → institutions")
    accounts: dict[str, int] = Field(description="platform → registered accounts")
    posts: dict[str, dict[str, int]] = Field(description="platform → {posts, reposts}")
    post_readings: int
    follower_readings: int
    quarantined: dict[str, int] = Field(description="reason → records quarantined on import")


class RunDetail(RunSummary):
    data: DataInfo
    stability: Stability
    coverage: Coverage
    categories: list[CategorySummary]
    champion: Champion = Field(description="the standings towards the champion by the numbers")
    winners: Winners


class Panel(BaseModel):
    """One category × cluster: its nominees with their evidence, the units held for review,
    how sure the ranking is, and the jury's decision once made."""

    run_id: str
    category: str
    title: Title
    unit: str
    cluster_id: str
    cluster_name: str
    considered: int
    eligible: int
    ineligible: dict[str, int] = Field(description="reason → units not eligible")
    note: str | None
    nominees: list[Nominee]
    held: list[HeldNominee]
    certainty: Certainty
    decision: PanelDecision | None = Field(description="null until a jury has judged it")


class BoardRow(BaseModel):
    rank: int = Field(description="within its cluster, 1 = best")
    unit: str
    institution_id: str
    institution_name: str
    account_id: int | None
    platform: str | None = Field(description="account units: the account's platform")
    handle: str | None
    cluster_id: str
    cluster_name: str
    score: float = Field(description="0–1, all platforms combined")
    status: str | None = Field(description="`nominated`, `held for review` or null")
    winner: bool = Field(description="the jury chose it")
    posts: int | None
    followers: int | None
    interactions: int | None
    platforms: int = Field(description="its eligible platforms")
    components: dict[str, float] = Field(
        description="metric → percentile (0–1): combined, or on the chosen platform"
    )
    platform_rank: int | None = Field(description="with a platform: its rank there")
    platform_of: int | None = Field(description="with a platform: eligible units there")
    values: dict[str, float | None] | None = Field(
        description="with a platform: metric → its raw value there"
    )


class Board(BaseModel):
    """A leaderboard page: every eligible unit of the category (one cluster or all) with an
    account on the platform (or all), sorted, ``limit`` rows from ``offset``."""

    run_id: str
    category: str
    cluster: str | None
    platform: str | None
    sort: str
    order: str
    columns: list[str] = Field(description="the keys ``sort`` accepts for this query")
    total: int
    limit: int
    offset: int
    next: str | None = Field(description="the next page, if any")
    rows: list[BoardRow]


class InstitutionSummary(BaseModel):
    institution_id: str
    institution_name: str
    cluster_id: str
    cluster_name: str
    region: str | None
    accounts: int
    platforms: list[str]
    nominations: int
    wins: int
    url: str = Field(description="its page")
    api: str = Field(description="it as JSON")


class InstitutionList(BaseModel):
    run_id: str
    institutions: list[InstitutionSummary]


class Account(BaseModel):
    """A registered account with its period totals (accounts.parquet)."""

    account_id: int
    platform: str
    handle: str | None
    display_name: str | None
    followers: int | None = Field(description="last reading up to the period's end")
    posts: int | None = Field(description="original posts in the period")
    reposts: int | None
    interactions: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    rated_posts: int | None
    engagement_rate: float | None


class InstitutionStanding(BaseModel):
    category: str
    cluster_id: str
    unit: str
    account_id: int | None
    platform: str | None
    handle: str | None
    rank: int
    of: int = Field(description="eligible units of the category × cluster")
    score: float
    status: str | None
    winner: bool


class Week(BaseModel):
    """Original posts and interactions of one account, media type and week (weekly.parquet)."""

    account_id: int
    media_type: str
    week: int = Field(description="0 = the period's first 7 days")
    week_start: str
    posts: int
    interactions: float
    sum_rate: float | None
    rated_posts: int | None


class InstitutionTopPost(BaseModel):
    place: int
    account_id: int
    handle: str | None
    platform: str
    media_type: str
    post_id: int
    platform_post_id: str
    url: str | None
    posted_at: str | None
    interactions: int | None
    engagement_rate: float | None
    expected: float | None
    overperformance: float | None


class Institution(BaseModel):
    run_id: str
    institution_id: str
    institution_name: str
    cluster_id: str
    cluster_name: str
    region: str | None
    url: str
    accounts: list[Account]
    standings: list[InstitutionStanding]
    wins: list[PanelDecision]
    champion: bool = Field(description="the jury's overall champion")
    weekly: list[Week]
    top_posts: list[InstitutionTopPost]


class Index(BaseModel):
    runs: str
    openapi: str
    docs: str


# ---------------------------------------------------------------- kept responses


@functools.cache
def _adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def _json(
    state: AppState, run_id: str, key: tuple[Any, ...], model: Any, make: Callable[[], Any]
) -> Response:
    """``make()`` checked against ``model`` and serialised, once per key (kept with the run's
    pages, so publishing the run again drops it)."""

    def made() -> str:
        adapter = _adapter(model)
        return adapter.dump_json(adapter.validate_python(make())).decode()

    body = pages(state, run_id).get(("api", *key), made)
    return Response(body, media_type=JSON)


def _links(folder: str) -> Links:
    base = f"/api/runs/{folder}"
    return Links(
        page=f"/runs/{folder}/",
        results=f"{base}/results",
        categories=f"{base}/categories",
        winners=f"{base}/winners",
        leaderboard=f"{base}/leaderboard",
        institutions=f"{base}/institutions",
    )


def _summary(data: RunData) -> dict[str, Any]:
    methodology = data.results["methodology"]
    return {
        "run_id": data.folder,
        "edition": methodology["edition"],
        "methodology_id": methodology["id"],
        "methodology_version": methodology["version"],
        "published_at": str(data.model.manifest.get("published_at", "")),
        "synthetic": data.model.synthetic,
        "period": methodology["period"],
        "links": _links(data.folder),
    }


def _categories(data: RunData, found: Decision) -> list[dict[str, Any]]:
    return [
        {
            "id": c["id"],
            "title": c["title"],
            "unit": c["unit"],
            "media_types": c["media_types"],
            "components": c["components"],
            "clusters": [
                {
                    "cluster_id": cl["cluster_id"],
                    "cluster_name": cl["cluster_name"],
                    "considered": cl["considered"],
                    "eligible": cl["eligible"],
                    "nominees": len(cl["nominees"]),
                    "held": len(cl["held"]),
                    "winner": _winner_unit(found, c["id"], cl["cluster_id"]),
                    "url": f"/api/runs/{data.folder}/categories/{c['id']}/{cl['cluster_id']}",
                }
                for cl in c["clusters"]
            ],
        }
        for c in data.categories
    ]


def _winner_unit(found: Decision, category: str, cluster: str) -> str | None:
    panel = found.panels.get((category, cluster))
    return str(panel["winner"]["unit"]) if panel and panel["winner"] else None


def _winners(data: RunData, found: Decision) -> dict[str, Any]:
    champion = found.champion
    return {
        "run_id": data.folder,
        "decided": found.decided,
        "juries": list(found.juries),
        "closed": found.closed,
        "panels": [_panel_decision(p) for p in found.panels.values()],
        "champion": {
            "rule": champion["rule"],
            "institution_id": champion.get("institution_id"),
            "institution_name": champion.get("institution_name"),
            "tied": list(champion.get("tied") or ()),
            "trophies": champion["trophy_table"],
        }
        if champion
        else None,
    }


def _panel_decision(panel: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: panel[k]
        for k in ("category", "cluster_id", "jury_id", "closed", "rule", "winner", "placed")
    }


# ---------------------------------------------------------------- the endpoints


@router.get("", include_in_schema=False)
@router.get("/", response_model=Index, summary="Where the API starts")
def index() -> Index:
    return Index(runs="/api/runs", openapi="/api/openapi.json", docs="/api/docs")


@router.get("/runs", response_model=RunList, summary="The published runs")
def runs(request: Request) -> Response:
    state = app_state(request)
    found = [_summary(run_data(state, m.folder.name)) for m in state.runs()]
    adapter = _adapter(RunList)
    return Response(adapter.dump_json(adapter.validate_python({"runs": found})), media_type=JSON)


@router.get("/runs/{run_id}", response_model=RunDetail, summary="A published run")
def run(run_id: str, request: Request) -> Response:
    """The run: its methodology, period, data, coverage, categories with their clusters, the
    champion standings by the numbers, and what the jury decided."""
    state = app_state(request)
    data = run_data(state, run_id)
    found = decision(state, data)

    def make() -> dict[str, Any]:
        return {
            **_summary(data),
            "data": data.results["data"],
            "stability": data.results["stability"],
            "coverage": data.coverage,
            "categories": _categories(data, found),
            "champion": data.results["champion"],
            "winners": _winners(data, found),
        }

    return _json(state, run_id, ("run", found.juries), RunDetail, make)


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
    state = app_state(request)
    data = run_data(state, run_id)
    found = decision(state, data)
    return _json(
        state,
        run_id,
        ("categories", found.juries),
        CategoryList,
        lambda: {"run_id": data.folder, "categories": _categories(data, found)},
    )


@router.get(
    "/runs/{run_id}/categories/{category}/{cluster}",
    response_model=Panel,
    summary="Nominees and winner of a category × cluster",
)
def panel(run_id: str, category: str, cluster: str, request: Request) -> Response:
    state = app_state(request)
    data = run_data(state, run_id)
    found_panel = data.panels.get((category, cluster))
    if found_panel is None:
        from govsocial.errors import NotFoundError

        raise NotFoundError(
            f"run {run_id} has no category × cluster {category}/{cluster}; "
            f"/api/runs/{run_id}/categories lists them"
        )
    found = decision(state, data)

    def make() -> dict[str, Any]:
        c = data.category[category]
        judged = found.panels.get((category, cluster))
        return {
            "run_id": data.folder,
            "category": category,
            "title": c["title"],
            "unit": c["unit"],
            **{
                k: found_panel[k]
                for k in (
                    "cluster_id",
                    "cluster_name",
                    "considered",
                    "eligible",
                    "ineligible",
                    "note",
                    "nominees",
                    "held",
                    "certainty",
                )
            },
            "decision": _panel_decision(judged) if judged else None,
        }

    return _json(state, run_id, ("panel", category, cluster, found.juries), Panel, make)


@router.get("/runs/{run_id}/winners", response_model=Winners, summary="The jury's winners")
def winners(run_id: str, request: Request) -> Response:
    """Per category × cluster the jury's places and winner, and the overall champion, once a
    jury on the run has closed (``decided`` false before)."""
    state = app_state(request)
    data = run_data(state, run_id)
    found = decision(state, data)
    return _json(state, run_id, ("winners", found.juries), Winners, lambda: _winners(data, found))


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
    state = app_state(request)
    data = run_data(state, run_id)
    q = data.query(category, cluster, platform, sort, order)
    found = decision(state, data)

    def make() -> dict[str, Any]:
        board = data.board(q, found.winners)
        rows = board.rows[offset : offset + limit]
        following = offset + limit
        params = urlencode({**q.params(), "limit": limit, "offset": following})
        return {
            "run_id": data.folder,
            "category": q.category,
            "cluster": q.cluster or None,
            "platform": q.platform or None,
            "sort": q.sort,
            "order": q.order,
            "columns": [c.key for c in board.columns],
            "total": board.total,
            "limit": limit,
            "offset": offset,
            "next": f"/api/runs/{data.folder}/leaderboard?{params}"
            if following < board.total
            else None,
            "rows": [{k: r[k] for k in BoardRow.model_fields} for r in rows],
        }

    return _json(state, run_id, ("board", q, limit, offset, found.juries), Board, make)


@router.get("/runs/{run_id}/institutions", response_model=InstitutionList, summary="Institutions")
def institutions(run_id: str, request: Request) -> Response:
    state = app_state(request)
    data = run_data(state, run_id)
    found = decision(state, data)

    def make() -> dict[str, Any]:
        nominated: dict[str, set[tuple[str, str]]] = {}
        for rows in data.rows.values():
            for r in rows:
                if r["status"] == "nominated":
                    nominated.setdefault(r["institution_id"], set()).add(
                        (r["category"], r["cluster_id"])
                    )
        listed = sorted(
            data.institutions.values(),
            key=lambda i: (
                data.cluster_order.get(i["cluster_id"], 0),
                str(i["institution_name"]).casefold(),
            ),
        )
        return {
            "run_id": data.folder,
            "institutions": [
                {
                    **i,
                    "accounts": len(data.accounts_of.get(i["institution_id"], [])),
                    "platforms": sorted(
                        {a["platform"] for a in data.accounts_of.get(i["institution_id"], [])}
                    ),
                    "nominations": len(nominated.get(i["institution_id"], ())),
                    "wins": len(found.won_by(i["institution_id"])),
                    "url": institution_url(data.folder, i["institution_id"]),
                    "api": f"/api{institution_url(data.folder, i['institution_id'])}",
                }
                for i in listed
            ],
        }

    return _json(state, run_id, ("institutions", found.juries), InstitutionList, make)


@router.get(
    "/runs/{run_id}/institutions/{institution_id}",
    response_model=Institution,
    summary="An institution",
)
def institution(run_id: str, institution_id: str, request: Request) -> Response:
    """Its accounts, its rank and score in every category × cluster it is eligible in, its
    wins, its weekly activity (per account, media type and week) and its top posts."""
    state = app_state(request)
    data = run_data(state, run_id)
    found_institution = data.institution(institution_id)
    found = decision(state, data)

    def make() -> dict[str, Any]:
        champion = found.champion or {}
        return {
            "run_id": data.folder,
            **found_institution,
            "url": institution_url(data.folder, institution_id),
            "accounts": data.accounts_of.get(institution_id, []),
            "standings": [
                {
                    **{k: r[k] for k in InstitutionStanding.model_fields if k != "winner"},
                    "winner": (r["category"], r["cluster_id"], r["unit"]) in found.winners,
                }
                for r in data.standings_of(institution_id)
            ],
            "wins": [_panel_decision(p) for p in found.won_by(institution_id)],
            "champion": champion.get("institution_id") == institution_id,
            "weekly": data.weekly.get(institution_id, []),
            "top_posts": data.top_posts.get(institution_id, []),
        }

    return _json(state, run_id, ("institution", institution_id, found.juries), Institution, make)


# ---------------------------------------------------------------- the docs page


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def docs(request: Request, who: Viewer = Depends(viewer)) -> Response:
    """The API's endpoints and response schemas, read from its OpenAPI description and shown
    as a page (no script: it works offline and under the CSP)."""
    spec = request.app.openapi()
    endpoints = []
    for path, methods in spec.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in methods.items():
            endpoints.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "type": type_of(p.get("schema", {})),
                            "description": p.get("description", ""),
                        }
                        for p in operation.get("parameters", [])
                    ],
                    "response": type_of(
                        operation.get("responses", {})
                        .get("200", {})
                        .get("content", {})
                        .get(JSON, {})
                        .get("schema", {})
                    ),
                }
            )
    schemas = [
        {
            "name": name,
            "description": schema.get("description", ""),
            "fields": [
                {
                    "name": field,
                    "type": type_of(value),
                    "required": field in schema.get("required", []),
                    "description": value.get("description", ""),
                }
                for field, value in schema.get("properties", {}).items()
            ],
        }
        for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items())
        if name not in HIDDEN_SCHEMAS
    ]
    return render(
        who,
        "public/api_docs.html",
        page_title=who._("JSON API"),
        current="api",
        endpoints=endpoints,
        schemas=schemas,
        schema_names={s["name"] for s in schemas},
        api_version=spec.get("info", {}).get("version", ""),
    )


HIDDEN_SCHEMAS = {"HTTPValidationError", "ValidationError"}  # FastAPI's; our errors differ


def type_of(schema: Mapping[str, Any]) -> str:
    """A JSON schema's type in a few characters: ``Nominee[]``, ``string or null``."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(type_of(s) for s in schema["anyOf"])
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items", {})
        if "prefixItems" in schema:
            return "[" + ", ".join(type_of(s) for s in schema["prefixItems"]) + "]"
        return f"{type_of(items) if items else 'any'}[]"
    if kind == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            return "{name: " + type_of(extra) + "}"
        return "object"
    if kind == "null":
        return "null"
    if "enum" in schema:
        return " | ".join(repr(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    return str(kind or "any")
