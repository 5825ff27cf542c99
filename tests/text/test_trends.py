"""Trends: a hashtag that jumps tenfold in a week is found, a flat one is not, a corpus without
trends gives (almost) none at alpha 0.05, and the test's numbers are checked against exact
arithmetic."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govsocial.text.trends import (
    SCHEMA,
    benjamini_hochberg,
    binomial_upper_tail,
    log_gamma,
    trends,
)

MONDAY = date(2024, 1, 1)
TOKEN_SCHEMA = pa.schema(
    [
        ("post_id", pa.int64()),
        ("position", pa.int32()),
        ("part", pa.int8()),
        ("kind", pa.string()),
        ("token", pa.string()),
        ("display", pa.string()),
        ("stem", pa.string()),
        ("stopword", pa.bool_()),
    ]
)


class Corpus:
    """Posts written week by week: each post a list of tokens (``#x`` a hashtag, else a word)."""

    def __init__(self) -> None:
        self.posts: list[list[str]] = []
        self.weeks: list[date] = []

    def add(self, week: int, tokens: Sequence[str], times: int = 1) -> None:
        for _ in range(times):
            self.posts.append(list(tokens))
            self.weeks.append(MONDAY + timedelta(weeks=week))

    def tokens(self) -> pa.Table:
        post = np.repeat(np.arange(len(self.posts)), [len(p) for p in self.posts])
        text = [t for p in self.posts for t in p]
        folded = [t.lower() for t in text]
        return pa.table(
            {
                "post_id": pa.array(post, pa.int64()),
                "position": pa.array([i for p in self.posts for i in range(len(p))], pa.int32()),
                "part": pa.array(np.zeros(len(text), np.int8)),
                "kind": ["hashtag" if t.startswith("#") else "word" for t in text],
                "token": folded,
                "display": text,
                "stem": folded,
                "stopword": [t == "di" for t in folded],
            },
            schema=TOKEN_SCHEMA,
        )

    def post_weeks(self) -> pa.Table:
        return pa.table(
            {
                "post_id": pa.array(range(len(self.posts)), pa.int64()),
                "week": pa.array(self.weeks, pa.date32()),
            }
        )

    def trends(self, **options: Any) -> pa.Table:
        return trends(self.tokens(), self.post_weeks(), **options)


BACKGROUND = ["pemerintah", "kota", "warga", "layanan", "di", "publik"]


def pairs(table: pa.Table) -> set[tuple[int, str]]:
    return {((r["week"] - MONDAY).days // 7, r["term"]) for r in table.to_pylist()}


# -- known answers ------------------------------------------------------------------------------
def test_a_hashtag_that_jumps_tenfold_in_a_week_is_a_trend_and_a_flat_one_is_not() -> None:
    corpus = Corpus()
    for week in range(8):
        corpus.add(week, BACKGROUND, times=40)
        corpus.add(week, [*BACKGROUND, "#Jabar"], times=10)  # flat
        corpus.add(week, [*BACKGROUND, "#BanjirBandung"], times=20 if week == 6 else 2)
    result = corpus.trends()
    assert pairs(result) == {(6, "#BanjirBandung")}
    row = result.to_pylist()[0]
    assert row["week"] == MONDAY + timedelta(weeks=6)
    assert row["kind"] == "hashtag"
    assert row["count"] == 20
    week_tokens = 40 * 6 + 10 * 7 + 20 * 7
    base_tokens = 4 * (40 * 6 + 10 * 7 + 2 * 7)
    assert row["baseline_rate"] == pytest.approx(8 / base_tokens)
    assert row["expected"] == pytest.approx(week_tokens * 8 / base_tokens)
    assert row["ratio"] == pytest.approx(20 / row["expected"])
    # the conditional test written out: P(X >= 20), X ~ Binomial(28, T_w / (T_w + T_b))
    assert row["p_value"] == pytest.approx(
        exact_tail(20, 28, week_tokens, week_tokens + base_tokens)
    )
    assert row["q_value"] >= row["p_value"]


def test_a_new_term_gets_p0_to_the_power_of_its_count() -> None:
    corpus = Corpus()
    for week in range(5):
        corpus.add(week, BACKGROUND, times=50)
    corpus.add(4, ["stunting"], times=5)
    [row] = corpus.trends().to_pylist()
    week_tokens, base_tokens = 50 * 6 + 5, 4 * 50 * 6
    assert row["term"] == "stunting"
    assert row["p_value"] == pytest.approx((week_tokens / (week_tokens + base_tokens)) ** 5)
    assert row["baseline_rate"] == pytest.approx(0.5 / base_tokens)  # zero taken as 0.5
    assert math.isfinite(row["ratio"])


def test_the_baseline_is_the_previous_k_calendar_weeks() -> None:
    corpus = Corpus()
    for week in range(7):
        corpus.add(week, BACKGROUND, times=30)
    corpus.add(0, ["mudik"], times=30)  # heavy in week 0 ...
    corpus.add(5, ["mudik"], times=6)  # ... absent for four weeks, back in week 5
    assert (5, "mudik") in pairs(corpus.trends(baseline_weeks=4))
    assert (5, "mudik") not in pairs(corpus.trends(baseline_weeks=5))


def test_weeks_without_posts_count_as_empty_baseline_weeks() -> None:
    corpus = Corpus()
    corpus.add(0, [*BACKGROUND, "banjir"], times=20)
    corpus.add(4, [*BACKGROUND, "banjir"], times=20)  # weeks 1 to 3: no posts at all
    corpus.add(4, ["stunting"], times=15)
    # banjir keeps its share of week 0; stunting is new
    assert pairs(corpus.trends(baseline_weeks=4)) == {(4, "stunting")}
    assert corpus.trends(baseline_weeks=3).num_rows == 0  # no tokens in the baseline: no test


def test_min_count_and_alpha() -> None:
    corpus = Corpus()
    for week in range(5):
        corpus.add(week, BACKGROUND, times=50)
    corpus.add(4, ["stunting"], times=4)
    assert corpus.trends().num_rows == 0  # 4 < min_count
    assert pairs(corpus.trends(min_count=4)) == {(4, "stunting")}
    assert corpus.trends(min_count=4, alpha=1e-9).num_rows == 0


def test_null_corpus_gives_few_or_no_trends() -> None:
    """Every token drawn from one fixed distribution, week volumes varying: any trend is a false
    discovery. Per week, BH at 0.05 lets a week have one with probability at most about 0.05."""
    weeks_with_trends = tested_weeks = 0
    for seed in range(5):
        corpus = random_corpus(np.random.default_rng(seed), weeks=20)
        result = corpus.trends()
        weeks_with_trends += len({r["week"] for r in result.to_pylist()})
        tested_weeks += 19  # the first week has no baseline
    assert weeks_with_trends / tested_weeks <= 0.05


def random_corpus(rng: np.random.Generator, *, weeks: int) -> Corpus:
    words = np.array([f"kata{i}" for i in range(300)] + [f"#tag{i}" for i in range(40)])
    # Zipf-like words, 10% hashtags
    p = np.r_[
        0.9 / np.arange(1, 301) ** 1.1 / np.sum(1 / np.arange(1, 301) ** 1.1),
        0.1 / np.arange(1, 41) / np.sum(1 / np.arange(1, 41)),
    ]
    corpus = Corpus()
    for week in range(weeks):
        lengths = rng.integers(5, 15, size=int(rng.integers(50, 150)))
        drawn = rng.choice(words, int(lengths.sum()), p=p / p.sum())
        for post in np.split(drawn, np.cumsum(lengths)[:-1]):
            corpus.add(week, post.tolist())
    return corpus


# -- input edges --------------------------------------------------------------------------------
def test_empty_tables_and_a_single_week_give_no_trends() -> None:
    corpus = Corpus()
    corpus.add(0, [*BACKGROUND, "#Banjir"], times=30)
    empty_weeks = pa.table({"post_id": pa.array([], pa.int64()), "week": pa.array([], pa.date32())})
    for result in (
        trends(TOKEN_SCHEMA.empty_table(), corpus.post_weeks()),
        trends(corpus.tokens(), empty_weeks),
        trends(TOKEN_SCHEMA.empty_table(), empty_weeks),
        corpus.trends(),  # one week: nothing to compare with
    ):
        assert result.num_rows == 0
        assert result.schema == SCHEMA


def test_a_date_counts_for_its_monday_and_posts_without_a_week_are_left_out() -> None:
    corpus = Corpus()
    for week in range(5):
        corpus.add(week, BACKGROUND, times=50)
    corpus.add(4, ["stunting"], times=6)
    post_weeks = corpus.post_weeks()
    thursdays = pa.array([d + timedelta(days=3) for d in corpus.weeks], pa.date32())
    result = trends(corpus.tokens(), post_weeks.set_column(1, "week", thursdays))
    assert result.equals(corpus.trends())
    assert result.column("week").to_pylist() == [MONDAY + timedelta(weeks=4)]
    without = post_weeks.filter(pa.array([c != ["stunting"] for c in corpus.posts]))
    assert trends(corpus.tokens(), without).num_rows == 0


def test_a_post_with_two_weeks_is_refused() -> None:
    corpus = Corpus()
    corpus.add(0, BACKGROUND)
    twice = pa.table(
        {
            "post_id": pa.array([0, 0, 0], pa.int64()),
            "week": [MONDAY, MONDAY, MONDAY + timedelta(7)],
        }
    )
    with pytest.raises(ValueError, match="post 0 more than one week"):
        trends(corpus.tokens(), twice)
    with pytest.raises(ValueError, match="baseline_weeks"):
        trends(corpus.tokens(), corpus.post_weeks(), baseline_weeks=0)


# -- the statistics -----------------------------------------------------------------------------
def exact_tail(k: int, n: int, p_num: int, p_den: int) -> float:
    """P(X >= k), X ~ Binomial(n, p_num / p_den), in exact rational arithmetic."""
    p = Fraction(p_num, p_den)
    return float(sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1)))


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 300), st.integers(0, 320), st.integers(1, 999))
def test_binomial_tail_matches_exact_arithmetic(n: int, k: int, p_permille: int) -> None:
    got = binomial_upper_tail(np.array([k]), np.array([n]), np.array([p_permille / 1000]))[0]
    expected = exact_tail(k, n, p_permille, 1000) if k > 0 else 1.0
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_binomial_tail_for_large_counts_and_the_edges() -> None:
    # X ~ Binomial(10^6, 0.2): mean 200,000, sd 400; the tail 3 sd out, by the sum of the
    # log-space terms
    n, p = 10**6, 0.2
    k = 201_200
    logs = [
        math.lgamma(n + 1)
        - math.lgamma(i + 1)
        - math.lgamma(n - i + 1)
        + i * math.log(p)
        + (n - i) * math.log1p(-p)
        for i in range(k, k + 5000)
    ]
    top = max(logs)
    expected = math.exp(top) * sum(math.exp(v - top) for v in logs)
    got = binomial_upper_tail(np.array([k]), np.array([n]), np.array([p]))[0]
    assert got == pytest.approx(expected, rel=1e-7)
    edges = binomial_upper_tail(
        np.array([0, 5, 6, 3, 3]), np.array([5, 5, 5, 5, 5]), np.array([0.5, 0.5, 0.5, 0.0, 1.0])
    )
    assert edges.tolist() == [1.0, pytest.approx(1 / 32), 0.0, 0.0, 1.0]


def test_log_gamma_matches_the_standard_library() -> None:
    z = np.array([0.5, 1, 1.5, 2, 7.25, 30, 1e3, 1e6, 1e9])
    expected = [math.lgamma(v) for v in z]
    assert log_gamma(z) == pytest.approx(expected, rel=1e-13, abs=1e-13)


def test_benjamini_hochberg_within_each_family() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.2, 0.5, 0.01])
    family = np.array([1, 1, 1, 1, 2, 2])
    q = benjamini_hochberg(p, family)
    # family 1, sorted 0.01 0.03 0.04 0.2: 4p/rank = 0.04 0.06 0.0533 0.2, then the minimum
    # of each value and those after it
    assert q.tolist() == pytest.approx([0.04, 0.04 / 0.75, 0.04 / 0.75, 0.2, 0.5, 0.02])
    assert benjamini_hochberg(np.array([]), np.array([])).tolist() == []


def by_week(table: pa.Table) -> Mapping[date, list[str]]:
    out: dict[date, list[str]] = {}
    for row in table.to_pylist():
        out.setdefault(row["week"], []).append(row["term"])
    return out


def test_rows_are_ordered_by_week_then_p_value() -> None:
    corpus = Corpus()
    for week in range(6):
        corpus.add(week, BACKGROUND, times=40)
    corpus.add(4, ["gizi"], times=6)
    corpus.add(4, ["stunting"], times=12)
    corpus.add(5, ["mudik"], times=8)
    result = corpus.trends()
    assert by_week(result) == {
        MONDAY + timedelta(weeks=4): ["stunting", "gizi"],
        MONDAY + timedelta(weeks=5): ["mudik"],
    }
    assert result.column("p_value").to_pylist()[:2] == sorted(
        result.column("p_value").to_pylist()[:2]
    )
