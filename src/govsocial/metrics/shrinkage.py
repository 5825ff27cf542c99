"""Empirical Bayes shrinkage of noisy unit estimates (Morris 1983).

A unit that posted 4 times and got lucky once should not outrank one that posted 400 times at
a steady, high rate. Each unit's estimate ``y_i`` (with sampling variance ``V_i``) is pulled
toward the mean of its stratum (platform × cluster), the more so the noisier it is and the
more alike the units of the stratum are. The prior N(mu, A) is estimated from the **eligible**
units only (``fit``), each weighted by its precision, and then applied to every unit:

    W_i  = 1 / (V_i + A)                                       precision weights
    mu   = sum(W_i y_i) / sum(W_i)                             prior mean
    A    = max(0, sum(W_i (k/(k-1) (y_i - mu)^2 - V_i)) / sum(W_i))   prior variance (tau^2),
           solved by iterating these two lines from the unweighted moment estimate
    B_i  = (k-3)/(k-1) * V_i / (V_i + A)                       shrinkage factor, 0 = none
    shrunk_i = y_i - B_i (y_i - mu)

``k`` is the number of eligible units with an estimate. The factor (k-3)/(k-1) is Morris's
small-k correction: A is itself estimated from k units, and without it the shrinkage is too
strong in small strata (it is the James-Stein constant k-3 for an estimated mean). It is 0 at
k = 3, so a stratum needs at least ``MIN_UNITS`` = 4 eligible units to be shrunk at all, and
B_i < 1 always: when A = 0 (the units differ no more than their noise) every unit keeps the
same fraction 2/(k-1) of its distance to the mean, so the order is that of the unshrunk
estimates, never a tie of the whole stratum.

Source: C. N. Morris (1983), "Parametric Empirical Bayes Inference: Theory and Applications",
JASA 78(381), 47-55 (the unequal-variance estimates of §4 with r = 1 fitted parameter).

Two kinds of estimate are shrunk (:mod:`govsocial.metrics.formulas` combines them):

- mean **log** rates (:func:`shrink_log_means`): ``V_i = s2 / n_i`` with ``s2`` the pooled
  within-unit variance of the eligible units' post log rates;
- **shares** of posts (:func:`shrink_shares`) on the variance-stabilising arcsine scale
  ``theta = asin(sqrt(p))``, ``V_i = 1 / (4 n_i)``, as Efron & Morris (1975), "Data analysis
  using Stein's estimator and its generalizations", JASA 70(350), 311-319, did for batting
  averages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Mask = NDArray[np.bool_]

MIN_UNITS = 4  # (k-3)/(k-1) is 0 at k = 3: fewer eligible units cannot be shrunk
_MAX_ITERATIONS = 200
_TOLERANCE = 1e-12
_ROUNDING = 1e-12  # relative size of float rounding in a sum of squares

Status = Literal["shrunk", "too_few_units", "no_sampling_noise", "no_repeated_posts"]


@dataclass(frozen=True)
class Prior:
    """The stratum's prior, and why it was or was not used.

    ``status``: ``shrunk``; ``too_few_units`` (fewer than MIN_UNITS eligible units with an
    estimate; ``mean`` is then their plain mean, ``variance`` NaN); ``no_sampling_noise``
    (an eligible estimate is exact, V = 0: the posts within units do not vary);
    ``no_repeated_posts`` (no eligible unit has two posts: the noise cannot be measured).
    """

    mean: float
    variance: float  # A = tau^2 (NaN when not estimated)
    units: int  # k: eligible units with an estimate
    status: Status


@dataclass(frozen=True)
class Shrunk:
    estimate: Floats  # shrunk value per unit (NaN where the unit has no data)
    factor: Floats  # B_i per unit (0 where not shrunk)
    prior: Prior


def morris(y: Floats, v: Floats, fit: Mask) -> Shrunk:
    """Shrink estimates ``y`` (NaN = no data) with sampling variances ``v`` of ONE stratum,
    with the prior estimated from the units where ``fit`` is true."""
    y = np.asarray(y, dtype=float)
    v = np.asarray(v, dtype=float)
    known = np.isfinite(y) & np.isfinite(v)
    use = known & np.asarray(fit, dtype=bool)
    k = int(use.sum())
    factor = np.zeros(y.shape)
    estimate = np.where(known, y, np.nan)
    plain_mean = float(y[use].mean()) if k else float("nan")
    if k < MIN_UNITS:
        return Shrunk(estimate, factor, Prior(plain_mean, float("nan"), k, "too_few_units"))
    yk, vk = y[use], v[use]
    if np.any(vk <= 0.0):  # an exact estimate: the weights 1 / (V + A) are not defined
        return Shrunk(estimate, factor, Prior(plain_mean, float("nan"), k, "no_sampling_noise"))
    a = max(0.0, float(yk.var(ddof=1)) - float(vk.mean()))
    for _ in range(_MAX_ITERATIONS):
        w = 1.0 / (vk + a)
        mu = float((w * yk).sum() / w.sum())
        nxt = max(0.0, float((w * (k / (k - 1) * (yk - mu) ** 2 - vk)).sum() / w.sum()))
        done = abs(nxt - a) <= _TOLERANCE * (1.0 + a)
        a = nxt
        if done:
            break
    w = 1.0 / (vk + a)
    mu = float((w * yk).sum() / w.sum())
    with np.errstate(invalid="ignore"):
        factor[known] = (k - 3) / (k - 1) * v[known] / (v[known] + a)
    estimate[known] = y[known] - factor[known] * (y[known] - mu)
    return Shrunk(estimate, factor, Prior(mu, a, k, "shrunk"))


def log_means(
    n: NDArray[np.int64], sum_log: Floats, sum_log2: Floats, fit: Mask
) -> tuple[Floats, Floats, float]:
    """Per unit: mean log rate ``y`` and its sampling variance ``s2 / n`` (inf where n = 0),
    and ``s2``, the pooled within-unit variance of the ``fit`` units with two or more posts
    (NaN when there are none)."""
    n = np.asarray(n, dtype=np.int64)
    has = n > 0
    y = np.full(n.shape, np.nan)
    y[has] = sum_log[has] / n[has]
    many = (n > 1) & np.asarray(fit, dtype=bool)
    squares = sum_log2[many] - n[many] * y[many] ** 2
    # Equal logs leave only rounding error here (sum_log2 and n y² cancel): that is 0, not noise.
    squares[squares <= _ROUNDING * np.abs(sum_log2[many])] = 0.0
    dof = int((n[many] - 1).sum())
    within = float(squares.sum() / dof) if dof > 0 else float("nan")
    v = np.full(n.shape, np.inf)
    v[has] = within / n[has]
    return y, v, within


def shrink_log_means(
    n: NDArray[np.int64], sum_log: Floats, sum_log2: Floats, fit: Mask | None = None
) -> Shrunk:
    """Shrink the mean log rates of ONE stratum from their sums (``n`` posts each). ``fit``:
    the units the prior is estimated from (default: all)."""
    fit = np.ones(len(n), dtype=bool) if fit is None else np.asarray(fit, dtype=bool)
    y, v, within = log_means(n, sum_log, sum_log2, fit)
    if np.isnan(within):  # no eligible unit has two posts: the noise cannot be measured
        use = fit & (np.asarray(n) > 0)
        k = int(use.sum())
        mean = float(y[use].mean()) if k else float("nan")
        status: Status = "too_few_units" if k < MIN_UNITS else "no_repeated_posts"
        return Shrunk(y, np.zeros(len(y)), Prior(mean, float("nan"), k, status))
    return morris(y, v, fit)


def shrink_shares(n: NDArray[np.int64], hits: Floats, fit: Mask | None = None) -> Shrunk:
    """Shrink the shares ``hits / n`` of ONE stratum on the arcsine scale; the estimate is
    turned back into a share (0 to 1). The prior is returned on the arcsine scale."""
    n = np.asarray(n, dtype=np.int64)
    fit = np.ones(len(n), dtype=bool) if fit is None else np.asarray(fit, dtype=bool)
    has = n > 0
    theta = np.full(n.shape, np.nan)
    v = np.full(n.shape, np.inf)
    share = np.clip(hits[has] / n[has], 0.0, 1.0)
    theta[has] = np.arcsin(np.sqrt(share))
    v[has] = 1.0 / (4.0 * n[has])
    result = morris(theta, v, fit)
    back = np.sin(np.clip(result.estimate, 0.0, np.pi / 2)) ** 2
    return Shrunk(np.where(has, back, np.nan), result.factor, result.prior)
