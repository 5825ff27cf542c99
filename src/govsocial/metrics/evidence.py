"""Evidence for nominees: anomaly flags and top posts by overperformance.

**Overperformance** follows CrowdTangle's method: a post's expected interactions are the mean
of the account's posts *of the same media type* within the middle 50% of their interactions
(25th to 75th percentile, so neither flops nor viral hits set the bar); the score is
``actual / expected`` when at or above it and ``-expected / actual`` below it (so 2.0 means
twice the usual, -2.0 half). CrowdTangle uses the account's last 100 posts before each post;
here the baseline is the account's posts of that type in the whole evaluation period (one
baseline per account and type, the same on every backend).

**Flags** (per account, from the cube; a flagged nominee is shown with its flags, never
dropped):

- ``engagement_above_audience``: 5% or more of its rated posts got more interactions than the
  account had followers.
- ``like_comment_ratio``: its likes per comment are more than 4× (or less than ¼ of) the median
  of its stratum (platform × cluster): the pattern of bought likes.
- ``engagement_spikes``: at least 3 weeks, and 10% of its active weeks, in which interactions
  per post exceeded 5× the account's median week: bursts its history does not explain.
Accounts with fewer than 10 original posts are not judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import numpy as np
import pyarrow as pa

from govsocial.metrics.facts import post_facts

MIN_POSTS = 10
TOP_POSTS = 3


def account_flags(cube: pa.Table) -> dict[int, list[dict[str, Any]]]:
    col = {n: cube.column(n).to_numpy(zero_copy_only=False) for n in cube.column_names}
    keep = ~col["is_repost"].astype(bool)
    col = {k: v[keep] for k, v in col.items()}
    accounts, inverse = np.unique(col["account_id"], return_inverse=True)

    def total(name: str) -> Any:
        return np.bincount(inverse, weights=col[name].astype(float), minlength=len(accounts))

    n, rated = total("n"), total("n_rated")
    above, likes, comments = total("n_above_audience"), total("likes"), total("comments")
    first = np.unique(inverse, return_index=True)[1]
    stratum = np.char.add(col["platform"][first].astype(str), "|" + col["cluster_id"][first])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(comments > 0, likes / np.maximum(comments, 1), np.inf)
    flags: dict[int, list[dict[str, Any]]] = {}

    def flag(i: Any, name: str, detail: str) -> None:
        flags.setdefault(int(accounts[i]), []).append({"flag": name, "detail": detail})

    for s in np.unique(stratum):
        rows = np.flatnonzero((stratum == s) & (n >= MIN_POSTS))
        finite = ratio[rows][np.isfinite(ratio[rows])]
        median = float(np.median(finite)) if len(finite) else float("nan")
        for i in rows:
            if rated[i] and above[i] / rated[i] >= 0.05:
                flag(
                    i,
                    "engagement_above_audience",
                    f"{int(above[i])} of {int(rated[i])} posts got more interactions than "
                    "the account had followers",
                )
            if median > 0 and (ratio[i] > 4 * median or ratio[i] < median / 4):
                shown = "no comments" if not np.isfinite(ratio[i]) else f"{ratio[i]:.1f}"
                flag(
                    i,
                    "like_comment_ratio",
                    f"{shown} likes per comment against a median of {median:.1f} for "
                    f"{s.replace('|', ' accounts in cluster ')}",
                )
    _spikes(col, inverse, accounts, n, flag)
    return flags


def _spikes(col: dict[str, Any], inverse: Any, accounts: Any, n: Any, flag: Any) -> None:
    weeks = np.rec.fromarrays([inverse, col["week"]])
    keys, week_of = np.unique(weeks, return_inverse=True)
    posts = np.bincount(week_of, weights=col["n"].astype(float))
    inter = np.bincount(week_of, weights=col["interactions"].astype(float))
    per_post = inter / np.maximum(posts, 1)
    for i in np.flatnonzero(n >= MIN_POSTS):
        mine = per_post[(keys["f0"] == i) & (posts > 0)]
        if len(mine) == 0:
            continue
        typical = float(np.median(mine))
        spikes = int((mine > 5 * typical).sum()) if typical > 0 else 0
        if spikes >= 3 and spikes >= 0.1 * len(mine):
            flag(
                i,
                "engagement_spikes",
                f"{spikes} of {len(mine)} active weeks above 5× its median week "
                f"({typical:.0f} interactions per post)",
            )


def top_posts(backend: Any, m: Any, account_ids: Sequence[int], cube: pa.Table) -> pa.Table:
    """Top posts per (account, media type) by overperformance, for the given accounts.

    Within one (account, media type) the baseline is one number, so the top posts by
    overperformance are the top posts by interactions. They are all at or above the third
    largest of the cube's weekly maxima, which cuts the candidates to a handful per group
    before anything is sorted.
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
    actual = scored.interactions.cast("float64")
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
        "interactions",
        "engagement_rate",
        "expected",
        "overperformance",
    )
    result: pa.Table = backend.to_arrow(top.order_by(["account_id", "media_type", "post_id"]))
    return result


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
    rows = [(a, t, int(sorted(v, reverse=True)[:TOP_POSTS][-1])) for (a, t), v in floors.items()]
    return pa.table(
        {
            "account_id": pa.array([r[0] for r in rows], pa.int64()),
            "media_type": pa.array([r[1] for r in rows], pa.string()),
            "floor": pa.array([r[2] for r in rows], pa.int64()),
        }
    )
