"""Empirical Bayes shrinkage of noisy engagement rates (Morris 1983).

A unit that posted 4 times and got lucky once should not outrank one that posted 400 times at
a steady, high rate. Each unit's mean log engagement rate ``y_i`` (over its ``n_i`` rated
posts) is pulled toward the mean of its stratum (platform × cluster), the more so the fewer
posts it has and the more alike the units of the stratum are:

    sigma2_i = s2_within / n_i                       sampling variance of y_i
    mu       = mean(y)                               prior mean (method of moments)
    tau2     = max(0, var(y) - mean(sigma2))         prior variance (method of moments)
    B_i      = sigma2_i / (sigma2_i + tau2)          shrinkage factor, 0 = none, 1 = all the way
    shrunk_i = mu + (1 - B_i) * (y_i - mu)

``s2_within`` is the pooled within-unit variance of post log rates in the stratum (units with
at least two rated posts). Source: C. N. Morris (1983), "Parametric Empirical Bayes Inference:
Theory and Applications", JASA 78(381), 47-55 (the method-of-moments estimates of §3).

Why log rates: post engagement rates are heavy-tailed and roughly log-normal; on the log scale
the normal model behind the method fits, and one viral post does not dominate. The shrunk
value, exponentiated, is the unit's *typical* (geometric-mean) engagement rate.

A stratum with fewer than ``MIN_UNITS`` units cannot estimate its prior; its rates are left
unshrunk (B = 0) and the run says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

MIN_UNITS = 3


@dataclass(frozen=True)
class Shrunk:
    log_rate: NDArray[np.float64]  # shrunk mean log rate per unit (NaN where n == 0)
    factor: NDArray[np.float64]  # B_i per unit
    prior_mean: float
    prior_variance: float
    within_variance: float


def shrink(
    n: NDArray[np.int64], sum_log: NDArray[np.float64], sum_log2: NDArray[np.float64]
) -> Shrunk:
    """Shrink the units of ONE stratum. ``n``: rated posts; sums of log rate and its square."""
    n = np.asarray(n, dtype=np.int64)
    rated = n > 0
    y = np.full(n.shape, np.nan)
    y[rated] = sum_log[rated] / n[rated]
    # Per-unit within variance (ddof=1) from the sums, for units with two or more posts.
    many = n > 1
    ss = np.zeros(n.shape)
    ss[many] = np.maximum(sum_log2[many] - n[many] * y[many] ** 2, 0.0)
    dof = (n[many] - 1).sum()
    within = float(ss[many].sum() / dof) if dof > 0 else 0.0
    factor = np.zeros(n.shape)
    k = int(rated.sum())
    if k < MIN_UNITS or within == 0.0:
        out = y.copy()
        mu = float(np.nanmean(y)) if k else float("nan")
        return Shrunk(out, factor, mu, float("nan"), within)
    sigma2 = np.full(n.shape, np.nan)
    sigma2[rated] = within / n[rated]
    mu = float(y[rated].mean())
    tau2 = max(0.0, float(y[rated].var(ddof=1)) - float(sigma2[rated].mean()))
    factor[rated] = sigma2[rated] / (sigma2[rated] + tau2) if tau2 > 0 else 1.0
    out = np.full(n.shape, np.nan)
    out[rated] = mu + (1.0 - factor[rated]) * (y[rated] - mu)
    return Shrunk(out, factor, mu, tau2, within)
