"""Morris shrinkage against numbers worked out by hand (see the comments)."""

import math

import numpy as np
import pytest

from govsocial.metrics.shrinkage import shrink


def sums(*units: list[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = np.array([len(u) for u in units])
    return n, np.array([sum(u) for u in units]), np.array([sum(x * x for x in u) for u in units])


def test_hand_computed_stratum() -> None:
    # Post log rates of four units:   mean y   within sum of squares
    # A: -2, -4                        -3       2
    # B: -1, -3                        -2       2
    # C: -5, -5                        -5       0
    # D: -4, -4, -4, -4                -4       0
    # pooled within variance = (2 + 2 + 0 + 0) / (1 + 1 + 1 + 3) = 2/3
    # sigma2 = (2/3)/n = 1/3, 1/3, 1/3, 1/6;  mean sigma2 = 7/24
    # mu = -3.5;  var(y) = (0.25 + 2.25 + 2.25 + 0.25) / 3 = 5/3
    # tau2 = 5/3 - 7/24 = 11/8
    # B_A = (1/3) / (1/3 + 11/8) = 8/41;  shrunk_A = -3.5 + (33/41) * 0.5
    # B_D = (1/6) / (1/6 + 11/8) = 4/37;  shrunk_D = -3.5 - (33/37) * 0.5
    result = shrink(*sums([-2, -4], [-1, -3], [-5, -5], [-4, -4, -4, -4]))
    assert result.within_variance == pytest.approx(2 / 3)
    assert result.prior_mean == pytest.approx(-3.5)
    assert result.prior_variance == pytest.approx(11 / 8)
    assert result.factor[0] == pytest.approx(8 / 41)
    assert result.factor[3] == pytest.approx(4 / 37)
    assert result.log_rate[0] == pytest.approx(-3.5 + 33 / 41 * 0.5)
    assert result.log_rate[3] == pytest.approx(-3.5 - 33 / 37 * 0.5)
    # more posts, less shrinkage: D (4 posts) keeps more of its distance from the mean than A
    assert result.factor[3] < result.factor[0]


def test_alike_units_are_pooled_completely() -> None:
    # The spread of the means is smaller than the sampling noise: tau2 = 0, every B = 1.
    result = shrink(*sums([-3, -1], [-2, -2.2], [-2.1, -2.0]))
    assert result.prior_variance == 0.0
    assert np.allclose(result.log_rate, result.prior_mean)


def test_too_few_units_are_left_alone_and_empty_units_stay_empty() -> None:
    result = shrink(*sums([-1, -2], [-4]))
    assert math.isnan(result.prior_variance)
    assert list(result.log_rate) == [-1.5, -4.0]
    empty = shrink(np.array([2, 0, 2, 2]), np.array([-2.0, 0, -4, -6]), np.array([2.0, 0, 8, 18]))
    assert math.isnan(empty.log_rate[1])
