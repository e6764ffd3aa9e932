"""The median and its distribution-free 95% interval (one sample; `grouped` does many at once).

[x_(j), x_(n-j+1)] covers the median when j <= B <= n - j, B ~ Binomial(n, 1/2) counting the
samples below it; j is the binomial quantile that keeps each tail below (1 - confidence) / 2.
Below n = 6 no pair of order statistics reaches 95%, so the interval is [min, max], and the
reported coverage says what it really is, never narrower.

The ranks are computed here in plain Python (exactly `scipy.stats.binom.ppf`, which the tests
check), and without numpy: the pytest plugin's summary uses this module, and importing
scipy.stats would cost every pytest session 0.7 s, numpy 0.35 s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

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


def median_interval(samples: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """The median of `samples` (a list or an array) with its order-statistic interval."""
    ordered = sorted(float(x) for x in samples)
    n = len(ordered)
    if n == 0:
        raise ValueError("no samples")
    lo, hi, coverage = median_ranks(n, confidence)
    middle = 0.5 * (ordered[(n - 1) // 2] + ordered[n // 2])
    return Interval(middle, ordered[lo], ordered[hi], n, coverage)
