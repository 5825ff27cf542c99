"""Trends: terms and hashtags whose use bursts in a week against the weeks before it.

For each week ``w`` and term (unigram or hashtag, as :mod:`govsocial.text.keywords` counts
them) let ``x`` be the term's count in the week and ``T_w`` the week's tokens (every row of the
token table, as keywords count them), and ``y`` and ``T_b`` the same over the **baseline**: the
``baseline_weeks`` calendar weeks before ``w`` (weeks without posts count as empty). The null
hypothesis is that the term's share of tokens is the same in the week as in the baseline.
Conditionally on ``n = x + y``, ``x`` is then

    X ~ Binomial(n, p0),   p0 = T_w / (T_w + T_b),

the exact conditional test of two Poisson rates (C. Przyborowski & H. Wilenski 1940,
"Homogeneity of results in testing samples from Poisson series", Biometrika 31(3/4), 313-323;
the uniformly most powerful unbiased test, E. L. Lehmann & J. P. Romano, *Testing Statistical
Hypotheses*, §4.5). The one-sided p-value is

    P(X >= x) = I_p0(x, n - x + 1)

the regularized incomplete beta function, computed here in NumPy (Lentz's continued fraction,
Numerical Recipes §6.4, with a Lanczos log-gamma): exact, no normal approximation, and no
smoothing needed, since a term new this week (``y = 0``) simply gets ``p0 ** x``. Because the
test conditions on ``n``, the baseline's own noise is accounted for: a term seen twice in a
thin baseline is not a trend at its third use. For a term that is a large share of all tokens
the binomial overstates the spread of the exact (hypergeometric) law: the test is then
conservative.

Which pairs are tested: weeks with tokens and a baseline with tokens, and terms with
``x + y >= min_count``. The filter depends only on ``n``, which the test conditions on, so it
does not bias the tests it keeps (R. Bourgon, R.
Gentleman & W. Huber 2010, "Independent filtering increases detection power for
high-throughput experiments", PNAS 107(21), 9546-9551). Per week, all its tests (unigrams
and hashtags together) get Benjamini-Hochberg q-values (Y. Benjamini & Y. Hochberg 1995,
"Controlling the false discovery rate", JRSS B 57(1), 289-300). A **trend** is a pair with
``q <= alpha``, ``x >= min_count`` and ``x`` above its expected count.

Reported beside the test: ``baseline_rate = y / T_b`` (a zero ``y`` taken as 0.5, as Hardie's
log ratio does, so a new term has a finite ratio), ``expected = T_w * baseline_rate`` and
``ratio = x / expected``. Trends are ordered by week, then p-value, count (descending), kind
and term.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govsocial.text.keywords import KINDS, Array, _count, _plain, _sort_rank, term_occurrences

_TREND_KINDS = ("unigram", "hashtag")
_MONDAY = 4  # 1970-01-05, the first Monday after the Unix epoch, is day 4
_EPSILON = 1e-15
_TINY = 1e-300
# Lanczos (g = 7, 9 terms) coefficients: log-gamma to ~1e-15 relative
_LANCZOS_G = 7.0
_LANCZOS = np.array(
    [
        0.99999999999980993,
        676.5203681218851,
        -1259.1392167224028,
        771.32342877765313,
        -176.61502916214059,
        12.507343278686905,
        -0.13857109526572012,
        9.9843695780195716e-6,
        1.5056327351493116e-7,
    ]
)

SCHEMA = pa.schema(
    [
        ("week", pa.date32()),
        ("term", pa.string()),
        ("kind", pa.string()),
        ("count", pa.int64()),
        ("baseline_rate", pa.float64()),
        ("expected", pa.float64()),
        ("p_value", pa.float64()),
        ("q_value", pa.float64()),
        ("ratio", pa.float64()),
    ]
)


def trends(
    tokens: pa.Table,
    post_weeks: pa.Table,
    *,
    baseline_weeks: int = 4,
    min_count: int = 5,
    alpha: float = 0.05,
) -> pa.Table:
    """The terms and hashtags bursting each week: (week, term, kind, count, baseline_rate,
    expected, p_value, q_value, ratio).

    ``post_weeks`` gives each post's week as the date of its Monday (another date counts for
    the Monday-to-Sunday week it falls in); a post given two different weeks is an error.
    """
    terms = term_occurrences(tokens, _TREND_KINDS)
    post_week = _week_of(post_weeks)
    week = post_week(terms.post_id)
    sized_week = post_week(terms.post_tokens.column("post_id").to_numpy())
    known, sized = week >= 0, sized_week >= 0
    counted = _count(pa.table({"week": week[known], "term": terms.term[known]}), ["week", "term"])
    return rank_trends(
        WeekCounts(
            week=counted.column("week").to_numpy(),
            term=counted.column("term").to_numpy(),
            count=counted.column("count_all").to_numpy(),
            token_week=sized_week[sized],
            tokens=terms.post_tokens.column("tokens").to_numpy()[sized],
            kind=terms.kind,
            text=terms.text,
        ),
        baseline_weeks=baseline_weeks,
        min_count=min_count,
        alpha=alpha,
    )


@dataclass(frozen=True)
class WeekCounts:
    """What :func:`rank_trends` needs; weeks are numbers of weeks since 1970-01-05, a Monday.

    ``week``, ``term``, ``count``: one entry per (week, term) seen together, the term's
    occurrences in the week; ``token_week`` and ``tokens``: weeks and tokens in them (entries
    of one week add up; posts without tokens need none); ``kind`` and ``text`` per term."""

    week: Array
    term: Array
    count: Array
    token_week: Array
    tokens: Array
    kind: Array
    text: pa.Array


def rank_trends(
    counts: WeekCounts, *, baseline_weeks: int = 4, min_count: int = 5, alpha: float = 0.05
) -> pa.Table:
    """The trends of :func:`trends` from week counts (the warehouse's kept term counts give
    the same counts without reading the texts)."""
    if baseline_weeks < 1 or min_count < 1 or not 0 < alpha <= 1:
        raise ValueError("baseline_weeks and min_count must be at least 1, alpha in (0, 1]")
    if not len(counts.week) or not len(counts.token_week):
        return SCHEMA.empty_table()
    first_week = int(counts.token_week.min())
    n_weeks, n_terms = int(counts.token_week.max()) - first_week + 1, len(counts.kind)
    kind = counts.kind.astype(np.int64)

    # tokens per week, and in each week's baseline (the sum of the k weeks before it)
    totals = np.bincount(counts.token_week - first_week, weights=counts.tokens, minlength=n_weeks)
    cumulative = np.r_[0, np.cumsum(totals.astype(np.int64))]
    weeks = np.arange(n_weeks)
    baseline_totals = cumulative[weeks] - cumulative[np.maximum(weeks - baseline_weeks, 0)]

    # (week, term) counts now and in the baseline: the week's counts shifted 1..k weeks ahead
    code = (counts.week.astype(np.int64) - first_week) * n_terms + counts.term
    count = counts.count.astype(np.int64)
    shifted = [code + shift * n_terms for shift in range(1, baseline_weeks + 1)]
    codes = np.concatenate([code, *shifted])
    now = np.concatenate([count, np.zeros(len(code) * baseline_weeks, np.int64)])
    before = np.concatenate([np.zeros(len(code), np.int64), np.tile(count, baseline_weeks)])
    inside = codes < n_weeks * n_terms
    # summed per (week, term) by sorting (much faster than Arrow's hash aggregation here)
    code, which = np.unique(codes[inside], return_inverse=True)
    x = np.bincount(which, weights=now[inside], minlength=len(code)).astype(np.int64)
    y = np.bincount(which, weights=before[inside], minlength=len(code)).astype(np.int64)
    w, t = code // n_terms, code % n_terms
    k = kind[t]
    t_week, t_base = totals[w].astype(np.int64), baseline_totals[w]

    tested = (x + y >= min_count) & (t_week > 0) & (t_base > 0)
    w, t, k, x, y, t_week, t_base = (a[tested] for a in (w, t, k, x, y, t_week, t_base))
    p_value = binomial_upper_tail(x, x + y, t_week / (t_week + t_base))
    q_value = benjamini_hochberg(p_value, w)
    baseline_rate = np.where(y > 0, y, 0.5) / t_base
    expected = t_week * baseline_rate
    ratio = x / expected

    trend = (q_value <= alpha) & (x >= min_count) & (x > expected)
    w, t, k, x = (a[trend] for a in (w, t, k, x))
    baseline_rate, expected, p_value, q_value, ratio = (
        a[trend] for a in (baseline_rate, expected, p_value, q_value, ratio)
    )
    order = np.lexsort((_sort_rank(counts.text)[t], k, -x, p_value, w))
    days = (w[order] + first_week) * 7 + _MONDAY
    return pa.table(
        {
            "week": pa.array(days.astype(np.int32), pa.int32()).cast(pa.date32()),
            "term": counts.text.take(pa.array(t[order], pa.int64())),
            "kind": pa.array(KINDS, pa.string()).take(pa.array(k[order], pa.int64())),
            "count": pa.array(x[order], pa.int64()),
            "baseline_rate": pa.array(baseline_rate[order], pa.float64()),
            "expected": pa.array(expected[order], pa.float64()),
            "p_value": pa.array(p_value[order], pa.float64()),
            "q_value": pa.array(q_value[order], pa.float64()),
            "ratio": pa.array(ratio[order], pa.float64()),
        },
        schema=SCHEMA,
    )


def _week_of(post_weeks: pa.Table) -> Callable[[Array], Array]:
    """The week of each post id, as a number of weeks since the Unix epoch's first Monday
    (-1 for a post without a week)."""
    missing = [name for name in ("post_id", "week") if name not in post_weeks.column_names]
    if missing:
        raise ValueError(f"the post_weeks table has no column {', '.join(missing)}")
    ids = pc.cast(_plain(post_weeks.column("post_id")), pa.int64())
    dates = pc.cast(_plain(post_weeks.column("week")), pa.date32())
    known = pc.and_(pc.is_valid(ids), pc.is_valid(dates))
    ids = ids.filter(known).to_numpy(zero_copy_only=False).astype(np.int64)
    days = pc.cast(dates.filter(known), pa.int32()).to_numpy(zero_copy_only=False)
    weeks = (days.astype(np.int64) - _MONDAY) // 7
    order = np.lexsort((weeks, ids))
    ids, weeks = ids[order], weeks[order]
    if len(ids):
        distinct = np.r_[True, (ids[1:] != ids[:-1]) | (weeks[1:] != weeks[:-1])]
        ids, weeks = ids[distinct], weeks[distinct]
    twice = ids[1:][ids[1:] == ids[:-1]]
    if len(twice):
        raise ValueError(f"post_weeks gives post {twice[0]} more than one week")

    def week_of(post_id: Array) -> Array:
        if len(ids) == 0:
            return np.full(len(post_id), -1, dtype=np.int64)
        where = np.searchsorted(ids, post_id)
        found = where < len(ids)
        found[found] = ids[where[found]] == post_id[found]
        return np.where(found, weeks[np.minimum(where, len(ids) - 1)], -1)

    return week_of


# -- statistics -------------------------------------------------------------------------------
def binomial_upper_tail(k: Array, n: Array, p: Array) -> Array:
    """P(X >= k) for X ~ Binomial(n, p), element-wise: 1 for k <= 0, 0 for k > n, else the
    regularized incomplete beta I_p(k, n - k + 1)."""
    k, n, p = np.broadcast_arrays(
        np.asarray(k, np.float64), np.asarray(n, np.float64), np.asarray(p, np.float64)
    )
    out = np.where(k <= 0, 1.0, 0.0)
    inside = (k > 0) & (k <= n)
    out[inside & (p >= 1)] = 1.0
    middle = inside & (p > 0) & (p < 1)
    out[middle] = regularized_beta(k[middle], n[middle] - k[middle] + 1, p[middle])
    return out


def regularized_beta(a: Array, b: Array, x: Array) -> Array:
    """I_x(a, b) for a, b > 0 and 0 < x < 1 (Numerical Recipes §6.4: the continued fraction
    where it converges fast, the symmetry I_x(a, b) = 1 - I_(1-x)(b, a) elsewhere)."""
    a, b, x = (np.asarray(v, np.float64) for v in (a, b, x))
    if a.size == 0:
        return np.zeros(0)
    log_front = log_gamma(a + b) - log_gamma(a) - log_gamma(b) + a * np.log(x) + b * np.log1p(-x)
    front = np.exp(log_front)
    swap = x >= (a + 1) / (a + b + 2)
    direct = front * _beta_fraction(a, b, x, ~swap) / a
    mirrored = 1 - front * _beta_fraction(b, a, 1 - x, swap) / b
    return np.clip(np.where(swap, mirrored, direct), 0.0, 1.0)


def _beta_fraction(a: Array, b: Array, x: Array, rows: Array) -> Array:
    """The continued fraction of I_x(a, b) (modified Lentz), for ``rows`` only (NaN
    elsewhere). It needs O(sqrt(max(a, b))) steps; each step works on the rows not yet
    converged."""
    out = np.full(a.shape, np.nan)
    active = np.flatnonzero(rows)
    if len(active) == 0:
        return out
    a, b, x = a[active], b[active], x[active]
    limit = 100 + int(20 * math.sqrt(float(max(a.max(), b.max()))))
    c = np.ones_like(a)
    d = _not_tiny(1 - (a + b) * x / (a + 1)) ** -1
    h = d.copy()
    index = np.arange(len(a))
    for m in range(1, limit + 1):
        for numerator in (
            m * (b - m) * x / ((a - 1 + 2 * m) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 1 + 2 * m)),
        ):
            d = _not_tiny(1 + numerator * d) ** -1
            c = _not_tiny(1 + numerator / c)
            step = d * c
            h = h * step
        done = np.abs(step - 1) < _EPSILON
        if done.any():
            out[active[index[done]]] = h[done]
            keep = ~done
            a, b, x, c, d, h, index = (v[keep] for v in (a, b, x, c, d, h, index))
            if len(index) == 0:
                return out
    out[active[index]] = h  # not converged in the limit: the best value reached
    return out


def _not_tiny(values: Array) -> Array:
    return np.where(np.abs(values) < _TINY, _TINY, values)


def log_gamma(z: Array) -> Array:
    """ln Γ(z) for z >= 0.5 (Lanczos 1964, g = 7: about 15 correct digits)."""
    z = np.asarray(z, np.float64) - 1
    series = _LANCZOS[0] + sum(_LANCZOS[i] / (z + i) for i in range(1, len(_LANCZOS)))
    t = z + _LANCZOS_G + 0.5
    return np.asarray(
        0.5 * math.log(2 * math.pi) + (z + 0.5) * np.log(t) - t + np.log(series), np.float64
    )


def benjamini_hochberg(p_value: Array, family: Array) -> Array:
    """Benjamini-Hochberg q-values (adjusted p-values), within each ``family`` separately:
    q_(i) = min over j >= i of m p_(j) / j, capped at 1, p sorted ascending in its family."""
    q = np.empty(len(p_value))
    if len(q) == 0:
        return q
    order = np.lexsort((p_value, family))
    sorted_family = family[order]
    bounds = np.flatnonzero(np.r_[True, sorted_family[1:] != sorted_family[:-1], True])
    for start, end in itertools.pairwise(bounds):  # one step per family
        rows = order[start:end]
        m = end - start
        scaled = p_value[rows] * m / np.arange(1, m + 1)
        q[rows] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return q
