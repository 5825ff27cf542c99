"""Fair ranking: eligibility, percentiles within strata, platform combination, tie-breaks.

Rules (documented for users in docs/methodology.md, "How a category is scored"; their
reasons in docs/methodology-engine.md):

1. **Eligibility** per (unit, platform): at least ``min_posts`` original posts (of the
   category's media types), ``min_active_weeks`` active weeks, ``min_followers`` followers, and
   a value for every component metric. A unit needs ``min_platforms`` eligible platforms.
2. **Equal data, equal values**: metric values are compared at the precision they are
   published with (:data:`~govsocial.awards.results.SIGNIFICANT_DIGITS` significant digits),
   so that the last-bit noise of floating-point sums never orders two units; equal values tie
   and the tie-breakers decide (rule 6).
3. **Like with like**: each component becomes a mid-rank percentile within its stratum
   (platform × cluster), ``(beaten + 0.5 × tied, itself included) / population``:

   - an *account* is compared with the eligible accounts of its stratum (population = those),
     so the best of 10 scores 0.95 and an account alone in its stratum 0.5, never a free 1.0;
   - an *institution* is compared with every institution of its cluster in the category
     (population = the cluster's considered institutions): those not eligible on the platform,
     or not there at all, count as beaten. An institution that drops out of a platform thus
     stays below the ones that beat it there; it cannot lower their percentiles and overtake
     them by leaving (see rule 5).
4. **Score of a (unit, platform)** = weighted mean of its component percentiles.
5. **Combining platforms** (institutions; ``platform_combination = "sum"``): the weighted sum
   of its platform scores over *all* the category's platforms, 0 where it is not eligible,
   divided by the total weight of those platforms. Falling below a platform's eligibility (or
   leaving it) never raises an institution's score or its rank: its own score loses that
   platform's term and nobody else's falls. An account is one platform: its score is (4).
6. **Ties**: scores are compared rounded to 9 decimals (weighted sums of equal percentiles in
   another order), then by the category's tie-breakers, always ending with the unit id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import TypedDict

import numpy as np

from govsocial.awards.methodology import Category, Methodology
from govsocial.awards.results import SIGNIFICANT_DIGITS
from govsocial.awards.units import FOLLOWER_SOURCES, Array, UnitTable, group_rows, minimums

TIE_DIRECTION = {"posts": -1, "interactions": -1, "platforms": -1, "followers": 1}
SCORE_DECIMALS = 9


class MetricCell(TypedDict):
    value: float  # as compared: quantised to SIGNIFICANT_DIGITS
    percentile: float


class PlatformCell(TypedDict):
    platform: str
    rank: int  # among the eligible units of the stratum (platform × cluster)
    of: int  # eligible units of the stratum
    score: float
    posts: int
    active_weeks: int
    followers: int
    followers_source: dict[str, int]  # posts by where their followers at posting came from
    components: dict[str, MetricCell]


class ComponentCell(TypedDict):
    metric: str
    weight: float
    percentile: float  # platforms combined as the score is
    contribution: float  # weight ÷ Σ weights × percentile; contributions sum to the score


def quantise(values: Array, digits: int = SIGNIFICANT_DIGITS) -> Array:
    """Each value rounded to ``digits`` significant digits (NaN stays NaN): the precision of
    the published results, far above that of any count, far below floating-point noise."""
    floats = np.asarray(values, dtype=float).tolist()
    return np.array([float(f"{v:.{digits}g}") for v in floats], dtype=float)


def midrank_percentile(values: Array, population: int | None = None) -> Array:
    """(number below + half the number equal, itself included + units outside ``values``)
    / population, for each value. ``population`` defaults to ``len(values)``; the others of
    the population count as beaten by every value."""
    values = np.asarray(values, dtype=float)
    total = len(values) if population is None else population
    ordered = np.sort(values)
    below = np.searchsorted(ordered, values, side="left")
    equal = np.searchsorted(ordered, values, side="right") - below
    result: Array = (total - len(values) + below + 0.5 * equal) / total
    return result


@dataclass
class UnitScore:
    """An eligible unit of a category × cluster. Its platform cells, components and accounts
    are read from the ranking's arrays when first asked for (``detail``): the bootstrap ranks
    each resampled year with the same :func:`rank` and reads only the order."""

    unit: str
    cluster: str
    institution: str
    account: int  # account units; -1 for institutions
    score: float
    posts: float  # over the eligible platforms, as the tie-breakers see them
    followers: float
    interactions: float
    n_platforms: int  # eligible platforms
    rank: int = 0
    detail: Callable[[], _Detail] | None = field(default=None, repr=False, compare=False)

    @cached_property
    def _details(self) -> _Detail:
        return self.detail() if self.detail else _Detail([], [], ())

    @property
    def platforms(self) -> list[PlatformCell]:
        """One per eligible platform."""
        return self._details.platforms

    @property
    def components(self) -> list[ComponentCell]:
        return self._details.components

    @property
    def accounts(self) -> tuple[int, ...]:
        """The accounts behind the eligible platforms."""
        return self._details.accounts


@dataclass(frozen=True)
class _Detail:
    platforms: list[PlatformCell]
    components: list[ComponentCell]
    accounts: tuple[int, ...]


@dataclass
class ClusterRanking:
    cluster: str
    considered: int
    eligible: list[UnitScore]
    ineligible_reasons: dict[str, int] = field(default_factory=dict)


def ineligible_reasons(units: UnitTable, category: Category) -> list[str | None]:
    """Per (unit, platform) row: the first eligibility rule it fails, or None."""
    c = units.columns
    checks = [
        *minimums(c, category.eligibility),
        *((f"no_{comp.metric}", np.isnan(c[comp.metric])) for comp in category.components),
    ]
    reasons: list[str | None] = [None] * len(units)
    for reason, failed in reversed(checks):  # the first failed check is the one reported
        for i in np.flatnonzero(failed):
            reasons[i] = reason
    return reasons


def rank(units: UnitTable, category: Category, m: Methodology) -> dict[str, ClusterRanking]:
    metrics = [comp.metric for comp in category.components]
    weights = np.array([comp.weight for comp in category.components], dtype=float)
    reasons = ineligible_reasons(units, category)
    ok = np.array([r is None for r in reasons], dtype=bool)
    values = {name: quantise(units.columns[name]) for name in metrics}
    population = _population(units) if category.unit == "institution" else None
    pct = {name: np.zeros(len(units)) for name in metrics}
    row_score = np.zeros(len(units))
    row_rank = np.zeros(len(units), dtype=int)
    row_of = np.zeros(len(units), dtype=int)
    strata = np.rec.fromarrays([units.platform, units.cluster])
    for stratum in np.unique(strata[ok]) if ok.any() else []:
        rows = np.flatnonzero((strata == stratum) & ok)
        size = None if population is None else population[str(stratum[1])]
        for name in metrics:
            pct[name][rows] = midrank_percentile(values[name][rows], size)
        stacked = np.vstack([pct[name][rows] for name in metrics])
        row_score[rows] = (weights[:, None] * stacked).sum(axis=0) / weights.sum()
        order = np.lexsort((units.unit[rows], -np.round(row_score[rows], SCORE_DECIMALS)))
        row_rank[rows[order]] = np.arange(1, len(rows) + 1)
        row_of[rows] = len(rows)
    cells = _Cells(units, values, pct, row_score, row_rank, row_of)
    return _combine(units, category, m, ok, reasons, cells)


def _population(units: UnitTable) -> dict[str, int]:
    """Per cluster: its units in the table (all that published in the category's scope)."""
    pairs = {
        (str(cluster), str(unit)) for cluster, unit in zip(units.cluster, units.unit, strict=True)
    }
    population: dict[str, int] = {}
    for cluster, _ in pairs:
        population[cluster] = population.get(cluster, 0) + 1
    return population


@dataclass(frozen=True)
class _Cells:
    """Per (unit, platform) row: what the ranking computed."""

    units: UnitTable
    values: dict[str, Array]
    pct: dict[str, Array]
    score: Array
    rank: Array
    of: Array

    def platform(self, i: int) -> PlatformCell:
        c = self.units.columns
        return {
            "platform": str(self.units.platform[i]),
            "rank": int(self.rank[i]),
            "of": int(self.of[i]),
            "score": float(self.score[i]),
            "posts": int(c["posts"][i]),
            "active_weeks": int(c["active_weeks"][i]),
            "followers": int(c["followers"][i]),
            "followers_source": {
                source: int(c[f"followers_source_{source}"][i]) for source in FOLLOWER_SOURCES
            },
            "components": {
                name: {"value": float(self.values[name][i]), "percentile": float(self.pct[name][i])}
                for name in self.values
            },
        }


def _combine(
    units: UnitTable,
    category: Category,
    m: Methodology,
    ok: Array,
    reasons: list[str | None],
    cells: _Cells,
) -> dict[str, ClusterRanking]:
    """Per (cluster, unit): its platform rows combined (rule 5), vectorised over the groups;
    then each cluster's eligible units sorted by score and the tie-breakers (rule 6)."""
    c = units.columns
    weights = np.array([comp.weight for comp in category.components], dtype=float)
    by_cluster: dict[str, ClusterRanking] = {}
    if not len(units):
        return by_cluster
    first, group = group_rows([units.cluster, units.unit])  # groups sorted by (cluster, unit)
    size = len(first)
    if category.unit == "account":  # one platform: its own score
        share = np.ones(len(units))
    else:  # every platform of the category counts, 0 where the unit is not eligible
        platform_weight = {
            p: m.platform_weights.get(p, 1.0) for p in category.platforms or m.platforms
        }
        total = sum(platform_weight.values())
        share = np.array([platform_weight[str(p)] / total for p in units.platform])
    share = np.where(ok, share, 0.0)

    def per_unit(values: Array) -> Array:
        summed: Array = np.bincount(group, weights=share * values, minlength=size)
        return summed

    def eligible_sum(values: Array) -> Array:
        summed: Array = np.bincount(group, weights=np.where(ok, values, 0.0), minlength=size)
        return summed

    good = np.bincount(group, weights=ok.astype(float), minlength=size).astype(int)
    score = per_unit(cells.score)
    pct = np.vstack([per_unit(cells.pct[comp.metric]) for comp in category.components])
    posts, followers = eligible_sum(c["posts"]), eligible_sum(c["followers"])
    interactions = eligible_sum(c["interactions"])
    rows_of = np.split(np.argsort(group, kind="stable"), np.cumsum(np.bincount(group))[:-1])
    cluster_of, unit_of = units.cluster[first].astype(str), units.unit[first].astype(str)
    needed = max(category.eligibility.min_platforms, 1)
    for g in range(size):
        ranking = by_cluster.setdefault(cluster_of[g], ClusterRanking(cluster_of[g], 0, []))
        ranking.considered += 1
        if good[g] < needed:
            reason = (reasons[rows_of[g][0]] if not good[g] else "min_platforms") or "?"
            ranking.ineligible_reasons[reason] = ranking.ineligible_reasons.get(reason, 0) + 1
            continue
        rows = rows_of[g][ok[rows_of[g]]]
        ranking.eligible.append(
            UnitScore(
                unit_of[g],
                cluster_of[g],
                str(units.institution[first[g]]),
                int(units.account[first[g]]),
                float(score[g]),
                float(posts[g]),
                float(followers[g]),
                float(interactions[g]),
                int(good[g]),
                detail=partial(_detail, units, category, cells, rows, pct[:, g], weights),
            )
        )
    for ranking in by_cluster.values():
        ranking.eligible.sort(key=lambda u: _sort_key(u, category.tiebreakers))
        for position, unit_score in enumerate(ranking.eligible, start=1):
            unit_score.rank = position
    return by_cluster


def _detail(
    units: UnitTable, category: Category, cells: _Cells, rows: Array, pct: Array, weights: Array
) -> _Detail:
    """What a unit's score is made of: its platform cells, components and accounts."""
    total_weight = float(weights.sum())
    components: list[ComponentCell] = [
        {
            "metric": comp.metric,
            "weight": comp.weight,
            "percentile": float(percentile),
            "contribution": comp.weight / total_weight * float(percentile),
        }
        for comp, percentile in zip(category.components, pct, strict=True)
    ]
    accounts = tuple(sorted({a for i in rows for a in units.accounts[i]})) if units.accounts else ()
    return _Detail([cells.platform(int(i)) for i in rows], components, accounts)


def _sort_key(u: UnitScore, tiebreakers: tuple[str, ...]) -> tuple[float | str, ...]:
    values = {
        "posts": u.posts,
        "interactions": u.interactions,
        "platforms": float(u.n_platforms),
        "followers": u.followers,
    }
    key: list[float | str] = [-round(u.score, SCORE_DECIMALS)]
    for name in tiebreakers:
        if name != "id":
            key.append(TIE_DIRECTION[name] * values[name])
    key.append(u.unit)
    return tuple(key)
