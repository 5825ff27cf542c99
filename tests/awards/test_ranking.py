"""The ranking's arithmetic: percentiles, the quantum values are compared at, the combination."""

import numpy as np

from govsocial.awards.ranking import midrank_percentile, quantise


def test_midrank_percentile_handles_ties_and_small_strata() -> None:
    assert list(midrank_percentile(np.array([1.0, 2.0, 2.0, 3.0]))) == [0.125, 0.5, 0.5, 0.875]
    assert list(midrank_percentile(np.array([7.0]))) == [0.5]  # alone: no free 1.0
    best_of_ten = midrank_percentile(np.arange(10.0))
    assert best_of_ten[-1] == 0.95 and best_of_ten[0] == 0.05


def test_midrank_percentile_counts_the_rest_of_the_population_as_beaten() -> None:
    # 2 eligible of a cluster of 5: the 3 others are beaten by both.
    assert list(midrank_percentile(np.array([1.0, 2.0]), population=5)) == [0.7, 0.9]
    assert list(midrank_percentile(np.array([4.0]), population=4)) == [0.875]
    assert list(midrank_percentile(np.array([1.0, 2.0]), population=2)) == [0.25, 0.75]


def test_quantise_keeps_the_published_precision_and_drops_float_noise() -> None:
    noisy = np.array([0.1 + 0.2, 0.3, 0.012345649999, 1e-9 * (1 + 1e-13), np.nan, 0.0])
    result = quantise(noisy)
    assert result[0] == result[1] == 0.3  # 0.30000000000000004 and 0.3 are one value
    assert result[2] == 0.0123456 and result[3] == 1e-9  # significant digits, any scale
    assert np.isnan(result[4]) and result[5] == 0.0
    assert quantise(np.array([1234567.0]))[0] == 1234570.0
