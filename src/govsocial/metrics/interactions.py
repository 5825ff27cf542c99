"""Interactions and views per post, under a versioned definition per platform.

A platform's "interactions" are the public reactions of people to a post; its "views" are the
plays of a video. Views are kept apart (they are reach, not engagement). Each definition is
versioned: a methodology names the version it uses (``interactions_version``), so a change
here never silently changes an old result. Counts are DOUBLE from here on: a sum of counts
never overflows (a BIGINT sum of five counts near 2^63 did, on DuckDB and on Spark), and every
whole number below 2^53 (9 × 10^15, far above any real post) is exact, so sums of plausible
counts are exact and the same on every engine, whatever the order of summation.

**Version 1** (the first definition; kept as it was):

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

A part the file did not give counts as 0; views are the ``views`` column as loaded, on every
post. So two accounts of one stratum could be measured differently depending on the file they
came from: Instagram saves and X bookmarks only in some files (the owner's Graph API
insights; X API versions from 2023), X views impressions in some files and video plays in
others.

**Version 2** (comparable within a platform): only the counts *every* source of the platform
gives, and a post with any of them unknown has no interactions (NULL: it counts for activity,
not for rates, as a post without followers does), instead of a 0 that would measure it by a
smaller definition than its stratum:

=========  ===============================================  =====================================
platform   interactions                                     left out, and why
=========  ===============================================  =====================================
facebook   reactions + comments + shares (posts before      Like alone for later posts: a subset
           24 Feb 2016, when Like was the only reaction:    of reactions, given by legacy Graph
           likes when reactions are unknown)                requests only
instagram  likes + comments                                 saves: only in the owner's insights,
                                                            never in public data (CrowdTangle)
x          likes + reposts + replies + quotes               bookmarks: only X API versions from
                                                            2023
youtube    likes + comments                                 (nothing: Data API v3 gives no more)
tiktok     likes + comments + shares                        saves (collects): not in every export
=========  ===============================================  =====================================

Views in version 2 are the plays of ``video`` and ``reel`` posts on Facebook, Instagram,
YouTube and TikTok (every source gives plays for videos; Instagram's Graph ``views`` of an
image and X impressions of a text post are not plays), and **none on X**: the X reader stores
impressions when a file has them and the video's plays otherwise, so the warehouse cannot tell
which an X ``views`` is. X has no comparable view measure until the reader keeps the two apart.

Reposts of other accounts' posts (X retweets, shares) carry the original's counts; they are
excluded from engagement by the callers (``is_repost``), not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

import ibis

from govsocial.errors import MethodologyError

if TYPE_CHECKING:
    from govsocial.compute.backend import Column, Table, Value

# Facebook Reactions launched worldwide on 24 Feb 2016; before it, Like was the only reaction.
REACTIONS_LAUNCH = datetime(2016, 2, 24, tzinfo=UTC)
VIDEO_MEDIA = ("video", "reel")


@dataclass(frozen=True)
class Definition:
    """What a post's interactions and views are, per platform."""

    parts: Mapping[str, tuple[str, ...]]  # platform → the counts summed
    missing: Literal["zero", "unknown"]  # a part not given: counts 0, or no interactions
    views: Mapping[str, tuple[str, ...] | None]  # platform → media types with views; None: all


DEFINITIONS: dict[int, Definition] = {
    1: Definition(
        parts={
            "facebook": ("reactions_or_likes", "comments", "shares"),
            "instagram": ("likes", "comments", "saves"),
            "x": ("likes", "shares", "comments", "quotes", "saves"),
            "youtube": ("likes", "comments"),
            "tiktok": ("likes", "comments", "shares"),
        },
        missing="zero",
        views={p: None for p in ("facebook", "instagram", "x", "youtube", "tiktok")},
    ),
    2: Definition(
        parts={
            "facebook": ("reactions_before_2016_likes", "comments", "shares"),
            "instagram": ("likes", "comments"),
            "x": ("likes", "shares", "comments", "quotes"),
            "youtube": ("likes", "comments"),
            "tiktok": ("likes", "comments", "shares"),
        },
        missing="unknown",
        views={
            "facebook": VIDEO_MEDIA,
            "instagram": VIDEO_MEDIA,
            "x": (),
            "youtube": VIDEO_MEDIA,
            "tiktok": VIDEO_MEDIA,
        },
    ),
}


def definition(version: int) -> Definition:
    if version not in DEFINITIONS:
        raise MethodologyError(
            f"interactions_version {version} is unknown; known versions: "
            f"{', '.join(map(str, DEFINITIONS))}."
        )
    return DEFINITIONS[version]


def interactions(t: Table, version: int) -> Column:
    """Ibis DOUBLE expression: interactions of each row of ``t`` (needs platform and the counts;
    version 2 also posted_at). NULL for a platform the definition does not cover."""
    d = definition(version)
    branches = [
        (t.platform == platform, _sum([_part(t, name, d.missing) for name in names]))
        for platform, names in d.parts.items()
    ]
    return ibis.cases(*branches, else_=ibis.null("float64"))


def views(t: Table, version: int) -> Value:
    """Ibis DOUBLE expression: the views of each row of ``t`` that the definition counts
    (needs platform, media_type and views), else NULL."""
    d = definition(version)
    count = t.views.cast("float64")
    branches = []
    for platform, media in d.views.items():
        if media is None:
            branches.append((t.platform == platform, count))
        elif media:
            counted = ibis.ifelse(t.media_type.isin(list(media)), count, ibis.null("float64"))
            branches.append((t.platform == platform, counted))
    return ibis.cases(*branches, else_=ibis.null("float64")) if branches else ibis.null("float64")


def _part(t: Table, name: str, missing: str) -> Column:
    if name == "reactions_or_likes":
        value = t.reactions.fill_null(t.likes)
    elif name == "reactions_before_2016_likes":
        before = t.posted_at < ibis.literal(REACTIONS_LAUNCH, "timestamp('UTC')")
        value = ibis.ifelse(before, t.reactions.fill_null(t.likes), t.reactions)
    else:
        value = t[name]
    value = value.cast("float64")
    return value.fill_null(0.0) if missing == "zero" else value


def _sum(values: list[Column]) -> Column:
    total = values[0]
    for value in values[1:]:
        total = total + value
    return total
