"""The shared statistics (frontierbench.stats): the median's interval, the bootstraps, the rounding
policy. Each is checked against a known answer or against the library that does the same job."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import stats

from frontierbench.stats.bootstrap import bootstrap_counts, bootstrap_statistic, mean_interval, ratio_interval
from frontierbench.stats.grouped import grouped_median_intervals, run_spread
from frontierbench.stats.intervals import median_interval, median_ranks
from frontierbench.stats.rounding import round_array, round_floats, round_or_none, round_reported, round_sig

# -- the median's distribution-free interval ----------------------------------------------------


def coverage(n: int, lower_rank: int) -> float:
    """P(the order statistics at 1-indexed ranks lower_rank and n+1-lower_rank bracket the median)."""
    below = sum(math.comb(n, i) for i in range(lower_rank)) / 2**n
    return 1 - 2 * below


def test_median_interval_for_10_samples_is_order_statistics_2_and_9():
    samples = list(range(1, 11))
    random.Random(0).shuffle(samples)
    interval = median_interval(samples)
    assert (interval.value, interval.low, interval.high) == (5.5, 2, 9)  # 1-indexed order statistics 2 and 9
    assert coverage(10, 2) >= 0.95 > coverage(10, 3)  # the narrowest pair that reaches 95%


@pytest.mark.parametrize("n, ranks", [(6, (1, 6)), (20, (6, 15)), (100, (40, 61))])
def test_median_interval_matches_the_binomial_table(n, ranks):
    interval = median_interval([float(i) for i in range(1, n + 1)])
    assert (interval.low, interval.high) == ranks
    assert interval.coverage == pytest.approx(coverage(n, ranks[0]), rel=1e-12)
    assert coverage(n, ranks[0]) >= 0.95 > coverage(n, ranks[0] + 1)


def test_too_few_samples_give_the_full_range_never_a_narrower_one():
    interval = median_interval([3.0, 1.0, 2.0, 5.0, 4.0])
    assert (interval.low, interval.high) == (1.0, 5.0)
    assert interval.coverage == pytest.approx(1 - 2 * 0.5**5)  # honest: below 95%
    assert (median_interval([7.0]).low, median_interval([7.0]).high) == (7.0, 7.0)
    with pytest.raises(ValueError):
        median_interval([])


def test_median_ranks_are_scipys_binomial_quantile():
    n = np.array([*range(1, 2001), 5_000, 77_777, 1_000_000])
    j = np.maximum(stats.binom.ppf(0.025, n, 0.5).astype(np.int64), 1)
    expected_coverage = stats.binom.cdf(n - j, n, 0.5) - stats.binom.cdf(j - 1, n, 0.5)
    ours = np.array([median_ranks(int(k)) for k in n])
    assert ours[:, 0].tolist() == (j - 1).tolist()
    assert ours[:, 1].tolist() == (n - j).tolist()
    assert ours[:, 2] == pytest.approx(expected_coverage, rel=1e-9)


def test_grouped_median_intervals_match_one_group_at_a_time():
    rng = np.random.default_rng(0)
    values = rng.lognormal(size=300)
    groups = rng.integers(0, 7, size=300)
    together = grouped_median_intervals(values, groups, 8)  # group 7 is empty
    for g in range(7):
        alone = median_interval(values[groups == g])
        assert (together["value"][g], together["low"][g], together["high"][g]) == (alone.value, alone.low, alone.high)
    assert np.isnan(together["value"][7]) and together["n"][7] == 0


def test_run_spread_is_range_over_median():
    assert run_spread(np.array([1.0, 2.0, 4.0])) == 1.5
    assert run_spread(np.array([3.0])) is None  # one run has no spread
    assert run_spread(np.array([-1.0, 1.0])) is None  # nothing to divide by


# -- bootstraps ---------------------------------------------------------------------------------


def test_mean_interval_of_scores_matches_the_normal_approximation_and_is_seeded():
    scores = np.array([1.0, 0.0] * 200)  # p = 0.5, n = 400: half-width ~ 1.96 * 0.025
    first = mean_interval(scores, seed=1, key=("x",), draws=4000)
    assert first.value == 0.5
    assert first.low == pytest.approx(0.5 - 0.049, abs=0.006)
    assert first.high == pytest.approx(0.5 + 0.049, abs=0.006)
    assert mean_interval(scores, seed=1, key=("x",), draws=4000) == first


def test_mean_interval_of_real_valued_scores_agrees_with_scipy_bootstrap():
    scores = np.random.default_rng(3).gamma(2.0, 1.0, 300)
    ours = mean_interval(scores, seed=0, key=("g",), draws=4000)
    theirs = stats.bootstrap((scores,), np.mean, n_resamples=4000, method="percentile",
                             random_state=np.random.default_rng(0)).confidence_interval
    assert ours.low == pytest.approx(theirs.low, rel=0.02)
    assert ours.high == pytest.approx(theirs.high, rel=0.02)


def test_the_median_bootstrap_agrees_with_scipy_bootstrap():
    rounds = np.random.default_rng(4).lognormal(-3, 0.2, 60)
    ours = np.quantile(bootstrap_statistic(rounds, np.random.default_rng(1), 4000, "median"), [0.025, 0.975])
    theirs = stats.bootstrap((rounds,), np.median, n_resamples=4000, method="percentile",
                             random_state=np.random.default_rng(0)).confidence_interval
    assert ours == pytest.approx([theirs.low, theirs.high], rel=0.03)


def test_ratio_interval_brackets_the_true_ratio():
    rng = np.random.default_rng(5)
    base, new = rng.normal(10.0, 0.2, 40), rng.normal(12.0, 0.2, 40)
    low, high = ratio_interval(new, base, np.random.default_rng(0), 2000, "median")
    assert low < 1.2 < high and high - low < 0.05
    assert ratio_interval(new, np.zeros(5), np.random.default_rng(0), 100) is None  # no finite ratio


def test_bootstrap_counts_draw_each_unit_m_times_in_all():
    counts = bootstrap_counts(np.random.default_rng(0), 500, 20)
    assert counts.shape == (500, 20) and (counts.sum(axis=1) == 20).all()
    assert counts.mean() == pytest.approx(1.0)


# -- the rounding policy ------------------------------------------------------------------------


def test_round_array_gives_seven_significant_digits():
    assert round_array([0.123456789, 123456789.0, -2.5e-9, 0.0]).tolist() == [0.1234568, 123456800.0, -2.5e-9, 0.0]


def test_one_significant_digit_rule_for_scalars_arrays_and_documents():
    values = [0.123456789, 98765.4321, -3.14159265e-7, 6.02214076e23]
    assert [round_sig(v) for v in values] == round_array(values).tolist()
    assert round_floats({"a": [values[0], {"b": values[1]}], "n": 3}) == {"a": [0.1234568, {"b": 98765.43}], "n": 3}
    assert round_sig(0.123456789, 3) == 0.123
    assert round_sig(None) is None and round_sig(0.0) == 0.0 and math.isinf(round_sig(math.inf))
    assert round_or_none(float("nan")) is None and round_or_none(2.0 / 3.0) == 0.6666667


def test_reported_figures_keep_ten_decimals():
    assert round_reported(0.95 + 1e-13) == 0.95
    assert round_reported(np.float64(1) / 3) == 0.3333333333
