"""What each JSON API endpoint answers, as plain values built from a run's public data and what
its closed juries decided (api.py checks them against api_models.py and keeps them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from govsocial.web.api_models import BoardRow, InstitutionStanding, Links
from govsocial.web.boards import BoardQuery, board
from govsocial.web.decisions import Decision
from govsocial.web.published import RunData
from govsocial.web.sites import institution_url


def links(folder: str) -> Links:
    """Where the run is, as pages and as JSON."""
    base = f"/api/runs/{folder}"
    return Links(
        page=f"/runs/{folder}/",
        results=f"{base}/results",
        categories=f"{base}/categories",
        winners=f"{base}/winners",
        leaderboard=f"{base}/leaderboard",
        institutions=f"{base}/institutions",
    )


def summary(data: RunData) -> dict[str, Any]:
    methodology = data.results["methodology"]
    return {
        "run_id": data.folder,
        "edition": methodology["edition"],
        "methodology_id": methodology["id"],
        "methodology_version": methodology["version"],
        "published_at": str(data.model.manifest.get("published_at", "")),
        "synthetic": data.model.synthetic,
        "period": methodology["period"],
        "links": links(data.folder),
    }


def categories(data: RunData, found: Decision) -> list[dict[str, Any]]:
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


def category_list(data: RunData, found: Decision) -> dict[str, Any]:
    return {"run_id": data.folder, "categories": categories(data, found)}


def _winner_unit(found: Decision, category: str, cluster: str) -> str | None:
    panel = found.panels.get((category, cluster))
    return str(panel["winner"]["unit"]) if panel and panel["winner"] else None


def winners(data: RunData, found: Decision) -> dict[str, Any]:
    champion = found.champion
    return {
        "run_id": data.folder,
        "decided": found.decided,
        "juries": list(found.juries),
        "closed": found.closed,
        "panels": [panel_decision(p) for p in found.panels.values()],
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


def panel_decision(panel: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: panel[k]
        for k in ("category", "cluster_id", "jury_id", "closed", "rule", "winner", "placed")
    }


def run(data: RunData, found: Decision) -> dict[str, Any]:
    """The run's summary with its data, coverage, categories, champion and winners."""
    return {
        **summary(data),
        "data": data.results["data"],
        "stability": data.results["stability"],
        "coverage": data.coverage,
        "categories": categories(data, found),
        "champion": data.results["champion"],
        "winners": winners(data, found),
    }


PANEL_FIELDS = (
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


def panel(
    data: RunData, found: Decision, category: str, cluster: str, found_panel: Mapping[str, Any]
) -> dict[str, Any]:
    """A category × cluster of results.json with the jury's decision on it."""
    c = data.category[category]
    judged = found.panels.get((category, cluster))
    return {
        "run_id": data.folder,
        "category": category,
        "title": c["title"],
        "unit": c["unit"],
        **{k: found_panel[k] for k in PANEL_FIELDS},
        "decision": panel_decision(judged) if judged else None,
    }


def leaderboard(
    data: RunData, found: Decision, q: BoardQuery, limit: int, offset: int
) -> dict[str, Any]:
    """``limit`` rows of the query's leaderboard from ``offset``, and the next page's URL."""
    shown = board(data, q, found.winners)
    rows = shown.rows[offset : offset + limit]
    following = offset + limit
    params = urlencode({**q.params(), "limit": limit, "offset": following})
    return {
        "run_id": data.folder,
        "category": q.category,
        "cluster": q.cluster or None,
        "platform": q.platform or None,
        "sort": q.sort,
        "order": q.order,
        "columns": [c.key for c in shown.columns],
        "total": shown.total,
        "limit": limit,
        "offset": offset,
        "next": f"/api/runs/{data.folder}/leaderboard?{params}"
        if following < shown.total
        else None,
        "rows": [{k: r[k] for k in BoardRow.model_fields} for r in rows],
    }


def institutions(data: RunData, found: Decision) -> dict[str, Any]:
    """The run's institutions by cluster and name, with their accounts, platforms,
    nominations (category × cluster) and wins."""
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
                "wins": found.wins[i["institution_id"]],
                "url": institution_url(data.folder, i["institution_id"]),
                "api": f"/api{institution_url(data.folder, i['institution_id'])}",
            }
            for i in listed
        ],
    }


def institution(data: RunData, found: Decision, institution_id: str) -> dict[str, Any]:
    """An institution with its accounts, standings, wins, weekly activity and top posts."""
    return {
        "run_id": data.folder,
        **data.institution(institution_id),
        "url": institution_url(data.folder, institution_id),
        "accounts": data.accounts_of.get(institution_id, []),
        "standings": [
            {
                **{k: r[k] for k in InstitutionStanding.model_fields if k != "winner"},
                "winner": (r["category"], r["cluster_id"], r["unit"]) in found.winners,
            }
            for r in data.standings_of(institution_id)
        ],
        "wins": [panel_decision(p) for p in found.won_by(institution_id)],
        "champion": found.is_champion(institution_id),
        "weekly": data.weekly.get(institution_id, []),
        "top_posts": data.top_posts.get(institution_id, []),
    }
