import math

import numpy as np
import pytest

from bench.errors import UserError
from bench.metrics.bootstrap import bootstrap_ci, bootstrap_set_ci


def test_coverage_near_nominal():
    """Percentile-bootstrap 95% CI of a mean covers the true mean ~95% of the time (n=50, skewed)."""
    rng = np.random.default_rng(2024)
    trials, hits = 300, 0
    for t in range(trials):
        x = rng.gamma(shape=4.0, scale=0.5, size=50)  # true mean 2.0
        _, lo, hi = bootstrap_ci(x, n_boot=400, seed=t)
        hits += lo <= 2.0 <= hi
    cover = hits / trials
    # binomial sd at 0.95 with 300 trials is 1.3%; percentile CIs undercover slightly at small n
    assert 0.88 <= cover <= 0.99, cover


def test_interval_shrinks_like_one_over_sqrt_n():
    rng = np.random.default_rng(1)
    widths = {}
    for n in (25, 100, 400, 1600):
        mean, lo, hi = bootstrap_ci(rng.normal(0, 1, n), n_boot=1000, seed=0)
        assert lo < mean < hi
        widths[n] = hi - lo
    assert widths[25] > widths[100] > widths[400] > widths[1600]
    assert widths[1600] == pytest.approx(2 * 1.96 / math.sqrt(1600), rel=0.2)
    assert widths[25] / widths[1600] == pytest.approx(8, rel=0.35)


def test_deterministic_and_mean_exact():
    x = np.arange(10.0)
    a = bootstrap_ci(x, seed=5)
    assert a == bootstrap_ci(list(x), seed=5)
    assert a[0] == 4.5
    assert bootstrap_ci(x, seed=6) != a


def test_degenerate_and_bad_inputs():
    m, lo, hi = bootstrap_ci([3.0])
    assert m == 3.0 and math.isnan(lo) and math.isnan(hi)
    assert bootstrap_ci([2.0, 2.0, 2.0]) == (2.0, 2.0, 2.0)
    with pytest.raises(UserError, match="no values"):
        bootstrap_ci([])
    with pytest.raises(UserError, match="inf/nan"):
        bootstrap_ci([1.0, float("inf")])
    with pytest.raises(UserError, match="n_boot"):
        bootstrap_ci([1.0, 2.0], n_boot=0)


def test_large_input_chunked():
    x = np.random.default_rng(0).normal(size=20_000)
    mean, lo, hi = bootstrap_ci(x, n_boot=300)
    assert lo < mean < hi and hi - lo < 0.05


def test_set_bootstrap_resamples_both_sets():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, (60, 1)), rng.normal(1, 1, (80, 1))
    seen = []

    def stat(x, y):
        seen.append((len(x), len(y)))
        return float(y.mean() - x.mean())

    value, lo, hi = bootstrap_set_ci(a, b, stat, n_boot=200, seed=0)
    assert value == pytest.approx(b.mean() - a.mean())
    assert lo < value < hi and 0.4 < hi - lo < 1.0  # ~2*1.96*sqrt(1/60+1/80) = 0.67
    assert set(seen) == {(60, 80)} and len(seen) == 201


def test_paired_set_bootstrap():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, (50, 1))
    b = a + rng.normal(0.5, 0.05, (50, 1))  # b_i tied to a_i
    diff = lambda x, y: float(y.mean() - x.mean())  # noqa: E731
    _, lo_p, hi_p = bootstrap_set_ci(a, b, diff, n_boot=300, paired=True)
    _, lo_i, hi_i = bootstrap_set_ci(a, b, diff, n_boot=300, paired=False)
    assert lo_p < 0.5 < hi_p and hi_p - lo_p < 0.1 < hi_i - lo_i
    with pytest.raises(UserError, match="equally many"):
        bootstrap_set_ci(a, b[:10], diff, paired=True)
