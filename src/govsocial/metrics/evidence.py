"""Evidence for nominees: anomaly flags and top posts by overperformance.

**Overperformance** follows CrowdTangle's method: a post's expected interactions are the mean
of the account's posts *of the same media type* within the middle 50% of their interactions
(25th to 75th percentile, so neither flops nor viral hits set the bar); the score is
``actual / expected`` when at or above it and ``-expected / actual`` below it (so 2.0 means
twice the usual, -2.0 half). CrowdTangle uses the account's last 100 posts before each post;
here the baseline is the account's posts of that type in the whole evaluation period (one
baseline per account and type, the same on every backend).

**Flags** (per account, from the cube; a flag never changes a metric or a rank). Each has a
``severity``: ``severe`` means the counts cannot be taken at face value, and the engine holds
such a nominee for review instead of nominating it; ``info`` flags are shown beside the
nominee.

- ``implausible_counts`` (severe): at least one original post whose counts no audience of
  the account's size explains: interactions above 100× its followers at posting (1,000× on
  TikTok), views above 10,000×, or, whatever the audience, more than 10 billion interactions
  or 100 billion views (:mod:`govsocial.metrics.facts` gives the thresholds and their reasons).
  One such post is enough: a single count of 10^12 moves a mean log rate by more than any
  real post does.
- ``followers_unknown`` (info): some original posts have no follower reading within
  ``max_follower_gap_days`` (or the account has none at all): they count for activity, not
  for rates.
- ``engagement_above_audience`` (info): 5% or more of its rated posts got more interactions
  than the account had followers.
- ``like_comment_ratio`` (info): its likes per comment are more than 4× (or less than ¼ of)
  the median of its stratum (platform × cluster): the pattern of bought likes.
- ``engagement_spikes`` (info): at least 3 weeks, and 10% of its active weeks, in which
  interactions per post exceeded 5× the account's median week: bursts its history does not
  explain.

The last three are statistical patterns and need a history: accounts with fewer than 10
original posts are not judged by them. Reposts (which carry another account's counts) are
never judged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import ibis
import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from govsocial.metrics.facts import (
    INTERACTIONS_PER_FOLLOWER,
    MAX_INTERACTIONS,
    MAX_VIEWS,
    VIEWS_PER_FOLLOWER,
    post_facts,
)
from govsocial.metrics.scope import Scope

if TYPE_CHECKING:
    from govsocial.compute.backend import Backend, Column, Scalar, Table
    from govsocial.metrics.cube import ThemeFilter

MIN_POSTS = 10
TOP_POSTS = 3
# The largest DOUBLE below 2^63: a top post's interactions are shown as BIGINT, and a sum of
# parts beyond it (only ever implausible: its account is flagged) is shown as this.
_MAX_SHOWN = float(2**63 - 1024)

_LOWEST_LIMIT = min(INTERACTIONS_PER_FOLLOWER.values())

Severity = Literal["severe", "info"]
Array = NDArray[Any]


class AccountFlag(TypedDict):
    flag: str
    severity: Severity
    detail: str


def cube_measures(facts: Table) -> dict[str, Scalar]:
    """The sums the flags read from the cube, beyond the metrics' own: the cube's aggregate
    adds them (``**cube_measures(facts)``), grouped by its keys like every other measure."""

    def one(condition: Column) -> Scalar:
        return ibis.ifelse(condition, 1, 0).sum()

    return {
        "n_implausible": one(facts.implausible),
        "max_rate": facts.engagement_rate.max(),
        "max_view_rate": facts.view_rate.max(),
        "max_views": facts.views.max(),
        **{
            f"n_followers_{source}": one(facts.followers_source == source)
            for source in ("before", "after", "too_far", "none")
        },
    }


def account_flags(cube: pa.Table) -> dict[int, list[AccountFlag]]:
    """Flags per account id, from the cube (original posts only), severe ones first."""
    col = {n: cube.column(n).to_numpy(zero_copy_only=False) for n in cube.column_names}
    keep = ~col["is_repost"].astype(bool)
    col = {k: v[keep] for k, v in col.items()}
    accounts, first, inverse = np.unique(col["account_id"], return_index=True, return_inverse=True)
    inverse = inverse.ravel()

    def total(name: str) -> Array:
        values = np.nan_to_num(col[name].astype(float))
        return np.bincount(inverse, weights=values, minlength=len(accounts))

    def peak(name: str) -> Array:
        out = np.full(len(accounts), -np.inf)
        np.maximum.at(out, inverse, np.nan_to_num(col[name].astype(float), nan=-np.inf))
        return out

    n, rated = total("n"), total("n_rated")
    above, likes, comments = total("n_above_audience"), total("likes"), total("comments")
    platform = col["platform"][first].astype(str)
    stratum = np.char.add(platform, "|" + col["cluster_id"][first].astype(str))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(comments > 0, likes / np.maximum(comments, 1), np.inf)
    flags: dict[int, list[AccountFlag]] = {}

    def flag(i: int, name: str, severity: Severity, detail: str) -> None:
        entry: AccountFlag = {"flag": name, "severity": severity, "detail": detail}
        flags.setdefault(int(accounts[i]), []).append(entry)

    _implausible(
        total("n_implausible"),
        n,
        platform,
        {"rate": peak("max_rate"), "view_rate": peak("max_view_rate")},
        {"interactions": peak("max_interactions"), "views": peak("max_views")},
        flag,
    )
    unknown = total("n_followers_too_far") + total("n_followers_none")
    for i in np.flatnonzero(unknown > 0):
        flag(int(i), "followers_unknown", "info", _followers_detail(unknown[i], n[i]))
    for s in np.unique(stratum):
        rows = np.flatnonzero((stratum == s) & (n >= MIN_POSTS))
        finite = ratio[rows][np.isfinite(ratio[rows])]
        median = float(np.median(finite)) if len(finite) else float("nan")
        for i in rows:
            if rated[i] and above[i] / rated[i] >= 0.05:
                flag(
                    int(i),
                    "engagement_above_audience",
                    "info",
                    f"{int(above[i]):,} of {_posts(rated[i])} got more interactions than "
                    "the account had followers",
                )
            if median > 0 and (ratio[i] > 4 * median or ratio[i] < median / 4):
                shown = "no comments" if not np.isfinite(ratio[i]) else f"{ratio[i]:.1f}"
                flag(
                    int(i),
                    "like_comment_ratio",
                    "info",
                    f"{shown} likes per comment against a median of {median:.1f} for "
                    f"{s.replace('|', ' accounts in cluster ')}",
                )
    _spikes(col, inverse, accounts, n, flag)
    return flags


def _posts(count: float) -> str:
    return f"{int(count):,} post" if int(count) == 1 else f"{int(count):,} posts"


def _times(x: float) -> str:
    return f"{x:,.0f}×" if x >= 10 else f"{x:.1f}×"


def _implausible(
    implausible: Array,
    n: Array,
    platform: Array,
    ratios: dict[str, Array],
    peaks: dict[str, Array],
    flag: Callable[[int, str, Severity, str], None],
) -> None:
    for i in np.flatnonzero(implausible > 0):
        limit = INTERACTIONS_PER_FOLLOWER.get(str(platform[i]), _LOWEST_LIMIT)
        why = []
        if ratios["rate"][i] > limit:
            why.append(
                f"interactions up to {_times(ratios['rate'][i])} its followers at posting "
                f"(held for review above {_times(limit)} on {platform[i]})"
            )
        if ratios["view_rate"][i] > VIEWS_PER_FOLLOWER:
            why.append(
                f"views up to {_times(ratios['view_rate'][i])} its followers "
                f"(held for review above {_times(VIEWS_PER_FOLLOWER)})"
            )
        if peaks["interactions"][i] > MAX_INTERACTIONS:
            why.append(
                f"{peaks['interactions'][i]:,.0f} interactions on one post, more than there "
                "are people"
            )
        if peaks["views"][i] > MAX_VIEWS:
            why.append(f"{peaks['views'][i]:,.0f} views on one post")
        flag(
            int(i),
            "implausible_counts",
            "severe",
            f"{int(implausible[i]):,} of its {_posts(n[i])} "
            f"{'has' if implausible[i] == 1 else 'have'} counts no audience of its size "
            f"explains: {'; '.join(why) or 'counts beyond the thresholds'}. Check the "
            "posts and the import before it can be nominated.",
        )


def _followers_detail(unknown: float, n: float) -> str:
    if unknown >= n:
        return (
            f"none of its {_posts(n)} has a follower reading near enough to it: they count "
            "for activity, not for engagement rates"
        )
    return (
        f"{int(unknown):,} of its {_posts(n)} have no follower reading near enough to them: "
        "they count for activity, not for engagement rates"
    )


def _spikes(
    col: dict[str, Array],
    inverse: Array,
    accounts: Array,
    n: Array,
    flag: Callable[[int, str, Severity, str], None],
) -> None:
    weeks = np.rec.fromarrays([inverse, col["week"]])
    keys, week_of = np.unique(weeks, return_inverse=True)
    week_of = week_of.ravel()
    posts = np.bincount(week_of, weights=col["n"].astype(float))
    inter = np.bincount(week_of, weights=np.nan_to_num(col["interactions"].astype(float)))
    per_post = inter / np.maximum(posts, 1)
    for i in np.flatnonzero(n >= MIN_POSTS):
        mine = per_post[(keys["f0"] == i) & (posts > 0)]
        if len(mine) == 0:
            continue
        typical = float(np.median(mine))
        spikes = int((mine > 5 * typical).sum()) if typical > 0 else 0
        if spikes >= 3 and spikes >= 0.1 * len(mine):
            flag(
                int(i),
                "engagement_spikes",
                "info",
                f"{spikes} of {len(mine)} active weeks above 5× its median week "
                f"({typical:,.0f} interactions per post)",
            )


def top_posts(backend: Backend, m: Scope, account_ids: Sequence[int], cube: pa.Table) -> pa.Table:
    """Top posts per (account, media type) by overperformance, for the given accounts.

    Within one (account, media type) the baseline is one number, so the top posts by
    overperformance are the top posts by interactions. They are all at or above the third
    largest of the cube's weekly maxima, which cuts the candidates to a handful per group
    before anything is sorted. ``interactions`` comes back as BIGINT (a whole number to
    show), the rest as DOUBLE.
    """
    facts = post_facts(backend, m, account_ids)
    facts = facts.filter(~facts.is_repost)
    group = ["account_id", "media_type"]
    quartiles = facts.group_by(group).aggregate(
        q1=facts.interactions.quantile(0.25), q3=facts.interactions.quantile(0.75)
    )
    inner = facts.join(quartiles, group)
    inner = inner.filter((inner.interactions >= inner.q1) & (inner.interactions <= inner.q3))
    baseline = inner.group_by(group).aggregate(expected=inner.interactions.mean())
    floors = ibis.memtable(_candidate_floors(cube, account_ids))
    candidates = facts.join(floors, group)
    candidates = candidates.filter(candidates.interactions >= candidates.floor)
    scored = candidates.join(baseline, group)
    actual = scored.interactions
    expected = scored.expected
    score = ibis.cases(
        (expected <= 0, actual + 1.0),
        (actual >= expected, actual / expected),
        (actual <= 0, -expected),
        else_=-expected / actual,
    )
    scored = scored.mutate(overperformance=score)
    order = [ibis.desc(scored.interactions), scored.post_id]
    top = scored.mutate(n=ibis.row_number().over(group_by=group, order_by=order))
    top = top.filter(top.n < TOP_POSTS).select(
        "account_id",
        "media_type",
        "post_id",
        "platform",
        "platform_post_id",
        "url",
        "posted_at",
        ibis.least(top.interactions, _MAX_SHOWN).cast("int64").name("interactions"),
        "engagement_rate",
        "expected",
        "overperformance",
    )
    result: pa.Table = backend.to_arrow(top.order_by(["account_id", "media_type", "post_id"]))
    return result


def themed_posts(
    backend: Backend, m: Scope, theme: ThemeFilter, account_ids: Sequence[int]
) -> list[dict[str, Any]]:
    """The original in-scope posts of ``account_ids`` that a themed category counts, each with
    what matched it: ``themes`` (the theme files that tagged it, or ``hashtags`` /
    ``keywords`` for a category's own lists) and ``terms`` (the hashtags and terms that matched,
    from ``post_themes.evidence`` or :meth:`ThemeFilter.terms_in`). Sorted by post id."""
    if not account_ids:
        return []
    facts = post_facts(backend, m, account_ids)
    facts = facts.filter(~facts.is_repost)
    facts = facts.filter(theme.expression(facts, backend))
    rows = facts.select(
        "account_id",
        "post_id",
        "platform",
        "platform_post_id",
        "url",
        "posted_at",
        "media_type",
        ibis.least(facts.interactions, _MAX_SHOWN).cast("int64").name("interactions"),
        "text",
    )
    posts: list[dict[str, Any]] = backend.to_arrow(rows.order_by("post_id")).to_pylist()
    tags: dict[int, list[tuple[str, list[str]]]] = {}
    if theme.themes and posts:
        tagged = backend.table("post_themes")
        tagged = tagged.filter(
            tagged.theme.isin(list(theme.themes)), tagged.post_id.isin(rows.post_id)
        )
        found = tagged.select("post_id", "theme", "evidence").order_by(["post_id", "theme"])
        for row in backend.to_arrow(found).to_pylist():
            tags.setdefault(int(row["post_id"]), []).append((row["theme"], row["evidence"]))
    for post in posts:
        own = theme.terms_in(post.pop("text"))
        matched = tags.get(post["post_id"], [])
        post["themes"] = [name for name, _ in matched] + list(own)
        terms = [t for _, evidence in matched for t in evidence]
        post["terms"] = list(dict.fromkeys(terms + [t for found in own.values() for t in found]))
    return posts


def _candidate_floors(cube: pa.Table, account_ids: Sequence[int]) -> pa.Table:
    """Per (account, media type): the TOP_POSTS-th largest weekly maximum of interactions."""
    wanted = np.isin(cube.column("account_id").to_numpy(), np.asarray(account_ids))
    wanted &= ~cube.column("is_repost").to_numpy(zero_copy_only=False).astype(bool)
    account = cube.column("account_id").to_numpy()[wanted].astype(np.int64)
    media = cube.column("media_type").to_numpy(zero_copy_only=False)[wanted]
    peak = cube.column("max_interactions").to_numpy(zero_copy_only=False)[wanted]
    peak = np.nan_to_num(peak.astype(float), nan=0.0)
    floors: dict[tuple[int, str], list[float]] = {}
    for key in zip(account.tolist(), media.tolist(), peak.tolist(), strict=True):
        floors.setdefault((key[0], key[1]), []).append(key[2])
    rows = [(a, t, sorted(v, reverse=True)[:TOP_POSTS][-1]) for (a, t), v in floors.items()]
    return pa.table(
        {
            "account_id": pa.array([r[0] for r in rows], pa.int64()),
            "media_type": pa.array([r[1] for r in rows], pa.string()),
            "floor": pa.array([r[2] for r in rows], pa.float64()),
        }
    )
