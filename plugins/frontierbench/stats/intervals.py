"""The median and its distribution-free 95% interval, for one sample or many groups at once.

[x_(j), x_(n-j+1)] covers the median when j <= B <= n - j, B ~ Binomial(n, 1/2) counting the
samples below it; j is the binomial quantile that keeps each tail below (1 - confidence) / 2.
Below n = 6 no pair of order statistics reaches 95%, so the interval is [min, max], and the
reported coverage says what it really is, never narrower.

The ranks are computed here in plain Python (exactly `scipy.stats.binom.ppf`, which the tests
check): the pytest plugin's summary uses this module, and importing scipy.stats would cost every
pytest session 0.7 s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float
    n: int
    coverage: float | None = None  # actual coverage of an order-statistic interval


@lru_cache(maxsize=4096)
def median_ranks(n: int, confidence: float = CONFIDENCE) -> tuple[int, int, float]:
    """(lo, hi, coverage): 0-based order-statistic indices of the interval for the median of n samples."""
    n = max(int(n), 1)
    alpha = (1.0 - confidence) / 2.0
    # Binomial(n, 1/2) has less than 1e-15 of its mass below n/2 - 4 sqrt(n) (8 standard deviations).
    k = max(0, int(n / 2 - 4 * math.sqrt(n)))
    log_scale = math.lgamma(n + 1) - n * math.log(2.0)
    below = 0.0  # P(B <= k - 1)
    while True:
        term = math.exp(log_scale - math.lgamma(k + 1) - math.lgamma(n - k + 1))
        if below + term >= alpha:
            break
        below += term
        k += 1
    if k == 0:  # even the extremes miss the confidence: [min, max]
        k, below = 1, term
    return k - 1, n - k, 1.0 - 2.0 * below


def median_interval(samples: Sequence[float] | np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    """The median of `samples` with its order-statistic interval (no numpy needed for a list)."""
    ordered = sorted(float(x) for x in samples)
    n = len(ordered)
    if n == 0:
        raise ValueError("no samples")
    lo, hi, coverage = median_ranks(n, confidence)
    middle = 0.5 * (ordered[(n - 1) // 2] + ordered[n // 2])
    return Interval(middle, ordered[lo], ordered[hi], n, coverage)


def grouped_median_intervals(values: np.ndarray, groups: np.ndarray, n_groups: int,
                             confidence: float = CONFIDENCE) -> dict[str, np.ndarray]:
    """Median and order-statistic interval of `values` within each integer group code: one sort
    for all groups, then index arithmetic.

    Returns arrays of length n_groups: value, low, high, n, coverage (NaN where a group is empty).
    """
    values = np.asarray(values, dtype=np.float64)
    groups = np.asarray(groups, dtype=np.int64)
    order = np.lexsort((values, groups))
    ordered = values[order]
    counts = np.bincount(groups, minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    nonempty = counts > 0
    out = {key: np.full(n_groups, np.nan) for key in ("value", "low", "high", "coverage")}
    out["n"] = counts
    if not nonempty.any():
        return out
    n = counts[nonempty]
    start = starts[nonempty]
    out["value"][nonempty] = 0.5 * (ordered[start + (n - 1) // 2] + ordered[start + n // 2])
    sizes, inverse = np.unique(n, return_inverse=True)
    ranks = np.array([median_ranks(int(size), confidence) for size in sizes]).reshape(-1, 3)[inverse]
    out["low"][nonempty] = ordered[start + ranks[:, 0].astype(np.int64)]
    out["high"][nonempty] = ordered[start + ranks[:, 1].astype(np.int64)]
    out["coverage"][nonempty] = ranks[:, 2]
    return out


def grouped_medians(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of `values` within each group code (NaN for empty groups); no intervals."""
    order = np.lexsort((values, groups))
    ordered = np.asarray(values, dtype=np.float64)[order]
    counts = np.bincount(groups, minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    out = np.full(n_groups, np.nan)
    ok = counts > 0
    n, start = counts[ok], starts[ok]
    out[ok] = 0.5 * (ordered[start + (n - 1) // 2] + ordered[start + n // 2])
    return out


def row_medians(samples: np.ndarray, offsets: np.ndarray, counts: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Median of each row's samples (samples[offset : offset + count]) where mask is set, else NaN.

    Rows with the same count are gathered into one 2-D block and reduced at once.
    """
    out = np.full(len(counts), np.nan)
    rows = np.flatnonzero(mask)
    if not rows.size:
        return out
    for k in np.unique(counts[rows]):
        these = rows[counts[rows] == k]
        block = samples[offsets[these][:, None] + np.arange(k)]
        out[these] = np.median(block, axis=1)
    return out


def run_spread(values: np.ndarray) -> float | None:
    """(max - min) / |median| of finite per-run point values; None for fewer than two runs or a
    zero median."""
    if values.size < 2:
        return None
    centre = abs(float(np.median(values)))
    if centre == 0.0:
        return None
    return float(values.max() - values.min()) / centre
