"""Small, tested statistics: a linear slope with a 95 % CI that survives autocorrelated residuals,
and a bootstrap CI of a difference in means between two groups of independent units."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st


@dataclass(frozen=True)
class SlopeFit:
    """Least-squares line ``y = intercept + slope * x`` with a 95 % CI of the slope.

    Units are those of y per unit of x. ``n`` points were used; ``ci95`` is None when the fit is
    not possible (too few points or no spread in x)."""

    slope: float
    intercept: float
    ci95: tuple[float, float] | None
    n: int
    se: float

    def as_dict(self) -> dict:
        return {"slope": _r(self.slope), "intercept": _r(self.intercept), "n": self.n,
                "ci95": None if self.ci95 is None else [_r(self.ci95[0]), _r(self.ci95[1])]}


def _r(x, nd: int = 4):
    if x is None:
        return None
    x = float(x)
    return None if not math.isfinite(x) else round(x, nd)


def slope_ci(x, y, *, min_n: int = 6) -> SlopeFit:
    """OLS slope of ``y`` on ``x`` with a Newey–West (HAC) standard error.

    Consecutive steps are not independent (the drop of one step predicts the next), so the plain
    OLS standard error is too small; the Bartlett-kernel HAC estimator with ``L = ceil(1.5 n^(1/3))``
    lags accounts for that. The CI uses Student's t with n−2 degrees of freedom.
    Non-finite pairs are ignored.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = len(x)
    if n < min_n or np.ptp(x) <= 0:
        return SlopeFit(math.nan, math.nan, None, n, math.nan)
    xc = x - x.mean()
    sxx = float(xc @ xc)
    slope = float(xc @ (y - y.mean())) / sxx
    intercept = float(y.mean() - slope * x.mean())
    e = y - intercept - slope * x
    u = xc * e
    lags = min(int(math.ceil(1.5 * n ** (1 / 3))), n - 1)
    s = float(u @ u)
    for k in range(1, lags + 1):
        w = 1.0 - k / (lags + 1)
        s += 2.0 * w * float(u[k:] @ u[:-k])
    # never report less uncertainty than the iid formula
    s_iid = float(e @ e) / max(n - 2, 1) * sxx
    var = max(s, s_iid) / (sxx * sxx)
    se = math.sqrt(var)
    tq = float(_st.t.ppf(0.975, max(n - 2, 1)))
    return SlopeFit(slope, intercept, (slope - tq * se, slope + tq * se), n, se)


@dataclass(frozen=True)
class Difference:
    """Difference of means ``after − before`` with a bootstrap 95 % CI (units of the data)."""

    diff: float
    ci95: tuple[float, float] | None
    n_before: int
    n_after: int
    mean_before: float
    mean_after: float


def bootstrap_diff(before, after, *, n_resamples: int = 4000, seed: int = 0) -> Difference:
    """Mean(after) − mean(before) with a BCa bootstrap 95 % CI, resampling the units (e.g.
    sessions) of each group independently. CI is None with fewer than 2 units in a group."""
    b = np.asarray(before, float)
    a = np.asarray(after, float)
    b = b[np.isfinite(b)]
    a = a[np.isfinite(a)]
    mb = float(b.mean()) if len(b) else math.nan
    ma = float(a.mean()) if len(a) else math.nan
    if len(a) < 2 or len(b) < 2:
        return Difference(ma - mb, None, len(b), len(a), mb, ma)
    res = _st.bootstrap((a, b), lambda x, y, axis=-1: x.mean(axis=axis) - y.mean(axis=axis),
                        n_resamples=n_resamples, method="BCa", confidence_level=0.95,
                        random_state=np.random.default_rng(seed), vectorized=True)
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if not (math.isfinite(lo) and math.isfinite(hi)):  # degenerate (e.g. all values equal)
        res = _st.bootstrap((a, b), lambda x, y, axis=-1: x.mean(axis=axis) - y.mean(axis=axis),
                            n_resamples=n_resamples, method="percentile", confidence_level=0.95,
                            random_state=np.random.default_rng(seed), vectorized=True)
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return Difference(ma - mb, (lo, hi), len(b), len(a), mb, ma)
