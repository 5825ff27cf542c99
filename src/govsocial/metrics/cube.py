"""The one heavy pass: post facts summed into a small cube of additive measures.

Grouped by account × media type × repost × week (× theme flags), the cube holds sums and
counts from which every metric of every category is derived exactly (means, shares, log-scale
variances), so the posts are scanned once per run whatever the number of categories. A year
of 1,000 accounts is at most a few hundred thousand cube rows, however many posts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa

from govsocial.metrics.evidence import cube_measures
from govsocial.metrics.facts import post_facts
from govsocial.metrics.scope import Scope

if TYPE_CHECKING:
    from govsocial.compute.backend import Backend, Column, Table

KEYS = ("account_id", "institution_id", "cluster_id", "platform", "media_type", "is_repost", "week")


@dataclass(frozen=True)
class ThemeFilter:
    """Posts matching any hashtag (as ``#tag`` in the text) or keyword (substring)."""

    name: str
    hashtags: tuple[str, ...]
    keywords: tuple[str, ...]

    def expression(self, facts: Table) -> Column:
        text = facts.text.fill_null("").lower()
        tests = []
        if self.hashtags:
            tags = "|".join(re.escape(h.lower().lstrip("#")) for h in self.hashtags)
            tests.append(text.re_search(f"#({tags})([^a-z0-9_]|$)"))
        tests += [text.contains(k.lower()) for k in self.keywords]
        match = tests[0]
        for test in tests[1:]:
            match = match | test
        return match


def _one(condition: Column) -> Column:
    return ibis.ifelse(condition, 1, 0)


# The additive measures: a unit's value is the sum over its cube rows (awards/units.py sums
# exactly these, the formulas read them). ``max_interactions`` is in the cube but not summed.
SUMS = (
    "n",
    "n_rated",
    "n_positive",
    "sum_rate",
    "sum_log_positive",
    "sum_log2_positive",
    "interactions",
    "likes",
    "comments",
    "shares",
    "n_liked",
    "n_commented",
    "n_shared",
    "n_viewed",
    "sum_view_rate",
    "n_above_audience",
)


def cube_expression(backend: Backend, m: Scope, themes: Sequence[ThemeFilter] = ()) -> Table:
    facts = post_facts(backend, m)
    facts = facts.mutate(**{t.name: t.expression(facts) for t in themes})
    rate = facts.engagement_rate
    # ln of the rates of posts with any interaction (NULL otherwise: ln is never taken of 0).
    # Zero-interaction posts are counted apart (n_rated - n_positive): the two-part model of
    # metrics/formulas.py needs no constant added to a rate.
    log_positive = ibis.ifelse(rate > 0, rate, ibis.null("float64")).ln()
    return facts.group_by([*KEYS, *(t.name for t in themes)]).aggregate(
        n=facts.count(),
        n_rated=rate.count(),
        n_positive=_one(rate > 0).sum(),
        sum_rate=rate.sum(),
        sum_log_positive=log_positive.sum(),
        sum_log2_positive=(log_positive * log_positive).sum(),
        interactions=facts.interactions.sum(),
        likes=facts.likes.fill_null(0).sum(),
        comments=facts.comments.fill_null(0).sum(),
        shares=facts.shares.fill_null(0).sum(),
        n_liked=_one(facts.likes > 0).sum(),
        n_commented=_one(facts.comments > 0).sum(),
        n_shared=_one(facts.shares > 0).sum(),
        n_viewed=facts.view_rate.count(),
        sum_view_rate=facts.view_rate.sum(),
        n_above_audience=_one(facts.interactions > facts.followers_at_post).sum(),
        max_interactions=facts.interactions.max(),
        **cube_measures(facts),  # what the flags read (metrics/evidence.py)
    )


def compute_cube(backend: Backend, m: Scope, themes: Sequence[ThemeFilter] = ()) -> pa.Table:
    """Run the pass on the backend; the cube comes back sorted by its keys (deterministic)."""
    expr = cube_expression(backend, m, themes)
    keys = [*KEYS, *(t.name for t in themes)]
    table: pa.Table = backend.to_arrow(expr.order_by(keys))
    return table


def follower_snapshots(backend: Backend, m: Scope) -> pa.Table:
    """Follower snapshots up to and including the period's end, sorted by account and time.

    A reading taken at the very end of the period (the period is ``[start, end)``) is the
    audience at its end, the one follower growth wants: it is included.
    """
    snaps = backend.table("account_snapshots")
    end = ibis.literal(m.period_end, type="timestamp('UTC')")
    expr = snaps.filter(snaps.captured_at <= end).select("account_id", "captured_at", "followers")
    result: pa.Table = backend.to_arrow(expr.order_by(["account_id", "captured_at"]))
    return result
