"""Morris shrinkage: numbers worked out by hand, the estimator's own equations, and the rules
(prior from eligible units only, small-k correction, no whole-stratum tie when tau² = 0)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govsocial.metrics.shrinkage import morris, shrink_log_means, shrink_shares


def sums(*units: list[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = np.array([len(u) for u in units], dtype=np.int64)
    return (
        n,
        np.array([sum(u) for u in units], dtype=float),
        np.array([sum(x * x for x in u) for u in units], dtype=float),
    )


def test_hand_computed_equal_variances_are_james_stein() -> None:
    # Five units of two posts each, y ± 0.5:   means y = -1, -2, -3, -4, -5
    # within: each unit's squares 0.5 on 1 degree of freedom: s2 = 0.5; V = s2 / 2 = 0.25
    # equal V: mu = mean(y) = -3; S = sum (y - mu)^2 = 10; A = S / (k - 1) - V = 2.25
    # B = (k - 3)/(k - 1) * V / (V + A) = (2/4) * 0.25 / 2.5 = 0.05  (= (k - 3) V / S)
    # shrunk = y - B (y - mu): -1 - 0.05 * 2 = -1.1;  -5 + 0.1 = -4.9
    result = shrink_log_means(*sums(*([y - 0.5, y + 0.5] for y in (-1, -2, -3, -4, -5))))
    assert result.prior.status == "shrunk" and result.prior.units == 5
    assert result.prior.mean == pytest.approx(-3.0)
    assert result.prior.variance == pytest.approx(2.25)
    assert result.factor == pytest.approx([0.05] * 5)
    assert result.estimate == pytest.approx([-1.1, -2.05, -3.0, -3.95, -4.9])


def test_more_posts_less_shrinkage() -> None:
    # Same means; D has 8 posts, the others 2: V_D = s2/8 < V_A = s2/2, so B_D < B_A.
    result = shrink_log_means(
        *sums([-0.5, -1.5], [-1.5, -2.5], [-2.5, -3.5], [-3.5, -4.5] * 4, [-4.5, -5.5])
    )
    assert result.factor[3] < result.factor[0]
    assert result.prior.status == "shrunk"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-8, 0), st.floats(0.001, 3)),  # (estimate, sampling variance)
        min_size=4,
        max_size=30,
    )
)
def test_the_prior_solves_morris_equations(units: list[tuple[float, float]]) -> None:
    y = np.array([u[0] for u in units])
    v = np.array([u[1] for u in units])
    k = len(y)
    result = morris(y, v, np.ones(k, dtype=bool))
    a, mu = result.prior.variance, result.prior.mean
    w = 1 / (v + a)
    assert mu == pytest.approx((w * y).sum() / w.sum(), abs=1e-9)
    moment = (w * (k / (k - 1) * (y - mu) ** 2 - v)).sum() / w.sum()
    if a > 0:
        assert a == pytest.approx(moment, rel=1e-6, abs=1e-9)
    else:
        assert moment <= 1e-9
    # Morris's small-k factor: B never reaches 1, and never exceeds (k - 3)/(k - 1).
    assert np.all(result.factor <= (k - 3) / (k - 1) + 1e-12)
    assert np.all(result.factor >= 0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 40), st.floats(-9, -1)), min_size=1, max_size=6),
    st.integers(0, 10_000),
)
def test_ineligible_units_cannot_move_the_prior(
    intruders: list[tuple[int, float]], seed: int
) -> None:
    # Six eligible units with 30 posts each, and any number of ineligible ones (few posts,
    # anything from dead to viral): the eligible units' shrunk values must not change.
    rng = np.random.default_rng(seed)
    eligible = [list(rng.normal(-4 + 0.3 * i, 1.0, 30)) for i in range(6)]
    others = [list(rng.normal(mean, 1.0, n)) for n, mean in intruders]
    alone = shrink_log_means(*sums(*eligible), np.ones(6, dtype=bool))
    fit = np.array([True] * 6 + [False] * len(others))
    mixed = shrink_log_means(*sums(*eligible, *others), fit)
    assert mixed.prior == alone.prior
    assert mixed.estimate[:6] == pytest.approx(alone.estimate, rel=1e-12)
    # ...and the ineligible ones are shrunk with that same prior.
    assert np.all(np.isfinite(mixed.estimate[6:]))


def test_one_viral_ineligible_account_no_longer_halves_the_shrinkage() -> None:
    # The case: a one-post viral account among steady eligible ones. Fitted on every
    # unit (the old rule) it inflates tau² and weakens every eligible unit's shrinkage.
    rng = np.random.default_rng(7)
    eligible = [list(rng.normal(-4 + 0.2 * i, 1.0, 40)) for i in range(8)]
    viral = [[0.0]]  # rate e^0 = 1: as many interactions as followers
    everyone = shrink_log_means(*sums(*eligible, *viral))
    fit = np.array([True] * 8 + [False])
    ours = shrink_log_means(*sums(*eligible, *viral), fit)
    assert everyone.prior.variance > 2 * ours.prior.variance
    assert np.all(ours.factor[:8] > 2 * everyone.factor[:8])


def test_tau2_zero_keeps_the_order_of_the_unshrunk_means() -> None:
    # The means differ far less than their noise: A = 0. Every unit keeps 2/(k - 1) of its
    # distance to the mean (B = (k - 3)/(k - 1) for all), so nobody ties and the order is the
    # order of the unshrunk means; the old estimator (B = 1) made the whole stratum tie.
    units = [[-3.0, -1.0], [-2.0, -2.2], [-2.1, -2.0], [-2.05, -2.25], [-1.8, -2.1]]
    result = shrink_log_means(*sums(*units))
    assert result.prior.variance == 0.0
    k = 5
    assert result.factor == pytest.approx([(k - 3) / (k - 1)] * k)
    y = np.array([np.mean(u) for u in units])
    assert list(np.argsort(result.estimate)) == list(np.argsort(y))
    assert len(set(np.round(result.estimate, 12))) == k
    mu = result.prior.mean
    assert result.estimate - mu == pytest.approx(2 / (k - 1) * (y - mu))


def test_too_few_units_are_left_alone_and_empty_units_stay_empty() -> None:
    three = shrink_log_means(*sums([-1, -2], [-4, -5], [-3, -3.5]))
    # k = 3: (k - 3)/(k - 1) = 0, no shrinkage; said as such, not as a zero variance.
    assert three.prior.status == "too_few_units" and three.prior.units == 3
    assert list(three.estimate) == [-1.5, -4.5, -3.25]
    assert list(three.factor) == [0.0, 0.0, 0.0]
    n, s1 = np.array([2, 0, 2, 2, 2]), np.array([-2.0, 0, -4, -6, -8])
    s2 = np.array([2.5, 0, 8.5, 18.5, 32.5])
    empty = shrink_log_means(n, s1, s2)
    assert math.isnan(empty.estimate[1]) and empty.prior.units == 4


def test_exact_units_and_single_posts_say_why_they_are_not_shrunk() -> None:
    # Every eligible unit's posts are identical: there is no sampling noise (the old code
    # reported "fewer than 3 units" here).
    exact = shrink_log_means(*sums([-1, -1], [-2, -2], [-3, -3], [-4, -4]))
    assert exact.prior.status == "no_sampling_noise"
    assert list(exact.estimate) == [-1, -2, -3, -4]
    single = shrink_log_means(*sums([-1], [-2], [-3], [-4], [-5]))
    assert single.prior.status == "no_repeated_posts" and single.prior.units == 5


def test_shares_are_shrunk_on_the_arcsine_scale() -> None:
    n = np.array([100, 100, 100, 100, 4])
    hits = np.array([100.0, 100, 100, 100, 2])  # four perfect units; a 4-post unit at 50%
    fit = np.array([True, True, True, True, False])
    result = shrink_shares(n, hits, fit)
    # Eligible: all at asin(1) = pi/2, A = 0: nothing moves; the small unit keeps 2/(k-1) =
    # 2/3 of its arcsine distance: sin²(pi/2 - (2/3)(pi/2 - pi/4)) = sin²(pi/3) = 0.75.
    assert result.estimate[:4] == pytest.approx([1.0] * 4)
    assert result.estimate[4] == pytest.approx(0.75)
    assert result.prior.variance == 0.0
