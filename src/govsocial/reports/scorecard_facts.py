"""What an institution's scorecard shows, read from a published run (docs/read-model.md).

:class:`RunTables` reads the read model's tables once per process and indexes them by
institution, account and cluster; :func:`institution_facts` gathers one institution's
accounts, weekly activity, engagement rate against its cluster's accounts, media mix and top
posts. Its place in each category and what would move it up are in ``scorecard_gaps.py``.

Engagement rates here are the read model's plain means per post (interactions ÷ followers at
posting time, over the posts with a follower reading), not the shrunk rate the ranking uses
(docs/methodology-engine.md, section 4): the scorecard says so where it shows them.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from govsocial.awards.methodology import Methodology, parse_methodology
from govsocial.publish.model import ReadModel
from govsocial.vocabulary import MEDIA_TYPES, PLATFORM_NAMES, PLATFORMS, WIB

Row = dict[str, Any]


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform)


@dataclass(frozen=True)
class RunTables:
    """A published run's tables, indexed for the scorecards (built once per process)."""

    model: ReadModel
    methodology: Methodology
    weeks: int  # weeks of the period (the last one may be short)
    first_day: date  # the period's first day in WIB, the award's zone: week 0 starts there
    accounts: Mapping[str, list[Row]]  # institution → its accounts, by platform then id
    cluster_accounts: Mapping[str, list[Row]]  # cluster → its accounts
    weekly: Mapping[int, list[Row]]  # account → its weekly rows (weekly.parquet)
    standings: Mapping[tuple[str, str], list[Row]]  # (category, cluster) → by rank
    components: Mapping[tuple[str, str, str], list[Row]]  # (category, cluster, unit) → rows
    top_posts: Mapping[str, list[Row]]  # institution → by place

    @classmethod
    def from_model(cls, model: ReadModel) -> RunTables:
        methodology = parse_methodology(model.methodology_text, source="methodology.toml")
        period = model.results["methodology"]["period"]
        start, end = (datetime.fromisoformat(period[k]) for k in ("start", "end"))
        accounts = sorted(model.table("accounts").to_pylist(), key=_account_order)
        standings = sorted(model.table("standings").to_pylist(), key=lambda r: r["rank"])
        return cls(
            model=model,
            methodology=methodology,
            weeks=-(-(end - start) // timedelta(days=7)),
            first_day=start.astimezone(WIB).date(),
            accounts=_grouped(accounts, lambda r: r["institution_id"]),
            cluster_accounts=_grouped(accounts, lambda r: r["cluster_id"]),
            weekly=_grouped(model.table("weekly").to_pylist(), lambda r: r["account_id"]),
            standings=_grouped(standings, lambda r: (r["category"], r["cluster_id"])),
            components=_grouped(
                model.table("components").to_pylist(),
                lambda r: (r["category"], r["cluster_id"], r["unit"]),
            ),
            top_posts=_grouped(
                sorted(model.table("top_posts").to_pylist(), key=lambda r: r.get("place", 0)),
                lambda r: r["institution_id"],
            ),
        )

    def institutions(self) -> list[str]:
        """Every institution of the run's clusters with a registered account, by id."""
        return sorted(self.accounts)

    def week_start(self, week: int) -> date:
        return self.first_day + timedelta(days=7 * week)

    @functools.cached_property
    def cluster_media(self) -> dict[str, dict[str, list[float]]]:
        """Per cluster and media type: posts, interactions, sum of rates, rated posts."""
        return {
            cluster: _media_sums(w for a in accounts for w in self.weekly.get(a["account_id"], []))
            for cluster, accounts in self.cluster_accounts.items()
        }


@dataclass(frozen=True)
class PeerRate:
    """One of the institution's accounts against the cluster's accounts of its platform."""

    platform: str
    handle: str
    rate: float
    peers: int  # accounts of the cluster on the platform with a rate, this one included
    below: float  # share of the others with a lower rate (ties count half)


@dataclass(frozen=True)
class MediaLine:
    media_type: str
    posts: int
    share: float
    interactions_per_post: float
    rate: float | None  # mean engagement rate per post (None: no post with a follower reading)
    cluster_rate: float | None  # the same over every account of the cluster


@dataclass(frozen=True)
class Facts:
    institution_id: str
    name: str
    cluster_id: str
    cluster_name: str
    region: str | None
    accounts: list[Row]  # accounts.parquet rows, with "main": counted for institution units
    posts: int
    interactions: int
    active_weeks: int
    weekly: list[Row]  # start (ISO date), platform (display name), order, posts: for the chart
    peers: list[PeerRate]
    peer_points: list[Row]  # platform, rate, own: for the chart
    media: list[MediaLine]
    top_posts: list[Row]


def institution_facts(run: RunTables, institution_id: str) -> Facts:
    accounts = run.accounts[institution_id]
    first = accounts[0]
    mains = main_accounts(accounts) if run.methodology.accounts == "main" else None
    marked = [dict(a, main=mains is None or a["account_id"] in mains) for a in accounts]
    rows = [(a, w) for a in accounts for w in run.weekly.get(a["account_id"], [])]
    points, peers = _peer_rates(run, first["cluster_id"], accounts)
    return Facts(
        institution_id=institution_id,
        name=first["institution_name"],
        cluster_id=first["cluster_id"],
        cluster_name=first["cluster_name"],
        region=first["region"],
        accounts=marked,
        posts=sum(a["posts"] for a in accounts),
        interactions=sum(a["interactions"] for a in accounts),
        active_weeks=len({w["week"] for _, w in rows if w["posts"]}),
        weekly=_weekly(run, rows),
        peers=peers,
        peer_points=points,
        media=_media(run, first["cluster_id"], [w for _, w in rows]),
        top_posts=run.top_posts.get(institution_id, []),
    )


def main_accounts(accounts: Iterable[Row]) -> set[int]:
    """Per platform, the account with the most followers at the period's end (none counts 0),
    ties to the smallest id: the institution's unit under ``accounts = "main"``
    (``awards.units.main_accounts``, the rule the run applied)."""
    best: dict[str, Row] = {}
    for a in accounts:
        held = best.get(a["platform"])
        key = (-(a["followers"] or 0), a["account_id"])
        if held is None or key < (-(held["followers"] or 0), held["account_id"]):
            best[a["platform"]] = a
    return {a["account_id"] for a in best.values()}


def _weekly(run: RunTables, rows: list[tuple[Row, Row]]) -> list[Row]:
    """Original posts per week and platform, every week of the period (0 when none), and a
    row at the period's end repeating the last week (a stepped area ends there)."""
    posts: dict[tuple[int, str], int] = collections.Counter()
    for account, week in rows:
        posts[week["week"], account["platform"]] += week["posts"]
    platforms = sorted({p for _, p in posts}, key=_platform_order) or [PLATFORMS[0]]
    return [
        {
            "start": run.week_start(w).isoformat(),
            "platform": platform_name(p),
            "order": order,
            "posts": posts.get((min(w, run.weeks - 1), p), 0),
        }
        for w in range(run.weeks + 1)
        for order, p in enumerate(platforms)
    ]


def _peer_rates(run: RunTables, cluster: str, own: list[Row]) -> tuple[list[Row], list[PeerRate]]:
    """The rates of the cluster's accounts on the institution's platforms (for the chart), and
    each own account's standing among those of its platform."""
    own_ids = {a["account_id"] for a in own}
    by_platform: dict[str, list[Row]] = collections.defaultdict(list)
    for a in run.cluster_accounts[cluster]:
        if a["engagement_rate"] is not None:
            by_platform[a["platform"]].append(a)
    platforms = sorted(
        (p for p in by_platform if any(a["account_id"] in own_ids for a in by_platform[p])),
        key=_platform_order,
    )
    points, peers = [], []
    for p in platforms:
        rates = [a["engagement_rate"] for a in by_platform[p]]
        for a in by_platform[p]:
            mine = a["account_id"] in own_ids
            if a["engagement_rate"] > 0:  # the chart's scale is logarithmic
                points.append(
                    {"platform": platform_name(p), "rate": a["engagement_rate"], "own": mine}
                )
            if mine:
                peers.append(_standing(a, rates))
    return points, peers


def _standing(account: Row, rates: list[float]) -> PeerRate:
    rate = account["engagement_rate"]
    others = len(rates) - 1
    below = sum(r < rate for r in rates) + 0.5 * (sum(r == rate for r in rates) - 1)
    return PeerRate(
        platform=account["platform"],
        handle=account["handle"] or account["display_name"] or str(account["account_id"]),
        rate=rate,
        peers=len(rates),
        below=below / others if others else 1.0,
    )


def _media(run: RunTables, cluster: str, weeks: list[Row]) -> list[MediaLine]:
    own = _media_sums(weeks)
    everyone = run.cluster_media[cluster]
    total = sum(s[0] for s in own.values())
    lines = []
    for media in sorted(own, key=lambda m: (-own[m][0], _media_order(m))):
        posts, interactions, sum_rate, rated = own[media]
        if not posts:
            continue
        c = everyone.get(media, [0.0] * 4)
        lines.append(
            MediaLine(
                media_type=media,
                posts=int(posts),
                share=posts / total,
                interactions_per_post=interactions / posts,
                rate=sum_rate / rated if rated else None,
                cluster_rate=c[2] / c[3] if c[3] else None,
            )
        )
    return lines


def _media_sums(weeks: Iterable[Row]) -> dict[str, list[float]]:
    sums: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for w in weeks:
        s = sums[w["media_type"]]
        s[0] += w["posts"]
        s[1] += w["interactions"] or 0
        s[2] += w["sum_rate"] or 0
        s[3] += w["rated_posts"] or 0
    return sums


def _grouped(rows: Iterable[Row], key: Any) -> dict[Any, list[Row]]:
    groups: dict[Any, list[Row]] = collections.defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return dict(groups)


def _platform_order(platform: str) -> tuple[int, str]:
    return (PLATFORMS.index(platform) if platform in PLATFORMS else len(PLATFORMS), platform)


def _media_order(media: str) -> tuple[int, str]:
    return (MEDIA_TYPES.index(media) if media in MEDIA_TYPES else len(MEDIA_TYPES), media)


def _account_order(a: Row) -> tuple[tuple[int, str], int]:
    return (_platform_order(a["platform"]), a["account_id"])
