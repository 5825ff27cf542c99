"""The metric formulas of a unit (an institution or an account on one platform), from the
sums of its posts (the cube, grouped by :mod:`govsocial.awards.units`).

Each formula is written once here, with its source:

- ``posts_per_week``, ``active_weeks_share``: activity over the methodology's period (weeks
  counted from its start, in whole weeks).
- ``engagement_rate_raw``: mean per-post engagement rate, interactions / followers at posting
  time (Bonsón & Ratkai 2013; CrowdTangle's "interaction rate" is the same ratio).
- ``engagement_rate``: the unit's *typical* engagement rate by a two-part model, each part
  shrunk toward its stratum by empirical Bayes (:func:`typical_rates`; Morris 1983, Efron &
  Morris 1975, :mod:`govsocial.metrics.shrinkage`):

      engagement_rate = p~ × exp(y~)

  ``p~``: the shrunk share of the unit's rated posts with any interaction; ``y~``: the shrunk
  mean log rate of those posts. This is the delta-lognormal model of Aitchison (1955), "On
  the distribution of a positive random variable having a discrete probability mass at the
  origin", JASA 50(271), 901-908: a post gets no interaction with probability 1 − p, else a
  log-normal rate. Its mean p·exp(mu + s²/2) differs from p·exp(mu) only by the factor
  exp(s²/2) of the stratum's pooled log variance, the same for every unit of the stratum, so
  within a stratum (where percentiles are taken) both rank alike; the value shown is the
  *typical* (geometric-mean) form, which no single viral post dominates. No constant is added
  to a zero rate: multiplying every rate by c multiplies every unit's value by c.
- ``interactions_per_post``, ``view_rate`` (views / followers per video post).
- ``collaboration_mention_share``: share of the unit's posts that @mention an account of
  another registered institution; ``shared_hashtag_share``: share that carry a hashtag another
  registered institution also used in the period (post facts ``mentions_other`` and
  ``shared_hashtag``, :func:`govsocial.metrics.facts.collaboration`). Shares, not counts:
  a post mentioning ten institutions counts once, and posting more does not raise them.
- ``follower_growth``: followers at the period's end / at its start − 1, only where both
  readings are near the period's bounds (:func:`follower_growth`); else no value.
- ``bonson_*``: Bonsón & Ratkai (2013), "A set of metrics to assess stakeholder engagement
  and social legitimacy on a corporate Facebook page", Online Information Review 37(5):
  popularity (p1 % of posts liked, p2 likes per post, p3 per 1000 fans), commitment (c1–c3,
  comments), virality (v1–v3, shares) and engagement e = p3 + c3 + v3.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from govsocial.metrics.facts import WEEK_SECONDS
from govsocial.metrics.scope import Scope
from govsocial.metrics.shrinkage import Shrunk, shrink_log_means, shrink_shares
from govsocial.words import count

Array = NDArray[Any]

# Units whose posts the prior is estimated from when the caller does not say which units are
# eligible: the smallest min_posts of the shipped gsm2025 categories.
DEFAULT_PRIOR_MIN_POSTS = 12
# Follower growth needs a reading within this many days of each end of the period (at most a
# quarter of the period, so the two readings always span at least half of it).
GROWTH_TOLERANCE_DAYS = 45.0


def weeks_in_period(m: Scope) -> int:
    seconds = (m.period_end - m.period_start).total_seconds()
    return int(np.ceil(seconds / WEEK_SECONDS))


def growth_tolerance_days(weeks: int) -> float:
    """How far (days) a follower reading may be from the period's start or end."""
    return min(GROWTH_TOLERANCE_DAYS, weeks * 7 / 4)


def unit_metrics(
    s: dict[str, Array],
    c: dict[str, Array],
    *,
    platform: Array,
    cluster: Array,
    weeks: int,
    has_theme: bool,
    eligible: Array | None = None,
) -> tuple[dict[str, Array], list[str]]:
    """Every metric of each unit row.

    ``s``: the summed cube columns (:data:`govsocial.metrics.cube.SUMS`, and ``theme_`` + each
    when ``has_theme``). ``c``: the unit's ``posts``, ``active_weeks``, ``followers`` (at the
    period's end) and ``followers_first``; optionally ``followers_first_gap_days`` and
    ``followers_last_gap_days``, per row the largest distance in days, over the unit's accounts,
    between the period's start (end) and the follower reading used for it (NaN or inf: an
    account without such a reading). Without them follower growth cannot be checked and is
    computed from the two sums as they are.

    ``eligible``: the rows that meet the category's eligibility minimums; the shrinkage prior
    of each stratum is estimated from them alone and then applied to every row. Default: rows
    with at least :data:`DEFAULT_PRIOR_MIN_POSTS` posts.

    Returns the metric columns and notes on what could not be computed as intended.
    """
    fit = (
        np.asarray(c["posts"]) >= DEFAULT_PRIOR_MIN_POSTS
        if eligible is None
        else np.asarray(eligible, dtype=bool)
    )
    notes: list[str] = []
    out: dict[str, Array] = {}
    out["posts_per_week"] = s["n"] / weeks
    out["active_weeks_share"] = c["active_weeks"] / weeks
    out["engagement_rate_raw"] = _ratio(s["sum_rate"], s["n_rated"])
    out["engagement_rate"] = typical_rates(s, "", platform, cluster, fit, notes)
    out["interactions_per_post"] = _ratio(s["interactions"], s["n"])
    out["view_rate"] = _ratio(s["sum_view_rate"], s["n_viewed"])
    out["collaboration_mention_share"] = _ratio(s["n_mentions_other"], s["n"])
    out["shared_hashtag_share"] = _ratio(s["n_shared_hashtag"], s["n"])
    out["follower_growth"] = follower_growth(
        c["followers_first"],
        c["followers"],
        c.get("followers_first_gap_days"),
        c.get("followers_last_gap_days"),
        growth_tolerance_days(weeks),
    )
    if has_theme:
        out["theme_share"] = _ratio(s["theme_n"], s["n"])
        out["theme_engagement_rate"] = typical_rates(s, "theme_", platform, cluster, fit, notes)
    per_1000_fans = 1000.0 / np.where(c["followers"] > 0, c["followers"], np.nan)
    for letter, total, flag in (
        ("p", "likes", "n_liked"),
        ("c", "comments", "n_commented"),
        ("v", "shares", "n_shared"),
    ):
        out[f"bonson_{letter}1"] = 100.0 * _ratio(s[flag], s["n"])
        out[f"bonson_{letter}2"] = _ratio(s[total], s["n"])
        out[f"bonson_{letter}3"] = out[f"bonson_{letter}2"] * per_1000_fans
    out["bonson_e"] = out["bonson_p3"] + out["bonson_c3"] + out["bonson_v3"]
    return out, notes


def follower_growth(
    first: Array,
    last: Array,
    first_gap_days: Array | None,
    last_gap_days: Array | None,
    tolerance_days: float,
) -> Array:
    """last / first − 1 where both readings are within ``tolerance_days`` of the period's
    start and end; NaN (no value) elsewhere. A single reading used as both start and end
    cannot pass for a period longer than twice the tolerance: growth 0.0 was a made-up figure.
    """
    growth = _ratio(np.asarray(last, dtype=float), np.asarray(first, dtype=float)) - 1.0
    if first_gap_days is None or last_gap_days is None:
        return growth
    with np.errstate(invalid="ignore"):
        near = (np.asarray(first_gap_days, dtype=float) <= tolerance_days) & (
            np.asarray(last_gap_days, dtype=float) <= tolerance_days
        )
    result: Array = np.where(near, growth, np.nan)
    return result


def _ratio(num: Array, den: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def typical_rates(
    s: dict[str, Array],
    prefix: str,
    platform: Array,
    cluster: Array,
    fit: Array,
    notes: list[str],
) -> Array:
    """The two-part engagement rate per row, shrunk within strata (platform × cluster); the
    prior of each part is estimated from the ``fit`` rows of the stratum. NaN for a row with no
    rated post."""
    metric = f"{prefix}engagement_rate"
    out = np.full(len(platform), np.nan)
    strata = np.rec.fromarrays([platform, cluster])
    for stratum in np.unique(strata):
        rows = np.flatnonzero(strata == stratum)
        rated = s[prefix + "n_rated"][rows].astype(np.int64)
        positive = s[prefix + "n_positive"][rows].astype(np.int64)
        share = shrink_shares(rated, positive.astype(float), fit[rows])
        logs = shrink_log_means(
            positive,
            s[prefix + "sum_log_positive"][rows].astype(float),
            s[prefix + "sum_log2_positive"][rows].astype(float),
            fit[rows],
        )
        # A unit whose posts all got no interaction has no positive rate of its own: the prior
        # mean stands in for it (its share, near 0, carries the evidence).
        log_typical = np.where((rated > 0) & (positive == 0), logs.prior.mean, logs.estimate)
        with np.errstate(invalid="ignore", over="ignore"):
            value = np.where(share.estimate == 0, 0.0, share.estimate * np.exp(log_typical))
        out[rows] = np.where(rated > 0, value, np.nan)
        label = f"{stratum[0]} × {stratum[1]}"
        notes += _notes(metric, label, logs)
    return out


def _notes(metric: str, stratum: str, logs: Shrunk) -> list[str]:
    """What happened to the shrinkage of one stratum, in words: nothing when it simply worked,
    or when no unit of the stratum is eligible (nothing there is ranked). The share part needs
    no note of its own: it has at least the units of the log part (every unit with a positive
    rate has a rated post) and its sampling variance 1/(4n) is never 0."""
    prior = logs.prior
    units = count(prior.units, "eligible unit")
    if prior.status == "too_few_units":
        if prior.units == 0:
            return []
        return [
            f"{metric} not shrunk in {stratum}: only {units} with interactions on their posts; "
            "estimating the prior needs at least 4."
        ]
    if prior.status == "no_repeated_posts":
        return [
            f"{metric} not shrunk in {stratum}: no eligible unit has two posts with "
            "interactions, so the noise of a unit's mean cannot be measured."
        ]
    if prior.status == "no_sampling_noise":
        return [
            f"{metric} not shrunk in {stratum}: every post of each eligible unit has the same "
            "rate, so there is no sampling noise to correct."
        ]
    if prior.variance == 0.0:
        return [
            f"{metric} in {stratum}: the {units} differ no more than their sampling noise "
            f"(τ² = 0), so every rate keeps the same fraction 2/(k − 1) = "
            f"{2 / (prior.units - 1):.2g} of its distance to the stratum's mean and the order "
            "is that of the unshrunk rates."
        ]
    return []
