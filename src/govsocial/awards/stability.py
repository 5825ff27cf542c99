"""How sure is each ranking: a bootstrap over the weeks of the evaluation period.

A ranking rests on one year of posts; another year of the same institutions, doing the same
work, would have given slightly different weeks. The bootstrap estimates how much the
nominees depend on which weeks happened (Efron & Tibshirani 1993, ch. 6; resampling whole
weeks keeps the posts of a week together, as a block bootstrap does, Künsch 1989):

1. The period's ``W`` weeks (``metrics.formulas.weeks_in_period``) are drawn ``W`` times with
   replacement, ``replicates`` times, from a generator seeded with :func:`seed_of` (the run
   id): the same run always draws the same weeks, on any engine.
2. Each replicate is a year of ``W`` drawn weeks: a week drawn twice has its sums counted
   twice and counts as two active weeks, and a week never drawn is absent. A unit without a
   post in the replicate is not in it, exactly as in the real run. The category's rows are
   grouped once (``awards.units.prepare_units``); a replicate weights each week by the times
   it was drawn (``PreparedUnits.table``), which equals writing the drawn weeks out.
3. The replicate's unit table goes through the run's own steps (unit metrics, then
   ``awards.ranking.rank``: eligibility, shrinkage, percentiles, tie-breakers: every rule),
   and the nominees are chosen as the run chooses them (the first ``nominees`` eligible
   units without a severe flag).

Per unit: ``stability`` is the share of replicates in which it is a nominee, and
``rank_interval`` the 2.5% and 97.5% percentiles of its rank among the eligible (a replicate
in which it is not eligible ranks it just below the last eligible unit). A unit held for
review is counted as if its hold were lifted (how sure its place would be).

It runs in NumPy on the cube, which both engines compute identically: the analysis is
engine-independent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from govsocial.awards.methodology import Category, Methodology
from govsocial.awards.ranking import UnitScore, rank
from govsocial.awards.units import UNIT_SUMS, Array, Followers, main_accounts, prepare_units
from govsocial.metrics.formulas import weeks_in_period
from govsocial.store.lookup import AccountInfo

# Resampled years by default: a quick screen. A run to publish uses 200
# (`govsocial awards run --stability 200`; docs/methodology-engine.md, section 8).
REPLICATES = 20
INTERVAL = (0.025, 0.975)
STAYS = 0.95  # a nominee is sure when it stays a nominee in at least this share ...
ENTERS = 0.05  # ... and the first non-nominee when it becomes one in at most this share
METHOD = "bootstrap over weeks"


def seed_of(run_id: str) -> int:
    """The generator's seed: 48 bits of a hash of the run id (a safe integer in JSON)."""
    return int(hashlib.sha256(f"stability\n{run_id}".encode()).hexdigest()[:12], 16)


def week_draws(weeks: int, replicates: int, seed: int) -> Array:
    """``replicates`` × ``weeks``: the week drawn into each slot of each replicate."""
    draws: Array = np.random.default_rng(seed).integers(0, weeks, size=(replicates, weeks))
    return draws


@dataclass(frozen=True)
class UnitCertainty:
    stability: float  # share of replicates in which the unit is a nominee
    rank_interval: tuple[int, int]  # 2.5% and 97.5% percentiles of its rank


@dataclass
class _Tally:
    """One category × cluster over the replicates: the units of the real ranking."""

    units: list[str]  # the real ranking's eligible units, in rank order
    index: dict[str, int]
    nominee: Array  # replicates in which each unit is a nominee
    ranks: Array  # replicates × units


Certainties = dict[tuple[str, str], dict[str, UnitCertainty]]


def bootstrap(
    columns: Mapping[str, Array],
    followers: Followers,
    m: Methodology,
    themes: Mapping[str, str],
    owners: Mapping[int, AccountInfo],
    real: Mapping[str, Mapping[str, Sequence[UnitScore]]],
    held: Callable[[UnitScore], bool],
    replicates: int = REPLICATES,
    seed: int = 0,
) -> Certainties:
    """Per (category id, cluster id) and unit id of the real ranking's eligible units: its
    :class:`UnitCertainty`. ``themes``: category id → its theme column in the cube; ``real``:
    category id → cluster id → the real ranking's eligible units in rank order; ``held``:
    whether a unit has a severe flag (it is never a nominee; it is counted as if cleared)."""
    weeks = weeks_in_period(m)
    cube = {k: np.asarray(v) for k, v in columns.items()}
    categories: list[Category] = [c for c in m.categories if c.id in real]
    prepared = {
        c.id: prepare_units(
            _collapse(cube, followers, m, c, themes.get(c.id), owners),
            followers,
            m,
            c,
            themes.get(c.id),
            owners,
        )
        for c in categories
    }
    tallies = {
        (category, cluster): _Tally(
            [u.unit for u in units],
            {u.unit: i for i, u in enumerate(units)},
            np.zeros(len(units), dtype=np.int64),
            np.zeros((replicates, len(units)), dtype=np.int64),
        )
        for category, clusters in real.items()
        for cluster, units in clusters.items()
    }
    for b, drawn in enumerate(week_draws(weeks, replicates, seed)):
        drawn_times = np.bincount(drawn, minlength=weeks).astype(float)
        for category in categories:
            units = prepared[category.id].table(drawn_times)
            for cluster, ranking in rank(units, category, m).items():
                tally = tallies.get((category.id, cluster))
                if tally is not None:
                    _count(tally, b, ranking.eligible, category.nominees, held)
    return {key: _certainties(tally) for key, tally in tallies.items()}


def _count(
    tally: _Tally,
    b: int,
    eligible: Sequence[UnitScore],
    places: int,
    held: Callable[[UnitScore], bool],
) -> None:
    tally.ranks[b] = len(eligible) + 1  # not eligible: just below the last eligible unit
    cleared = 0  # eligible units without a severe flag seen so far
    for unit in eligible:
        i = tally.index.get(unit.unit)
        if i is not None:
            tally.ranks[b, i] = unit.rank
        if cleared >= places:  # every place is taken: only the ranks are left to note
            continue
        if i is not None:  # a held unit: its place, were its hold lifted
            tally.nominee[i] += 1
        if not held(unit):
            cleared += 1


def _certainties(tally: _Tally) -> dict[str, UnitCertainty]:
    replicates = len(tally.ranks)
    if not replicates or not tally.units:
        return {}
    bounds = np.quantile(tally.ranks, INTERVAL, axis=0, method="inverted_cdf")
    return {
        unit: UnitCertainty(
            float(tally.nominee[i]) / replicates, (int(bounds[0, i]), int(bounds[1, i]))
        )
        for i, unit in enumerate(tally.units)
    }


def _collapse(
    cube: Mapping[str, Array],
    followers: Followers,
    m: Methodology,
    category: Category,
    theme: str | None,
    owners: Mapping[int, AccountInfo],
) -> dict[str, Array]:
    """The cube rows one category reads, summed per account × week (× its theme flag).

    The measures are additive, so the units built from these rows are those built from the
    cube (up to the order of float additions), and each replicate sums several times fewer
    rows. The rows keep
    what ``build_units`` filters on (a media type of the category, not a repost), and it
    applies its own filters again.
    """
    keep = ~cube["is_repost"].astype(bool)
    keep &= np.isin(cube["platform"], list(category.platforms or m.platforms))
    if category.media_types:
        keep &= np.isin(cube["media_type"], list(category.media_types))
    if category.unit == "institution" and m.accounts == "main":
        main = main_accounts(owners, followers)
        keep &= np.isin(cube["account_id"].astype(np.int64), main)
    account = cube["account_id"][keep].astype(np.int64)
    week = cube["week"][keep].astype(np.int64)
    flag = cube[theme][keep].astype(np.int64) if theme else np.zeros(len(account), np.int64)
    key = (account * (int(week.max(initial=0)) + 1) + week) * 2 + flag
    _, first, group = np.unique(key, return_index=True, return_inverse=True)
    group = group.ravel()
    rows = np.flatnonzero(keep)[first]
    out = {k: cube[k][rows] for k in ("account_id", "institution_id", "cluster_id", "platform")}
    out["media_type"] = np.full(len(rows), category.media_types[0] if category.media_types else "")
    out["is_repost"] = np.zeros(len(rows), dtype=bool)
    out["week"] = cube["week"][rows]
    for name in UNIT_SUMS:
        values = np.nan_to_num(cube[name][keep].astype(float))
        out[name] = np.bincount(group, weights=values, minlength=len(rows))
    if theme:
        out[theme] = cube[theme][rows]
    return out


# ---------------------------------------------------------------- the statement


@dataclass(frozen=True)
class Verdict:
    clear: bool
    places: tuple[int, ...]  # the places that are not sure (empty when clear)
    statement: str


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def verdict(nominees: Sequence[float], outsiders: Sequence[float], replicates: int) -> Verdict:
    """The plain statement of a category × cluster. ``nominees``: the stability of each
    nominee, by place; ``outsiders``: that of each eligible non-nominee (no severe flag) in
    rank order, whose places follow the nominees'.

    Clear when every nominee stays a nominee in at least :data:`STAYS` of the replicates and
    the first non-nominee becomes one in at most :data:`ENTERS`; otherwise the places that are
    not sure are named: nominees below :data:`STAYS`, non-nominees above :data:`ENTERS`."""
    years = f"{replicates:,} resampled {'year' if replicates == 1 else 'years'}"
    if not nominees:
        return Verdict(True, (), "No nominees: nothing to be sure of.")
    shaky = [(p, s) for p, s in enumerate(nominees, start=1) if s < STAYS]
    rising = [(p, s) for p, s in enumerate(outsiders, start=len(nominees) + 1) if s > ENTERS]
    if not shaky and not rising:
        first = (
            f", and the first non-nominee becomes one in {_percent(outsiders[0])}"
            if outsiders
            else ""
        )
        return Verdict(
            True,
            (),
            f"Clear: every nominee stays a nominee in at least {_percent(min(nominees))} of "
            f"{years}{first}.",
        )
    places = tuple(p for p, _ in [*shaky, *rising])
    named = [ordinal(p) for p in places]
    listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    parts = []
    if shaky:
        parts.append(
            "; ".join(f"the {ordinal(p)} stays a nominee in {_percent(s)}" for p, s in shaky)
        )
    if rising:
        parts.append("; ".join(f"the {ordinal(p)} becomes one in {_percent(s)}" for p, s in rising))
    detail = f"over {years}, {'; '.join(parts)}"
    if len(places) == 1:
        return Verdict(False, places, f"The {listed} place is not sure: {detail}.")
    return Verdict(
        False, places, f"The {listed} places are statistically indistinguishable: {detail}."
    )
