"""Run a methodology over the warehouse: cube → units → ranking → nominees with evidence."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from govsocial import __version__
from govsocial.awards.methodology import Methodology
from govsocial.awards.ranking import ClusterRanking, UnitScore, rank
from govsocial.awards.results import SCHEMA, dumps, run_id
from govsocial.awards.units import build_units, cube_columns, follower_bounds
from govsocial.metrics.backend import open_backend
from govsocial.metrics.cube import ThemeFilter, compute_cube, follower_snapshots
from govsocial.metrics.evidence import account_flags, top_posts
from govsocial.store import Warehouse
from govsocial.store.lookup import AccountInfo, accounts, cluster_names, institution_names
from govsocial.store.runs import data_fingerprint
from govsocial.store.summary import is_synthetic

MIN_NOMINEES = 3


@dataclass(frozen=True)
class AwardRun:
    run_id: str
    document: dict[str, Any]
    text: str  # canonical JSON of document
    seconds: float
    data_fingerprint: str


def run_awards(
    wh: Warehouse, m: Methodology, engine: str = "duckdb", step: Callable[[str], None] | None = None
) -> AwardRun:
    started = time.perf_counter()
    say = step or (lambda _: None)
    fingerprint = data_fingerprint(wh)
    themes = {
        c.id: ThemeFilter(f"theme_{i}", c.theme.hashtags, c.theme.keywords)
        for i, c in enumerate(m.categories)
        if c.theme is not None
    }
    with open_backend(wh, engine) as backend:
        say("Summarising posts")
        cube = compute_cube(backend, m, list(themes.values()))
        followers = follower_bounds(follower_snapshots(backend, m), m)
        say("Ranking")
        flags = account_flags(cube)
        rankings = {}
        columns = cube_columns(cube)
        for category in m.categories:
            theme = themes.get(category.id)
            units = build_units(columns, followers, m, category, theme.name if theme else None)
            rankings[category.id] = (rank(units, category, m), units.notes)
        say("Collecting evidence")
        info = accounts(wh)
        wanted = _nominee_accounts(m, rankings, info)
        evidence = top_posts(backend, m, sorted(wanted), cube) if wanted else None
    document = _document(wh, m, fingerprint, cube, rankings, info, flags, evidence)
    text = dumps(document)
    return AwardRun(document["run_id"], document, text, time.perf_counter() - started, fingerprint)


def _nominees(m: Methodology, category_id: str, ranking: ClusterRanking) -> list[UnitScore]:
    category = next(c for c in m.categories if c.id == category_id)
    return ranking.eligible[: category.nominees]


def _accounts_of(unit: UnitScore, info: dict[int, AccountInfo]) -> list[int]:
    if unit.account >= 0:
        return [unit.account]
    platforms = {p["platform"] for p in unit.platforms}
    return sorted(
        a.account_id
        for a in info.values()
        if a.institution_id == unit.institution and a.platform in platforms
    )


def _nominee_accounts(
    m: Methodology, rankings: dict[str, Any], info: dict[int, AccountInfo]
) -> set[int]:
    wanted: set[int] = set()
    for category_id, (by_cluster, _) in rankings.items():
        for ranking in by_cluster.values():
            for unit in _nominees(m, category_id, ranking):
                wanted.update(_accounts_of(unit, info))
    return wanted


def _document(
    wh: Warehouse,
    m: Methodology,
    fingerprint: str,
    cube: pa.Table,
    rankings: dict[str, Any],
    info: dict[int, AccountInfo],
    flags: dict[int, list[dict[str, Any]]],
    evidence: pa.Table | None,
) -> dict[str, Any]:
    names = institution_names(wh)
    clusters = cluster_names(wh)
    posts = _evidence_by_account(evidence)
    categories = []
    nominations: dict[str, list[tuple[str, int]]] = {}
    for category in m.categories:
        by_cluster, notes = rankings[category.id]
        cluster_docs = []
        for cluster_id in m.clusters:
            ranking = by_cluster.get(cluster_id, ClusterRanking(cluster_id, 0, []))
            chosen = _nominees(m, category.id, ranking)
            docs = []
            for unit in chosen:
                owned = _accounts_of(unit, info)
                docs.append(_nominee(unit, category, names, info, owned, posts, flags))
                nominations.setdefault(unit.institution, []).append((category.id, unit.rank))
            cluster_docs.append(
                {
                    "cluster_id": cluster_id,
                    "cluster_name": clusters.get(cluster_id, (cluster_id, None))[0],
                    "considered": ranking.considered,
                    "eligible": len(ranking.eligible),
                    "ineligible": dict(sorted(ranking.ineligible_reasons.items())),
                    "note": _note(len(ranking.eligible), category.nominees, ranking.considered),
                    "nominees": docs,
                }
            )
        categories.append(
            {
                "id": category.id,
                "title": {"id": category.title_id, "en": category.title_en},
                "unit": category.unit,
                "media_types": list(category.media_types),
                "components": [
                    {"metric": c.metric, "weight": c.weight} for c in category.components
                ],
                "notes": sorted(set(notes)),
                "clusters": cluster_docs,
            }
        )
    return {
        "schema": SCHEMA,
        "run_id": run_id(m.sha256, fingerprint),
        "synthetic_data": is_synthetic(wh),
        "methodology": {
            "id": m.id,
            "edition": m.edition,
            "version": m.version,
            "sha256": m.sha256,
            "period": {"start": m.period_start.isoformat(), "end": m.period_end.isoformat()},
        },
        "data": {
            "fingerprint": fingerprint,
            "posts_in_scope": int(np.asarray(cube.column("n")).sum()) if len(cube) else 0,
        },
        "code_version": __version__,
        "categories": categories,
        "champion": _champion(nominations, names),
    }


def _note(eligible: int, wanted: int, considered: int) -> str | None:
    if considered == 0:
        return "No units of this cluster have posts in the period."
    if eligible < MIN_NOMINEES:
        return (
            f"Only {eligible} eligible (at least {MIN_NOMINEES} wanted): "
            f"fewer nominees. See 'ineligible' for why the others did not qualify."
        )
    if eligible < wanted:
        return f"Only {eligible} eligible, so {eligible} nominees instead of {wanted}."
    return None


def _nominee(
    unit: UnitScore,
    category: Any,
    names: dict[str, str],
    info: dict[int, AccountInfo],
    owned: list[int],
    posts: dict[int, list[dict[str, Any]]],
    flags: dict[int, list[dict[str, Any]]],
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "rank": unit.rank,
        "institution_id": unit.institution,
        "institution_name": names.get(unit.institution, unit.institution),
    }
    if unit.account >= 0:
        account = info[unit.account]
        doc |= {"account_id": unit.account, "platform": account.platform, "handle": account.handle}
    media = set(category.media_types)
    candidates = [
        p for a in owned for p in posts.get(a, []) if not media or p["media_type"] in media
    ]
    candidates.sort(key=lambda p: (-p["overperformance"], -p["interactions"], p["post_id"]))
    doc |= {
        "score": unit.score,
        "components": unit.components,
        "platforms": unit.platforms,
        "posts": int(unit.posts),
        "followers": int(unit.followers),
        "interactions": int(unit.interactions),
        "top_posts": candidates[:3],
        "flags": [
            {"account_id": a, "platform": info[a].platform, "handle": info[a].handle, **f}
            for a in owned
            for f in flags.get(a, [])
        ],
    }
    return doc


def _evidence_by_account(evidence: pa.Table | None) -> dict[int, list[dict[str, Any]]]:
    result: dict[int, list[dict[str, Any]]] = {}
    if evidence is None:
        return result
    for row in evidence.to_pylist():
        row["posted_at"] = row["posted_at"].isoformat()
        result.setdefault(int(row.pop("account_id")), []).append(row)
    return result


def _champion(
    nominations: dict[str, list[tuple[str, int]]], names: dict[str, str]
) -> dict[str, Any]:
    standings = sorted(
        nominations.items(),
        key=lambda item: (-len(item[1]), -sum(1 for _, r in item[1] if r == 1), item[0]),
    )
    return {
        "rule": "most_nominations",
        "explanation": "Before the jury: institutions by number of nominations, then number of "
        "first places, then id. After judging, the champion is the institution "
        "with the most trophies.",
        "standings": [
            {
                "institution_id": inst,
                "institution_name": names.get(inst, inst),
                "nominations": len(items),
                "first_places": sum(1 for _, r in items if r == 1),
                "categories": sorted(c for c, _ in items),
            }
            for inst, items in standings[:10]
        ],
    }
