"""Post facts: one row per post in a methodology's scope, with its engagement measures.

Scope: posts published in ``[period_start, period_end)`` on the methodology's platforms, by
accounts assigned to institutions of its clusters. Counts are the post's latest snapshot, as
DOUBLE (:mod:`govsocial.metrics.interactions` says why: no sum of counts can overflow).

Followers at posting time: the latest follower snapshot captured at or before the post
(Bonsón & Ratkai 2013 divide by the audience a post could reach), if it is at most
``max_follower_gap_days`` (:data:`MAX_FOLLOWER_GAP_DAYS`) before the post; else the next
snapshot, if it is at most that many days after the post; else none. ``followers_source`` says
which: ``before``, ``after``, ``too_far`` (the account has readings, none within the bound) or
``none`` (the account has no reading at all), and ``followers_gap_days`` how far the reading
used (or, for ``too_far``, the nearest one) is from the post. A post without followers at
posting time has no engagement rate (NULL): it counts for activity but not for rates. The
lookup joins each post to the snapshot interval that contains it (:func:`followers_at_post`),
which runs the same on DuckDB and Spark.

Why a bound, and why 90 days: a reading describes the audience near its date only. Without a
bound a post made long before an account's first reading took that later reading, and an
account whose audience grew tenfold in between had its rate divided by ten, unflagged. 90 days
is one quarter: long enough for accounts read monthly or quarterly (collection rounds rarely
come closer), short enough that a government account's audience changes by a small fraction
in between (organic growth of established accounts is a few percent a quarter), so the rate
it gives is the post's, not a different audience's.

Engagement rate of a post = interactions / followers at posting time (a fraction, not %).
How a unit's rates are combined (posts with no interaction included) is in
:mod:`govsocial.metrics.formulas`.

Replies to other accounts (``posts.is_reply_to_other``) are conversation, not original posts:
they are out of scope. NULL (the source cannot tell) counts as an original post.

Collaboration (:func:`collaboration`, added to the facts by the cube when a methodology
scores it): ``mentions_other``, the post @mentions an account of another registered
institution; ``shared_hashtag``, it carries a hashtag another registered institution used in
an original post of the period (:func:`hashtag_users`).

``implausible``: the post's counts cannot describe real people reacting to it (see
:data:`INTERACTIONS_PER_FOLLOWER`, :data:`VIEWS_PER_FOLLOWER`, :data:`MAX_INTERACTIONS`,
:data:`MAX_VIEWS`); :mod:`govsocial.metrics.evidence` turns such posts into a severe flag on
their account.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import ibis

from govsocial.metrics import interactions as definitions
from govsocial.metrics.defaults import MAX_FOLLOWER_GAP_DAYS
from govsocial.metrics.scope import Scope
from govsocial.vocabulary import COUNT_COLUMNS, PLATFORMS

if TYPE_CHECKING:
    from govsocial.compute.backend import Backend, Column, Table

WEEK_SECONDS = 7 * 24 * 3600
DAY_SECONDS = 24 * 3600
TIMESTAMP = "timestamp('UTC')"
_EARLIEST = ibis.literal(datetime(1970, 1, 1, tzinfo=UTC), TIMESTAMP)
_LATEST = ibis.literal(datetime(2200, 1, 1, tzinfo=UTC), TIMESTAMP)

# The default bound between a post and the follower reading it is divided by (see above,
# defined in metrics/defaults.py); a methodology may set its own as ``max_follower_gap_days``.
FOLLOWERS_SOURCES = ("before", "after", "too_far", "none")

# Implausible counts. A post whose interactions exceed this many times the account's followers
# at posting is held for review before it can win anything. Median engagement per post per
# follower is 0.035% on X, 0.06% on Facebook, 0.47% on Instagram and 5.7% on TikTok (Rival IQ,
# 2023 Social Media Industry Benchmark Report, 2022 data; brands with 5,000+ followers).
# 100 times the audience is 20,000 (Instagram) to 300,000 (X) times the median post: beyond
# the viral hits of small accounts the sector shows, so either the counts are wrong (a parse
# error, bought likes, a wrong account) or the post is extraordinary, and a jury should see it
# before it decides an award. TikTok's feed shows videos mostly to non-followers and its median
# is about 12 times Instagram's: 1,000 times, about 18,000 times its median.
INTERACTIONS_PER_FOLLOWER: dict[str, float] = {
    "facebook": 100.0,
    "instagram": 100.0,
    "x": 100.0,
    "youtube": 100.0,
    "tiktok": 1000.0,
}
# Views are reach, and recommendation feeds (Reels, Shorts, TikTok's For You, X's timeline)
# show posts far beyond the followers: a small account's video seen 1,000 times its audience is
# common. 10,000 times is the bound on every platform.
VIEWS_PER_FOLLOWER = 10_000.0
# Whatever the audience (also when it is unknown): more interactions than there are people
# (8.1 billion, UN World Population Prospects 2024; one like per person at most), or more views
# than ten times the most-viewed video ever (YouTube's "Baby Shark Dance", about 16 billion).
MAX_INTERACTIONS = 1e10
MAX_VIEWS = 1e11


def followers_at_post(
    posts: Table, snapshots: Table, max_gap_days: float = MAX_FOLLOWER_GAP_DAYS
) -> Table:
    """``posts`` (any columns, with account_id and posted_at) + followers_at_post,
    followers_source and followers_gap_days (module docstring).

    Each snapshot covers the time from its capture to the account's next one; the account's
    first snapshot also covers everything before it. A post is joined to the interval that
    contains it, which carries the interval's own reading (at or before the post; after it
    for the first interval) and the next one (after the post). One hash join on the account
    plus a range condition: portable to every backend and, with a few snapshots per account,
    faster on DuckDB than its ASOF JOIN (0.6 s against 2.5 s for 10M posts; a test checks both
    give the same rows). The posts' own columns are carried through: no join back.
    """
    keep = list(posts.columns)
    ordered = ibis.window(group_by=snapshots.account_id, order_by=snapshots.captured_at)
    intervals = snapshots.select(
        s_account=snapshots.account_id,
        s_captured_at=snapshots.captured_at,
        s_followers=snapshots.followers,
        s_from=ibis.ifelse(
            snapshots.captured_at.lag().over(ordered).isnull(), _EARLIEST, snapshots.captured_at
        ),
        s_next_at=snapshots.captured_at.lead().over(ordered),
        s_next_followers=snapshots.followers.lead().over(ordered),
    )
    joined = posts.left_join(
        intervals,
        [
            posts.account_id == intervals.s_account,
            posts.posted_at >= intervals.s_from,
            posts.posted_at < intervals.s_next_at.fill_null(_LATEST),
        ],
    )
    posted = joined.posted_at.epoch_seconds()
    reading = joined.s_captured_at.epoch_seconds()
    before = joined.posted_at >= joined.s_captured_at  # NULL without any reading
    # The reading after the post: the interval's own one for a post before the first reading.
    after_at = ibis.ifelse(before, joined.s_next_at.epoch_seconds(), reading)
    after_followers = ibis.ifelse(before, joined.s_next_followers, joined.s_followers)
    gap_before = ibis.ifelse(before, posted - reading, ibis.null("int64"))
    gap_after = after_at - posted
    bound = int(max_gap_days * DAY_SECONDS)
    use_before = gap_before <= bound
    use_after = ~use_before.fill_null(False) & (gap_after <= bound)
    nearest = ibis.least(gap_before.fill_null(gap_after), gap_after.fill_null(gap_before))
    source = ibis.cases(
        (joined.s_captured_at.isnull(), "none"),
        (use_before, "before"),
        (use_after, "after"),
        else_="too_far",
    )
    gap = ibis.cases(
        (use_before, gap_before),
        (use_after, gap_after),
        else_=nearest,
    )
    return joined.select(
        *keep,
        followers_at_post=ibis.cases(
            (use_before, joined.s_followers),
            (use_after, after_followers),
            else_=ibis.null("int64"),
        ),
        followers_source=source,
        followers_gap_days=gap.cast("float64") / DAY_SECONDS,
    )


def implausible(platform: Column, inter: Column, views: Column, audience: Column) -> Column:
    """Ibis boolean: counts no audience of this size explains (module docstring). Never NULL.

    ``inter`` and ``views`` as the interactions definition counts them (what the metrics
    use); ``audience``: followers at posting, NULL when unknown or 0 (then only the bounds
    that hold whatever the audience apply).
    """
    limit = ibis.cases(
        *((platform == p, INTERACTIONS_PER_FOLLOWER[p]) for p in PLATFORMS),
        else_=min(INTERACTIONS_PER_FOLLOWER.values()),
    )
    tests = (
        inter > MAX_INTERACTIONS,
        views > MAX_VIEWS,
        inter > limit * audience,
        views > VIEWS_PER_FOLLOWER * audience,
    )
    result = tests[0].fill_null(False)
    for test in tests[1:]:
        result = result | test.fill_null(False)
    return result


def post_facts(backend: Backend, m: Scope, account_ids: Sequence[int] | None = None) -> Table:
    """One row per in-scope post with interactions, followers at posting time and rates.

    ``account_ids`` restricts the posts to those accounts before any join (for evidence).
    Follower readings are bounded by the scope's ``max_follower_gap_days``.
    """
    posts = backend.table("posts")
    accounts = backend.table("accounts")
    institutions = backend.table("institutions")
    latest = backend.table("post_metrics_latest")
    snapshots = backend.table("account_snapshots")
    start = ibis.literal(m.period_start, type=TIMESTAMP)
    end = ibis.literal(m.period_end, type=TIMESTAMP)
    scoped = posts.filter(
        posts.posted_at >= start,
        posts.posted_at < end,
        posts.platform.isin(list(m.platforms)),
        # Replies to other accounts are conversation, not original posts (docs/
        # methodology-engine.md §1); NULL: the source could not tell, counted as original.
        ~posts.is_reply_to_other.fill_null(False),
    )
    if account_ids is not None:
        scoped = scoped.filter(scoped.account_id.isin(list(account_ids)))
    owners = accounts.select("account_id", "institution_id").join(
        institutions.select("institution_id", "cluster_id"), "institution_id"
    )
    owners = owners.filter(owners.cluster_id.isin(list(m.clusters)))
    scoped = scoped.join(owners, "account_id")
    counts = latest.select("post_id", *COUNT_COLUMNS)
    facts = followers_at_post(
        scoped.join(counts, "post_id"),
        snapshots.select("account_id", "captured_at", "followers"),
        m.max_follower_gap_days,
    )
    inter = definitions.interactions(facts, m.interactions_version)
    seen = definitions.views(facts, m.interactions_version)
    audience = ibis.ifelse(
        facts.followers_at_post > 0, facts.followers_at_post, ibis.null("int64")
    ).cast("float64")
    rate = inter / audience
    start_epoch = int(m.period_start.timestamp())
    return facts.select(
        "post_id",
        "account_id",
        "institution_id",
        "cluster_id",
        "platform",
        "platform_post_id",
        "url",
        "media_type",
        "is_repost",
        "posted_at",
        "text",
        "hashtags",
        "mentions",
        "followers_at_post",
        "followers_source",
        "followers_gap_days",
        views=seen,
        likes=facts.likes.cast("float64"),
        comments=facts.comments.cast("float64"),
        shares=facts.shares.cast("float64"),
        week=((facts.posted_at.epoch_seconds() - start_epoch) // WEEK_SECONDS).cast("int32"),
        interactions=inter,
        engagement_rate=rate,
        view_rate=seen / audience,
        implausible=implausible(facts.platform, inter, seen, audience),
    )


# ---------------------------------------------------------------- collaboration


def registered_handles(backend: Backend) -> Table:
    """(h_platform, h_handle, h_institution): every account the registry assigns to an
    institution, by its platform and lower-case handle (``accounts.handle_key``, without '@'),
    whatever the institution's cluster."""
    accounts = backend.table("accounts").view()  # joined with the posters' accounts
    registered = backend.table("institutions").view().select(r_institution="institution_id")
    owned = accounts.join(registered, accounts.institution_id == registered.r_institution)
    return owned.select(
        h_platform=owned.platform,
        h_handle=owned.handle_key,
        h_institution=owned.institution_id,
    ).distinct()


def hashtag_users(backend: Backend, m: Scope) -> Table:
    """Per hashtag (``u_tag``) carried in the period by an original post (no repost, no reply
    to another account) on the methodology's platforms of an account of a registered
    institution, whatever its cluster: ``u_users``, how many institutions used it, and
    ``u_first``, the smallest of their ids.

    That is all a post's ``shared_hashtag`` needs (:func:`collaboration`): a tag used by two
    institutions or more is shared with another for every post carrying it; a tag used by one
    only for the posts of other institutions. Read from the whole period whatever weeks a pass
    computes: a campaign tag another institution used in week 40 makes a week-3 post shared.
    """
    used = backend.table("posts")
    used = used.filter(
        used.posted_at >= ibis.literal(m.period_start, type=TIMESTAMP),
        used.posted_at < ibis.literal(m.period_end, type=TIMESTAMP),
        used.platform.isin(list(m.platforms)),
        ~used.is_repost.fill_null(False),
        ~used.is_reply_to_other.fill_null(False),
    )
    # Lists are unnested before any join: Ibis folds a projection of a join into the join.
    used = used.select(u_account=used.account_id, u_tag=used.hashtags.unnest())
    owners = _owners(backend)
    tags = used.join(owners, used.u_account == owners.o_account)
    tags = tags.select("u_tag", institution=tags.o_institution)
    return tags.group_by("u_tag").aggregate(
        u_users=tags.institution.nunique(), u_first=tags.institution.min()
    )


def collaboration(backend: Backend, m: Scope, facts: Table, users: Table | None = None) -> Table:
    """``facts`` (:func:`post_facts`) with two booleans, never NULL:

    - ``mentions_other``: the post @mentions an account that the registry assigns to
      **another** institution, on the post's own platform (a handle names an account on its
      platform only: ``@kemenkes`` on X and on Instagram may be different owners). Its own
      institution's accounts do not count: mentioning one's own second account is not
      working with anybody.
    - ``shared_hashtag``: the post carries a hashtag that at least one other registered
      institution also used in the period (:func:`hashtag_users`; ``users`` is that table,
      by default computed from the backend's posts).

    The mention and hashtag lists of the period's posts are unnested and joined to the
    registry and to ``users``; the facts look their posts up in the result.
    """
    if users is None:
        users = hashtag_users(backend, m)
    posts = backend.table("posts")
    posts = posts.filter(
        posts.posted_at >= ibis.literal(m.period_start, type=TIMESTAMP),
        posts.posted_at < ibis.literal(m.period_end, type=TIMESTAMP),
        posts.platform.isin(list(m.platforms)),
    )
    owners = _owners(backend)
    # Lists are unnested before any join: Ibis folds a projection of a join into the join.
    named = posts.select(
        c_post=posts.post_id,
        c_account=posts.account_id,
        c_platform=posts.platform,
        c_handle=posts.mentions.unnest(),
    )
    handles = registered_handles(backend)
    mentioned = named.join(owners, named.c_account == owners.o_account).join(
        handles,
        [named.c_platform == handles.h_platform, named.c_handle == handles.h_handle],
    )
    mentioned = mentioned.filter(mentioned.h_institution != mentioned.o_institution)
    tagged = posts.select(
        c_post=posts.post_id, c_account=posts.account_id, c_tag=posts.hashtags.unnest()
    )
    shared = tagged.join(owners, tagged.c_account == owners.o_account).join(
        users, tagged.c_tag == users.u_tag
    )
    shared = shared.filter((shared.u_users >= 2) | (shared.u_first != shared.o_institution))
    # IN (subquery): a mark join on each engine, no distinct, no group by the post (a left
    # join of the facts with the posts found, grouped, cost three times as much).
    return facts.mutate(
        mentions_other=facts.post_id.isin(mentioned.c_post),
        shared_hashtag=facts.post_id.isin(shared.c_post),
    )


def _owners(backend: Backend) -> Table:
    """(o_account, o_institution) of the accounts assigned to a registered institution."""
    accounts = backend.table("accounts")
    registered = backend.table("institutions").select(r_institution="institution_id")
    owned = accounts.join(registered, accounts.institution_id == registered.r_institution)
    return owned.select(o_account=owned.account_id, o_institution=owned.institution_id)
