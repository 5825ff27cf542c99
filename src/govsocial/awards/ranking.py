"""Fair ranking: eligibility, percentiles within strata, platform combination, tie-breaks.

Rules (documented for users in docs/methodology-engine.md):

1. **Eligibility** per (unit, platform): at least ``min_posts`` original posts (of the
   category's media types), ``min_active_weeks`` active weeks, ``min_followers`` followers, and
   a value for every component metric. A unit needs ``min_platforms`` eligible platforms.
2. **Like with like**: each component is turned into a mid-rank percentile within its stratum
   (platform × cluster) among the eligible: ``(below + 0.5 × tied) / n``, so the best of 10
   scores 0.95 and a unit alone in its stratum scores 0.5, never a free 1.0.
3. **Score of a (unit, platform)** = weighted mean of its component percentiles.
4. **Combining platforms** (institutions): weighted mean of its eligible platforms' scores,
   with the methodology's platform weights. An account is one platform: its score is (3).
5. **Ties**: scores are compared rounded to 9 decimals (backends sum floats in different
   orders), then by the category's tie-breakers, always ending with the unit id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from govsocial.awards.units import Array, UnitTable

TIE_DIRECTION = {"posts": -1, "interactions": -1, "platforms": -1, "followers": 1}


def midrank_percentile(values: Array) -> Array:
    """(number below + half the number equal, itself included) / n, for each value."""
    values = np.asarray(values, dtype=float)
    ordered = np.sort(values)
    below = np.searchsorted(ordered, values, side="left")
    equal = np.searchsorted(ordered, values, side="right") - below
    result: Array = (below + 0.5 * equal) / len(values)
    return result


@dataclass
class UnitScore:
    unit: str
    cluster: str
    institution: str
    account: int
    score: float
    platforms: list[dict[str, Any]]  # one per eligible platform: ranks, scores, components
    components: list[dict[str, Any]]  # one per component: weight, contribution
    posts: float
    followers: float
    interactions: float
    rank: int = 0


@dataclass
class ClusterRanking:
    cluster: str
    considered: int
    eligible: list[UnitScore]
    ineligible_reasons: dict[str, int] = field(default_factory=dict)


def rank(units: UnitTable, category: Any, m: Any) -> dict[str, ClusterRanking]:
    c = units.columns
    rules = category.eligibility
    metrics = [comp.metric for comp in category.components]
    weights = np.array([comp.weight for comp in category.components], dtype=float)
    reasons: list[str | None] = []
    for i in range(len(units)):
        reasons.append(
            "min_posts"
            if c["posts"][i] < max(rules.min_posts, 1)
            else "min_active_weeks"
            if c["active_weeks"][i] < rules.min_active_weeks
            else "min_followers"
            if c["followers"][i] < rules.min_followers
            else next((f"no_{name}" for name in metrics if np.isnan(c[name][i])), None)
        )
    ok = np.array([r is None for r in reasons], dtype=bool)
    pct = {name: np.full(len(units), np.nan) for name in metrics}
    row_rank = np.zeros(len(units), dtype=int)
    row_of = np.zeros(len(units), dtype=int)
    strata = np.rec.fromarrays([units.platform, units.cluster])
    row_score = np.full(len(units), np.nan)
    for stratum in np.unique(strata[ok]) if ok.any() else []:
        rows = np.flatnonzero((strata == stratum) & ok)
        for name in metrics:
            pct[name][rows] = midrank_percentile(c[name][rows])
        stacked = np.vstack([pct[name][rows] for name in metrics])
        row_score[rows] = (weights[:, None] * stacked).sum(axis=0) / weights.sum()
        order = np.lexsort((units.unit[rows], -np.round(row_score[rows], 9)))
        row_rank[rows[order]] = np.arange(1, len(rows) + 1)
        row_of[rows] = len(rows)
    return _combine(units, category, m, ok, reasons, pct, row_score, row_rank, row_of)


def _combine(
    units: UnitTable,
    category: Any,
    m: Any,
    ok: Array,
    reasons: list[str | None],
    pct: dict[str, Array],
    row_score: Array,
    row_rank: Array,
    row_of: Array,
) -> dict[str, ClusterRanking]:
    c = units.columns
    weights = {comp.metric: comp.weight for comp in category.components}
    total_weight = sum(weights.values())
    by_cluster: dict[str, ClusterRanking] = {}
    units_of: dict[tuple[str, str], list[int]] = {}
    for i in range(len(units)):
        units_of.setdefault((str(units.cluster[i]), str(units.unit[i])), []).append(i)
    for (cluster, unit), rows in sorted(units_of.items()):
        ranking = by_cluster.setdefault(cluster, ClusterRanking(cluster, 0, []))
        ranking.considered += 1
        good = [i for i in rows if ok[i]]
        if len(good) < max(category.eligibility.min_platforms, 1):
            reason = reasons[rows[0]] if not good else "min_platforms"
            ranking.ineligible_reasons[reason or "?"] = (
                ranking.ineligible_reasons.get(reason or "?", 0) + 1
            )
            continue
        pw = np.array([m.platform_weights.get(str(units.platform[i]), 1.0) for i in good])
        score = float((pw * row_score[good]).sum() / pw.sum())
        components = []
        for name, weight in weights.items():
            mean_pct = float((pw * pct[name][good]).sum() / pw.sum())
            components.append(
                {
                    "metric": name,
                    "weight": weight,
                    "percentile": mean_pct,
                    "contribution": weight / total_weight * mean_pct,
                }
            )
        platforms = [
            {
                "platform": str(units.platform[i]),
                "rank": int(row_rank[i]),
                "of": int(row_of[i]),
                "score": float(row_score[i]),
                "posts": int(c["posts"][i]),
                "active_weeks": int(c["active_weeks"][i]),
                "followers": int(c["followers"][i]),
                "components": {
                    name: {"value": float(c[name][i]), "percentile": float(pct[name][i])}
                    for name in weights
                },
            }
            for i in good
        ]
        ranking.eligible.append(
            UnitScore(
                unit,
                cluster,
                str(units.institution[rows[0]]),
                int(units.account[rows[0]]),
                score,
                platforms,
                components,
                float(c["posts"][good].sum()),
                float(c["followers"][good].sum()),
                float(c["interactions"][good].sum()),
            )
        )
    for ranking in by_cluster.values():
        ranking.eligible.sort(key=lambda u: _sort_key(u, category.tiebreakers))
        for position, unit_score in enumerate(ranking.eligible, start=1):
            unit_score.rank = position
    return by_cluster


def _sort_key(u: UnitScore, tiebreakers: tuple[str, ...]) -> tuple[Any, ...]:
    values = {
        "posts": u.posts,
        "interactions": u.interactions,
        "platforms": float(len(u.platforms)),
        "followers": u.followers,
    }
    key: list[Any] = [-round(u.score, 9)]
    for name in tiebreakers:
        if name != "id":
            key.append(TIE_DIRECTION[name] * values[name])
    key.append(u.unit)
    return tuple(key)
