"""An institution's place in each category, and what would move it up.

A score is the weighted mean of the unit's component percentiles (each the mean of its
percentiles over the category's platforms, 0 on a platform where it is not eligible;
docs/methodology-engine.md, section 5), so the gap between a unit and the **nominee line**
(the score of the last nominee of its category × cluster) splits exactly into one part per
component: (the last nominee's percentile − the unit's) × weight ÷ Σ weights. The component
with the largest such part is where the unit is furthest behind, weighted as the methodology
weighs it. That is all the data says: a percentile is a place among the cluster's other units,
so it moves when they move, and nothing here claims what would raise it.

A unit that is not ranked in a category did not pass its eligibility rules: the scorecard
shows the rules beside the unit's own figures per platform (its original posts of the
category's media types, its active weeks and its followers), from the read model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from govsocial.awards.methodology import Category
from govsocial.reports.scorecard_facts import Row, RunTables, main_accounts

NOMINATED, HELD, NOT_ELIGIBLE = "nominated", "held for review", "not eligible"


@dataclass(frozen=True)
class PlatformPart:
    """A component on one platform: the unit's value and percentile there, and the last
    nominee's (None: not eligible there, which counts as a percentile of 0)."""

    platform: str
    own_value: float | None
    own_percentile: float | None
    last_value: float | None
    last_percentile: float | None
    last_platform: str  # account categories: the last nominee's platform; else ``platform``


@dataclass(frozen=True)
class ComponentGap:
    metric: str
    weight: float  # as the methodology gives it
    share: float  # weight ÷ the category's sum of weights
    own: float  # the unit's percentile (platforms combined)
    last: float  # the last nominee's
    platforms: list[PlatformPart] = field(default_factory=list)

    @property
    def weighted(self) -> float:
        """The part of the score gap this component accounts for."""
        return self.share * (self.last - self.own)


@dataclass(frozen=True)
class Requirement:
    """Not eligible: the unit's figures on one platform against the category's minimums."""

    platform: str
    handle: str
    posts: int
    active_weeks: int
    followers: int | None
    meets_posts: bool
    meets_weeks: bool
    meets_followers: bool

    @property
    def meets_all(self) -> bool:
        return self.meets_posts and self.meets_weeks and self.meets_followers


@dataclass(frozen=True)
class Place:
    """The institution in one category: its unit's rank (or why it has none) and its gaps."""

    category: Category
    status: str  # nominated, held for review, "" (ranked) or not eligible
    of: int  # eligible units of the category × cluster
    rank: int | None = None
    score: float | None = None
    account: Row | None = None  # account categories: the institution's best-ranked account
    other_accounts: list[Row] = field(default_factory=list)  # its other ranked accounts
    line: float | None = None  # the last nominee's score
    last_nominee: Row | None = None
    gaps: list[ComponentGap] = field(default_factory=list)  # largest weighted gap first
    not_eligible_on: list[str] = field(default_factory=list)  # platforms with an account
    no_account_on: list[str] = field(default_factory=list)  # the category's other platforms
    requirements: list[Requirement] = field(default_factory=list)

    @property
    def gap(self) -> float | None:
        return None if self.line is None or self.score is None else self.line - self.score

    @property
    def largest(self) -> ComponentGap | None:
        """The component with the largest positive weighted gap, if any."""
        return self.gaps[0] if self.gaps and self.gaps[0].weighted > 0 else None


def places(run: RunTables, institution_id: str) -> list[Place]:
    accounts = run.accounts[institution_id]
    cluster = accounts[0]["cluster_id"]
    return [
        _place(run, category, cluster, institution_id, accounts)
        for category in run.methodology.categories
    ]


def _place(
    run: RunTables, category: Category, cluster: str, institution_id: str, accounts: list[Row]
) -> Place:
    standings = run.standings.get((category.id, cluster), [])
    if category.unit == "account":
        own = [r for r in standings if r["institution_id"] == institution_id]
    else:
        own = [r for r in standings if r["unit"] == institution_id]
    if not own:
        return Place(
            category,
            NOT_ELIGIBLE,
            len(standings),
            requirements=_requirements(run, category, accounts),
        )
    unit = own[0]  # the best-ranked (standings are sorted by rank)
    nominees = [r for r in standings if r["status"] == NOMINATED]
    last = nominees[-1] if nominees else None
    place = Place(
        category=category,
        status=unit["status"] or "",
        of=len(standings),
        rank=unit["rank"],
        score=unit["score"],
        account=unit if category.unit == "account" else None,
        other_accounts=own[1:],
        line=last["score"] if last else None,
        last_nominee=last,
    )
    if category.unit == "institution":
        absent = _absent(run, category, unit)
        present = {a["platform"] for a in accounts}
        place = dataclasses.replace(
            place,
            not_eligible_on=[p for p in absent if p in present],
            no_account_on=[p for p in absent if p not in present],
        )
    if place.status == NOMINATED or last is None:
        return place
    return dataclasses.replace(place, gaps=_gaps(run, category, cluster, unit, last))


def _platforms(run: RunTables, category: Category) -> tuple[str, ...]:
    return category.platforms or run.methodology.platforms


def _gaps(
    run: RunTables, category: Category, cluster: str, unit: Row, last: Row
) -> list[ComponentGap]:
    own = run.components.get((category.id, cluster, unit["unit"]), [])
    theirs = run.components.get((category.id, cluster, last["unit"]), [])
    total = sum(c.weight for c in category.components)
    platforms = _platforms(run, category)
    gaps = []
    for component in category.components:
        mine = _by_platform(own, component.metric)
        best = _by_platform(theirs, component.metric)
        if category.unit == "account":  # one platform each, perhaps not the same one
            pairs = [(unit["platform"], last["platform"])]
        else:
            pairs = [(p, p) for p in platforms if p in mine or p in best]
        parts = [
            PlatformPart(
                platform=p,
                own_value=mine[p]["value"] if p in mine else None,
                own_percentile=mine[p]["percentile"] if p in mine else None,
                last_value=best[q]["value"] if q in best else None,
                last_percentile=best[q]["percentile"] if q in best else None,
                last_platform=q,
            )
            for p, q in pairs
        ]
        gaps.append(
            ComponentGap(
                metric=component.metric,
                weight=component.weight,
                share=component.weight / total,
                own=mine[""]["percentile"] if "" in mine else 0.0,
                last=best[""]["percentile"] if "" in best else 0.0,
                platforms=parts,
            )
        )
    return sorted(gaps, key=lambda g: -g.weighted)


def _by_platform(rows: list[Row], metric: str) -> dict[str, Row]:
    """A unit's rows of one metric by platform ("": platforms combined)."""
    return {r["platform"] or "": r for r in rows if r["metric"] == metric}


def _absent(run: RunTables, category: Category, unit: Row) -> list[str]:
    """The category's platforms on which the institution is not eligible (no component row)."""
    rows = run.components.get((category.id, unit["cluster_id"], unit["unit"]), [])
    eligible = {r["platform"] for r in rows if r["platform"]}
    return [p for p in _platforms(run, category) if p not in eligible]


def _requirements(run: RunTables, category: Category, accounts: list[Row]) -> list[Requirement]:
    """The figures the eligibility rules read, per platform of the category: of each account
    (account categories) or of the institution's unit there (its main account, or all of its
    accounts summed under ``accounts = "pooled"``)."""
    platforms = _platforms(run, category)
    media = set(category.media_types)
    rules = category.eligibility
    if category.unit == "account" or run.methodology.accounts == "main":
        chosen = main_accounts(accounts) if category.unit == "institution" else None
        groups = [[a] for a in accounts if chosen is None or a["account_id"] in chosen]
    else:
        by_platform: dict[str, list[Row]] = {}
        for a in accounts:
            by_platform.setdefault(a["platform"], []).append(a)
        groups = list(by_platform.values())
    found = []
    for group in groups:
        if group[0]["platform"] not in platforms:
            continue
        rows = [
            w
            for a in group
            for w in run.weekly.get(a["account_id"], [])
            if not media or w["media_type"] in media
        ]
        posts = sum(w["posts"] for w in rows)
        weeks = len({w["week"] for w in rows if w["posts"]})
        known = [a["followers"] for a in group if a["followers"] is not None]
        followers = sum(known) if known else None
        found.append(
            Requirement(
                platform=group[0]["platform"],
                handle=", ".join(a["handle"] or str(a["account_id"]) for a in group),
                posts=posts,
                active_weeks=weeks,
                followers=followers,
                meets_posts=posts >= rules.min_posts,
                meets_weeks=weeks >= rules.min_active_weeks,
                meets_followers=(followers or 0) >= rules.min_followers,
            )
        )
    return found
