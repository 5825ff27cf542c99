"""The columns of the exports: machine name and type, and what people read about each.

A :class:`Column`'s machine name and Arrow type are what the CSV and Parquet files hold; its
header (the workbook's) and description (the readme's) are English, marked with ``_`` for the
``exports`` catalogue (locales/id/exports.po) and translated where they are shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from govsocial.reports.i18n import N_ as _  # marked here, translated where shown

# Excel number formats of the workbook: the cell holds the number, Excel shows it in the
# reader's locale (1.234 and 12,3% in Indonesian)
COUNT, DECIMAL, SCORE, SHARE, RATE = "#,##0", "#,##0.00", "0.000", "0.0%", "0.00%"
STR, INT, FLOAT = pa.string(), pa.int64(), pa.float64()

# Short names of the catalogue's metrics (govsocial/metrics/catalogue.py), for the headers
METRIC_LABELS = {
    "posts_per_week": _("Posts per week"),
    "active_weeks_share": _("Share of active weeks"),
    "engagement_rate": _("Engagement rate"),
    "engagement_rate_raw": _("Engagement rate without shrinkage"),
    "interactions_per_post": _("Interactions per post"),
    "view_rate": _("View rate"),
    "follower_growth": _("Follower growth"),
    "theme_share": _("Share of theme posts"),
    "theme_engagement_rate": _("Engagement rate of theme posts"),
    "collaboration_mention_share": _("Share of posts mentioning another institution"),
    "shared_hashtag_share": _("Share of posts with a shared hashtag"),
    "bonson_p1": _("Bonsón P1 (posts liked)"),
    "bonson_p2": _("Bonsón P2 (likes per post)"),
    "bonson_p3": _("Bonsón P3 (likes per post per 1,000 followers)"),
    "bonson_c1": _("Bonsón C1 (posts commented)"),
    "bonson_c2": _("Bonsón C2 (comments per post)"),
    "bonson_c3": _("Bonsón C3 (comments per post per 1,000 followers)"),
    "bonson_v1": _("Bonsón V1 (posts shared)"),
    "bonson_v2": _("Bonsón V2 (shares per post)"),
    "bonson_v3": _("Bonsón V3 (shares per post per 1,000 followers)"),
    "bonson_e": _("Bonsón E (P3 + C3 + V3)"),
}


@dataclass(frozen=True)
class Column:
    """A column of an export: its machine name and Arrow type, its workbook header and readme
    description (English; ``{metric}`` and ``{name}`` filled for a percentile column), and
    the Excel number format it is shown with."""

    name: str
    kind: pa.DataType
    label: str
    about: str
    shown: str | None = None
    metric: str | None = None


def percentile(metric: str) -> Column:
    """The column of a component metric's percentile, platforms combined."""
    return Column(
        f"percentile_{metric}",
        FLOAT,
        _("Percentile: {metric}"),
        _(
            "0–1: the unit's percentile of {metric} ({name}) among the cluster's eligible "
            "units, platforms combined; empty: not scored in this category."
        ),
        SHARE,
        metric,
    )


C = Column
CATEGORY = C("category", STR, _("Category"), _("The category's id (in the workbook: its title)."))
CLUSTER_ID = C("cluster_id", STR, _("Cluster ID"), _("The cluster's id."))
CLUSTER = C("cluster_name", STR, _("Cluster"), _("The cluster's name."))
RANK = C("rank", INT, _("Rank"), _("Position among the cluster's eligible units, 1 = best."))
INSTITUTION_ID = C("institution_id", STR, _("Institution ID"), _("The institution's id."))
INSTITUTION = C("institution_name", STR, _("Institution"),
                _("The institution (of an account: its owner)."))  # fmt: skip
REGION = C("region", STR, _("Region"), _("The institution's region."))

# a unit of a category: an institution, or an account (then its owner is the institution)
UNIT_ACCOUNT = C("account_id", INT, _("Account ID"), _("Account units only: the account's id."))
UNIT_PLATFORM = C("platform", STR, _("Platform"), _("Account units only: the account's platform."))
UNIT_HANDLE = C("handle", STR, _("Account"), _("Account units only: the account's handle."))
UNIT_SCORE = C("score", FLOAT, _("Score"),
               _("0–1: the weighted mean of the component percentiles."), SCORE)  # fmt: skip
UNIT_POSTS = C("posts", INT, _("Posts"), _("Original posts (reposts excluded) in the period, on "
               "the unit's eligible platforms."), COUNT)  # fmt: skip
UNIT_FOLLOWERS = C("followers", INT, _("Followers"), _("Followers at the period's last reading, "
                   "on the unit's eligible platforms."), COUNT)  # fmt: skip
UNIT_INTERACTIONS = C("interactions", INT, _("Interactions"), _("Interactions with the posts of "
                      "the period, on the unit's eligible platforms."), COUNT)  # fmt: skip

# an account's or an institution's totals over the period
POSTS = C("posts", INT, _("Posts"), _("Original posts (reposts excluded) in the period."), COUNT)
REPOSTS = C("reposts", INT, _("Reposts"), _("Reposts in the period."), COUNT)
INTERACTIONS = C("interactions", INT, _("Interactions"),
                 _("Interactions with the original posts."), COUNT)  # fmt: skip
LIKES = C("likes", INT, _("Likes"), _("Likes of the original posts."), COUNT)
COMMENTS = C("comments", INT, _("Comments"), _("Comments on the original posts."), COUNT)
SHARES = C("shares", INT, _("Shares"), _("Shares of the original posts."), COUNT)
RATED = C("rated_posts", INT, _("Posts with known followers"), _("Original posts whose "
          "account's followers at posting time are known."), COUNT)  # fmt: skip
ENGAGEMENT = C("engagement_rate", FLOAT, _("Engagement rate"), _("Mean over those posts of "
               "interactions ÷ followers at posting time (not shrunk); empty: no such post."),
               RATE)  # fmt: skip
PER_WEEK = C("posts_per_week", FLOAT, _("Posts per week"),
             _("Original posts ÷ weeks in the period (rounded up)."), DECIMAL)  # fmt: skip


def nominees(metrics: list[str]) -> tuple[Column, ...]:
    return (
        CATEGORY, CLUSTER_ID, CLUSTER, RANK,
        C("status", STR, _("Status"), _("nominated, or held for review (see reason).")),
        INSTITUTION_ID, INSTITUTION, UNIT_ACCOUNT, UNIT_PLATFORM, UNIT_HANDLE, UNIT_SCORE,
        *(percentile(metric) for metric in metrics),
        UNIT_POSTS, UNIT_FOLLOWERS, UNIT_INTERACTIONS,
        C("stability", FLOAT, _("Stability"), _("0–1: the share of resampled years in which the "
          "unit is a nominee (how sure its place is)."), SHARE),
        C("rank_best", INT, _("Rank range: best"),
          _("The 2.5% percentile of its rank over the resampled years.")),
        C("rank_worst", INT, _("Rank range: worst"),
          _("The 97.5% percentile of its rank over the resampled years.")),
        C("severe_flags", INT, _("Severe flags"), _("Severe flags on the unit's accounts.")),
        C("flags", STR, _("Flags"), _("Every flag on the unit's accounts: flag (severity), "
          "platform and account, what was seen (in English, as the engine wrote it). Separated "
          "by semicolons.")),
        C("reason", STR, _("Reason held"),
          _("Why the unit is held for review (in English, as the engine wrote it).")),
        C("theme_posts", INT, _("Theme posts"),
          _("Themed categories: the unit's posts the theme matched."), COUNT),
        C("theme_terms", STR, _("Theme terms"), _("Themed categories: the terms that matched "
          "most of those posts, with their posts.")),
    )  # fmt: skip


def leaderboards(metrics: list[str]) -> tuple[Column, ...]:
    return (
        CATEGORY, CLUSTER_ID, RANK,
        C("status", STR, _("Status"), _("nominated; held for review (a severe flag on one of "
          "its accounts: the next unit takes its place); empty: neither.")),
        C("unit", STR, _("Unit"), _("The unit's key: the institution's id, or the account's id "
          "for account units.")),
        INSTITUTION_ID, INSTITUTION, UNIT_ACCOUNT, UNIT_PLATFORM, UNIT_HANDLE, UNIT_SCORE,
        *(percentile(metric) for metric in metrics),
        UNIT_POSTS, UNIT_FOLLOWERS, UNIT_INTERACTIONS,
        C("platforms", INT, _("Eligible platforms"), _("The unit's eligible platforms.")),
    )  # fmt: skip


INSTITUTIONS = (
    INSTITUTION_ID, INSTITUTION, CLUSTER_ID, CLUSTER, REGION,
    C("accounts", INT, _("Number of accounts"), _("Its registered accounts."), COUNT),
    C("platforms", INT, _("Number of platforms"), _("Platforms it has accounts on."), COUNT),
    C("followers", INT, _("Followers"), _("Followers of its accounts, summed (each at its last "
      "reading up to the period's end); empty: no reading."), COUNT),
    POSTS, REPOSTS, INTERACTIONS, LIKES, COMMENTS, SHARES, RATED, ENGAGEMENT,
    C("active_weeks", INT, _("Active weeks"),
      _("Weeks of the period with an original post on any of its accounts."), COUNT),
    PER_WEEK,
    C("nominations", INT, _("Number of nominations"),
      _("Categories in which it has a nominee (results: champion standings)."), COUNT),
)  # fmt: skip

ACCOUNTS = (
    C("account_id", INT, _("Account ID"), _("The account's id.")),
    INSTITUTION_ID, INSTITUTION, CLUSTER_ID, CLUSTER, REGION,
    C("platform", STR, _("Platform"), _("The account's platform.")),
    C("handle", STR, _("Account"), _("The account's handle.")),
    C("display_name", STR, _("Display name"), _("The account's display name.")),
    C("followers", INT, _("Followers"),
      _("Followers at the last reading up to the period's end; empty: no reading."), COUNT),
    POSTS, REPOSTS, INTERACTIONS, LIKES, COMMENTS, SHARES, RATED, ENGAGEMENT,
    C("active_weeks", INT, _("Active weeks"),
      _("Weeks of the period with an original post."), COUNT),
    PER_WEEK,
)  # fmt: skip
