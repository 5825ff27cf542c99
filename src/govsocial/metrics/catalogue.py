"""The catalogue of metrics: every metric a methodology may name, with its data and citation.

A methodology's ``components`` name metrics from :data:`METRICS`; validation
(:mod:`govsocial.awards.methodology`) refuses any other name, and each formula is written once
in :mod:`govsocial.metrics.formulas` with the same citation. The catalogue is plain data (no
Ibis, no NumPy): the command line reads it when it starts. docs/methodology.md lists the same
rows for people; tests/awards/test_methodology.py checks that every metric here is there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["COLLABORATION_METRICS", "METRICS", "MetricInfo"]


@dataclass(frozen=True)
class MetricInfo:
    """A metric the engine computes: its unit ("institution", "account" or "both"), what it
    measures and the data and citation it rests on."""

    name: str
    unit: Literal["institution", "account", "both"]
    description: str
    source: str


_POSTS = "posts: original posts only (reposts excluded)"
_RATE = "posts: interactions; account_snapshots: followers at posting time"
_MORRIS = f"{_RATE}; shrinkage: Morris (1983), JASA 78(381)"
_BONSON = "Bonsón & Ratkai (2013), Online Information Review 37(5)"
_COLLABORATION = "posts: mentions; accounts: handles of the registry's institutions"
# name: (description, source); every metric works per institution and per account ("both").
_METRIC_ROWS = {
    "posts_per_week": ("original posts ÷ weeks in the period (rounded up)", _POSTS),
    "active_weeks_share": ("share of the period's weeks with ≥ 1 original post", _POSTS),
    "engagement_rate": ("typical interactions ÷ followers, shrunk toward its stratum", _MORRIS),
    "engagement_rate_raw": ("mean interactions ÷ followers, without shrinkage", _RATE),
    "interactions_per_post": ("mean interactions per post", _RATE),
    "view_rate": ("mean views ÷ followers over posts with a view count", f"posts: views; {_RATE}"),
    "follower_growth": ("followers at period end ÷ at period start − 1", "account_snapshots"),
    "theme_share": ("share of posts matching the category's theme", "posts: text"),
    "theme_engagement_rate": ("engagement_rate over the theme's posts only", _MORRIS),
    "collaboration_mention_share": (
        "share of posts @mentioning an account of another registered institution",
        _COLLABORATION,
    ),
    "shared_hashtag_share": (
        "share of posts with a hashtag another registered institution used in the period",
        "posts: hashtags; accounts, institutions: the registry",
    ),
    "bonson_p1": ("P1: % of posts with ≥ 1 like", _BONSON),
    "bonson_p2": ("P2: likes per post", _BONSON),
    "bonson_p3": ("P3: P2 ÷ followers (period end) × 1000", _BONSON),
    "bonson_c1": ("C1: % of posts with ≥ 1 comment", _BONSON),
    "bonson_c2": ("C2: comments per post", _BONSON),
    "bonson_c3": ("C3: C2 ÷ followers (period end) × 1000", _BONSON),
    "bonson_v1": ("V1: % of posts shared ≥ once", _BONSON),
    "bonson_v2": ("V2: shares per post", _BONSON),
    "bonson_v3": ("V3: V2 ÷ followers (period end) × 1000", _BONSON),
    "bonson_e": ("E: P3 + C3 + V3", _BONSON),
}
METRICS: dict[str, MetricInfo] = {
    name: MetricInfo(name, "both", description, source)
    for name, (description, source) in _METRIC_ROWS.items()
}
# The metrics read from the collaboration sums of the cube (metrics/cube.py,
# ``COLLABORATION_SUMS``), which a pass counts only when asked (``collaborations``).
COLLABORATION_METRICS = ("collaboration_mention_share", "shared_hashtag_share")
