import numpy as np

from govsocial.awards.ranking import midrank_percentile


def test_midrank_percentile_handles_ties_and_small_strata() -> None:
    assert list(midrank_percentile(np.array([1.0, 2.0, 2.0, 3.0]))) == [0.125, 0.5, 0.5, 0.875]
    assert list(midrank_percentile(np.array([7.0]))) == [0.5]  # alone: no free 1.0
    best_of_ten = midrank_percentile(np.arange(10.0))
    assert best_of_ten[-1] == 0.95 and best_of_ten[0] == 0.05
