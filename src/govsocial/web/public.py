"""The public pages' routes (docs/web.md, "Public pages"): each published run's results-site
pages inside the web's layout, with the jury's winners once a jury on the run has closed
(sites.py); leaderboards, filtered by cluster and platform and sorted by any column (boards.py);
institution pages with their charts (charts.py).

Only published runs are read (their read model, docs/read-model.md: published.py) and, of the
state store, only the public outcome of closed juries (decisions.py): never a ballot, a juror or
an open jury.

Speed: what a page shows is computed once per run (:class:`~govsocial.web.published.RunData`,
kept by :meth:`AppState.cached`), and each page is rendered once per (run, language, page,
query, signed-in user, closed juries) and kept (pages.py). A request is then a small query
(which juries on the run are closed), a dict lookup and the viewer's CSRF token put in place of
a placeholder. Closing a jury changes the key, so its winners show at once.
"""

from __future__ import annotations

from collections import Counter
from importlib import resources
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from govsocial.reports.files import file_stem
from govsocial.reports.site import CSS
from govsocial.web.boards import board, board_query
from govsocial.web.charts import CHART_SCRIPTS, board_chart, institution_weeks, weekly_chart
from govsocial.web.context import Viewer, app_state, render, viewer
from govsocial.web.decisions import published_run
from govsocial.web.pages import serve
from govsocial.web.published import account_totals, model_of
from govsocial.web.sites import board_url, helper, institution_url, run_page, site, site_page

router = APIRouter()
FORM_SORTS = ("rank", "name", "score", "posts", "followers", "interactions", "status")


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def front(request: Request, who: Viewer = Depends(viewer)) -> Response:
    runs = app_state(request).runs()
    if not runs:
        return render(who, "runs.html", page_title=who._("Published runs"), runs=[])
    return RedirectResponse(f"/runs/{runs[0].folder.name}/", status_code=303)


@router.get("/runs", response_class=HTMLResponse, include_in_schema=False)
def runs(request: Request, who: Viewer = Depends(viewer)) -> Response:
    return render(
        who,
        "runs.html",
        page_title=who._("Published runs"),
        runs=app_state(request).runs(),
        current="runs",
    )


@router.get("/runs/{run_id}", include_in_schema=False)
def run_root(run_id: str, request: Request) -> Response:
    model_of(app_state(request), run_id)  # 404 for no such run
    return RedirectResponse(f"/runs/{run_id}/", status_code=308)


@router.get("/runs/{run_id}/", response_class=HTMLResponse, include_in_schema=False)
@router.get("/runs/{run_id}/index.html", response_class=HTMLResponse, include_in_schema=False)
def overview(run_id: str, request: Request, who: Viewer = Depends(viewer)) -> Response:
    return site_page(app_state(request), run_id, who, "index.html")


@router.get("/runs/{run_id}/methodology.html", response_class=HTMLResponse, include_in_schema=False)
def methodology(run_id: str, request: Request, who: Viewer = Depends(viewer)) -> Response:
    return site_page(app_state(request), run_id, who, "methodology.html")


@router.get(
    "/runs/{run_id}/categories/{category}/{cluster}.html",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def category(
    run_id: str, category: str, cluster: str, request: Request, who: Viewer = Depends(viewer)
) -> Response:
    return site_page(app_state(request), run_id, who, f"categories/{category}/{cluster}.html")


@router.get("/runs/{run_id}/site.css", include_in_schema=False)
@router.get("/site.css", include_in_schema=False)  # pages outside a run (root "/")
def stylesheet() -> Response:
    css = resources.files("govsocial.reports") / "static" / CSS
    return Response(
        css.read_bytes(), media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
    )


@router.get("/runs/{run_id}/leaderboard", response_class=HTMLResponse, include_in_schema=False)
def leaderboard(
    run_id: str,
    request: Request,
    category: str | None = None,
    cluster: str | None = None,
    platform: str | None = None,
    sort: str | None = None,
    order: str | None = None,
    who: Viewer = Depends(viewer),
) -> Response:
    """Every eligible unit of a category (one cluster or all), filtered by platform, sorted
    by any column. An htmx request gets the board alone (filters, chart and table)."""
    state, data, found = published_run(request, run_id)
    q = board_query(data, category, cluster, platform, sort, order)
    alone = request.headers.get("hx-request") == "true" and not request.headers.get(
        "hx-history-restore-request"
    )
    built = site(state, run_id, who)

    def make(context: dict[str, Any]) -> str:
        gettext = helper(built, "_")
        shown = board(data, q, found.winners)
        title = helper(built, "title")(shown.category["title"])
        return run_page(
            built,
            "public/board.html" if alone else "public/leaderboard.html",
            run_id,
            context,
            page_title=f"{gettext('Leaderboard')} · {title}",
            current="leaderboard",
            data=data,
            q=q,
            board=shown,
            category_title=title,
            sort_urls={c.key: board_url(run_id, q.sorted_by(c)) for c in shown.columns},
            sort_label=next(
                helper(built, "metric")(c.metric) if c.metric else gettext(c.label)
                for c in shown.columns
                if c.key == q.sort
            ),
            form_sort=q.sort if q.sort in FORM_SORTS else "",
            category_url=(
                f"/runs/{run_id}/categories/{q.category}/{q.cluster}.html" if q.cluster else None
            ),
            chart=board_chart(shown, gettext),
            chart_scripts=CHART_SCRIPTS,
        )

    here = board_url(run_id, q.params())
    return serve(state, run_id, who, ("board", alone, q, found.juries), make, here)


@router.get("/runs/{run_id}/institutions", response_class=HTMLResponse, include_in_schema=False)
def institutions(run_id: str, request: Request, who: Viewer = Depends(viewer)) -> Response:
    """The run's institutions by cluster, with their nominations and wins."""
    state, data, found = published_run(request, run_id)
    built = site(state, run_id, who)

    def make(context: dict[str, Any]) -> str:
        gettext = helper(built, "_")
        nominated = Counter(
            r["institution_id"]
            for rows in data.rows.values()
            for r in rows
            if r["status"] == "nominated"
        )
        groups = [
            (
                cluster_id,
                name,
                sorted(
                    (i for i in data.institutions.values() if i["cluster_id"] == cluster_id),
                    key=lambda i: str(i["institution_name"]).casefold(),
                ),
            )
            for cluster_id, name in data.clusters.items()
        ]
        return run_page(
            built,
            "public/institutions.html",
            run_id,
            context,
            page_title=gettext("Institutions"),
            current="institutions",
            groups=groups,
            accounts_of=data.accounts_of,
            nominated=nominated,
            wins=found.wins,
            decided=found.decided,
        )

    return serve(
        state,
        run_id,
        who,
        ("institutions", found.juries),
        make,
        f"/runs/{run_id}/institutions",
    )


@router.get(
    "/runs/{run_id}/institutions/{institution_id}",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def institution(
    run_id: str, institution_id: str, request: Request, who: Viewer = Depends(viewer)
) -> Response:
    """One institution: its accounts, its rank and score in every category × cluster it is
    eligible in, its nominations and wins, its weekly activity and its top posts."""
    state, data, found = published_run(request, run_id)
    found_institution = data.institution(institution_id)
    built = site(state, run_id, who)

    def make(context: dict[str, Any]) -> str:
        gettext = helper(built, "_")
        series, weeks, types = institution_weeks(data.weekly.get(institution_id, []))
        accounts = data.accounts_of.get(institution_id, [])
        standings = data.standings_of(institution_id)
        stem = file_stem(institution_id)
        return run_page(
            built,
            "public/institution.html",
            run_id,
            context,
            page_title=found_institution["institution_name"],
            current="institutions",
            inst=found_institution,
            results=data.results,
            accounts=accounts,
            totals=account_totals(accounts),
            standings=standings,
            nominations=[r for r in standings if r["status"] == "nominated"],
            wins=found.won_by(institution_id),
            is_champion=found.is_champion(institution_id),
            decided=found.decided,
            winner_units=found.winners,
            weeks=weeks,
            week_types=types,
            busiest=max(weeks, key=lambda w: (w["posts"], w["week_start"]), default=None),
            weekly_chart=weekly_chart(series, helper(built, "media"), gettext),
            top_posts=data.top_posts.get(institution_id, []),
            scorecard_html=f"/runs/{run_id}/scorecards/{stem}.html",
            scorecard_pdf=f"/runs/{run_id}/scorecards/{stem}.pdf",
            board_url=lambda category, cluster: board_url(
                run_id, {"category": category, "cluster": cluster}
            ),
            chart_scripts=CHART_SCRIPTS,
        )

    return serve(
        state,
        run_id,
        who,
        ("institution", institution_id, found.juries),
        make,
        institution_url(run_id, institution_id),
    )
