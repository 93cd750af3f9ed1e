"""Pure statistics on known truth: slope CI coverage under autocorrelation, bootstrap difference."""
import numpy as np

from gaitmon.analysis.stats import bootstrap_diff, slope_ci


def _ar1(rng, n, phi):
    e = np.empty(n)
    e[0] = rng.normal()
    for i in range(1, n):
        e[i] = phi * e[i - 1] + np.sqrt(1 - phi * phi) * rng.normal()
    return e


def test_slope_ci_covers_truth_with_correlated_noise():
    """95 % CI of the slope contains the true slope in ~95 % of simulated sessions even though
    consecutive steps are correlated (plain OLS would cover far less)."""
    cover = naive_cover = 0
    runs = 200
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        x = np.arange(400) / 40.0  # minutes
        y = 5.0 + 0.1 * x + _ar1(rng, 400, 0.6)
        f = slope_ci(x, y)
        cover += f.ci95[0] <= 0.1 <= f.ci95[1]
        xc = x - x.mean()
        r = y - f.intercept - f.slope * x
        se = np.sqrt(r @ r / (len(x) - 2) / (xc @ xc))
        naive_cover += abs(f.slope - 0.1) <= 1.97 * se
    assert cover / runs >= 0.88
    assert naive_cover / runs < cover / runs  # the HAC correction matters on such data


def test_slope_ci_refuses_too_few_points():
    f = slope_ci([0, 1, 2], [1, 2, 3])
    assert f.ci95 is None and np.isnan(f.slope)
    f = slope_ci(np.ones(20), np.arange(20.0))  # no spread in x
    assert f.ci95 is None
    f = slope_ci([0, 1, 2, 3, 4, 5, np.nan, 7], [0, 1, 2, 3, 4, 5, 6, np.nan])  # NaN pairs ignored
    assert f.n == 6 and abs(f.slope - 1.0) < 1e-9


def test_bootstrap_diff_finds_real_difference_and_not_a_fake_one():
    rng = np.random.default_rng(1)
    d = bootstrap_diff(rng.normal(6, 0.7, 10), rng.normal(4.5, 0.7, 10), seed=1)
    assert d.ci95[1] < 0 and d.ci95[0] < d.diff < d.ci95[1]
    claims = 0
    for seed in range(40):
        rng = np.random.default_rng(100 + seed)
        d = bootstrap_diff(rng.normal(5, 0.7, 8), rng.normal(5, 0.7, 8), seed=seed, n_resamples=2000)
        claims += d.ci95[0] > 0 or d.ci95[1] < 0
    assert claims <= 5  # ~5 % expected (BCa on n=8 is a little liberal)
    assert bootstrap_diff([1.0], [2.0, 3.0]).ci95 is None
