"""Interactions per post, under a versioned definition per platform.

A platform's "interactions" are the public reactions of people to a post. Views are kept
apart (they are reach, not engagement). Each definition is versioned: a methodology names the
version it uses (``interactions_version``), so a change here never silently changes an old
result. Missing parts (a count the platform or the file did not give) count as 0.

Version 1:

=========  ============================================================  ==========================
platform   interactions                                                  source
=========  ============================================================  ==========================
facebook   reactions (all types; Like alone if reactions unknown)         CrowdTangle "Total
           + comments + shares                                           Interactions"
instagram  likes + comments (+ saves where known)                        Graph API media insights
x          likes + reposts (shares) + replies (comments) + quotes         X API v2 public_metrics
           (+ bookmarks (saves) where known)
youtube    likes + comments                                              Data API v3 statistics
tiktok     likes + comments + shares                                     Research API video fields
=========  ============================================================  ==========================

Reposts of other accounts' posts (X retweets, shares) carry the original's counts; they are
excluded from engagement by the callers (``is_repost``), not here.
"""

from __future__ import annotations

from typing import Any

import ibis

from govsocial.errors import MethodologyError

DEFINITIONS: dict[int, dict[str, tuple[str, ...]]] = {
    1: {
        "facebook": ("reactions_or_likes", "comments", "shares"),
        "instagram": ("likes", "comments", "saves"),
        "x": ("likes", "shares", "comments", "quotes", "saves"),
        "youtube": ("likes", "comments"),
        "tiktok": ("likes", "comments", "shares"),
    }
}


def interactions(t: Any, version: int) -> Any:
    """Ibis expression: interactions of each row of ``t`` (needs platform and the counts)."""
    if version not in DEFINITIONS:
        raise MethodologyError(
            f"interactions_version {version} is unknown; known versions: "
            f"{', '.join(map(str, DEFINITIONS))}."
        )
    parts = {
        "reactions_or_likes": t.reactions.fill_null(t.likes).fill_null(0),
        **{c: t[c].fill_null(0) for c in ("likes", "comments", "shares", "quotes", "saves")},
    }
    branches = [
        (t.platform == platform, _sum([parts[p] for p in names]))
        for platform, names in DEFINITIONS[version].items()
    ]
    return ibis.cases(*branches, else_=ibis.null("int64")).cast("int64")


def _sum(values: list[Any]) -> Any:
    total = values[0]
    for value in values[1:]:
        total = total + value
    return total
