"""The metric formulas of a unit (an institution or an account on one platform), from the
sums of its posts (the cube, grouped by :mod:`govsocial.awards.units`).

Each formula is written once here, with its source:

- ``posts_per_week``, ``active_weeks_share``: activity over the methodology's period (weeks
  counted from its start, in whole weeks).
- ``engagement_rate_raw``: mean per-post engagement rate, interactions / followers at posting
  time (Bonsón & Ratkai 2013; CrowdTangle's "interaction rate" is the same ratio).
- ``engagement_rate``: the same, shrunk toward its stratum by empirical Bayes on log rates
  (Morris 1983; :mod:`govsocial.metrics.shrinkage`).
- ``interactions_per_post``, ``view_rate`` (views / followers per video post).
- ``follower_growth``: followers at the period's end / at its start − 1.
- ``bonson_*``: Bonsón & Ratkai (2013), "A set of metrics to assess stakeholder engagement
  and social legitimacy on a corporate Facebook page", Online Information Review 37(5):
  popularity (p1 % of posts liked, p2 likes per post, p3 per 1000 fans), commitment (c1–c3,
  comments), virality (v1–v3, shares) and engagement e = p3 + c3 + v3.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from govsocial.metrics.facts import WEEK_SECONDS
from govsocial.metrics.shrinkage import shrink

Array = NDArray[Any]


class Period(Protocol):
    period_start: datetime
    period_end: datetime


def weeks_in_period(m: Period) -> int:
    seconds = (m.period_end - m.period_start).total_seconds()
    return int(np.ceil(seconds / WEEK_SECONDS))


def unit_metrics(
    s: dict[str, Array],
    c: dict[str, Array],
    *,
    platform: Array,
    cluster: Array,
    weeks: int,
    epsilon: float,
    has_theme: bool,
) -> tuple[dict[str, Array], list[str]]:
    """Every metric of each unit row. ``s``: the summed cube columns; ``c``: the unit's
    ``posts``, ``active_weeks``, ``followers`` (at the period's end) and ``followers_first``.
    Returns the metric columns and notes on what could not be computed as intended."""
    notes: list[str] = []
    out: dict[str, Array] = {}
    out["posts_per_week"] = s["n"] / weeks
    out["active_weeks_share"] = c["active_weeks"] / weeks
    out["engagement_rate_raw"] = _ratio(s["sum_rate"], s["n_rated"])
    out["engagement_rate"] = _shrunk(s, "", platform, cluster, epsilon, notes)
    out["interactions_per_post"] = _ratio(s["interactions"], s["n"])
    out["view_rate"] = _ratio(s["sum_view_rate"], s["n_viewed"])
    out["follower_growth"] = _ratio(c["followers"], c["followers_first"]) - 1.0
    if has_theme:
        out["theme_share"] = _ratio(s["theme_n"], s["n"])
        out["theme_engagement_rate"] = _shrunk(s, "theme_", platform, cluster, epsilon, notes)
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


def _ratio(num: Array, den: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _shrunk(
    s: dict[str, Array],
    prefix: str,
    platform: Array,
    cluster: Array,
    epsilon: float,
    notes: list[str],
) -> Array:
    """Shrunk engagement rate per row, strata = platform × cluster."""
    out = np.full(len(platform), np.nan)
    strata = np.rec.fromarrays([platform, cluster])
    for stratum in np.unique(strata):
        rows = np.flatnonzero(strata == stratum)
        result = shrink(
            s[prefix + "n_rated"][rows].astype(np.int64),
            s[prefix + "sum_log"][rows],
            s[prefix + "sum_log2"][rows],
        )
        out[rows] = np.maximum(np.exp(result.log_rate) - epsilon, 0.0)
        if np.isnan(result.prior_variance) and np.any(s[prefix + "n_rated"][rows] > 0):
            notes.append(
                f"{prefix}engagement_rate not shrunk in stratum "
                f"{stratum[0]} × {stratum[1]}: fewer than 3 units with rated posts"
            )
    return out
