"""Percentiles (p50, p90, p99) with distribution-free intervals, and when the data cannot support one.

The number of samples below the true q-quantile is Binomial(n, q), so [x_(l), x_(u)] covers it
with probability F(u-1) - F(l-1) (F the binomial CDF). That is the median interval's argument
(`intervals.median_ranks`) for any q. A tail percentile needs many samples: the interval's upper
end exists only when q^n <= (1 - confidence) / 2, i.e. for n >= 368 at p99. With fewer, the
percentile is "not supported" and the highest one the data supports is named instead.

MLPerf LoadGen sizes its runs for a tight margin: (1 - q) / 20 at 99% confidence, which gives
23,886 queries for p90 and 262,742 for p99 (`mlperf_queries`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

CONFIDENCE = 0.95


@dataclass(frozen=True)
class QuantileEstimate:
    q: float
    n: int
    value: float | None  # None when the data does not support this percentile
    low: float | None
    high: float | None
    coverage: float | None
    supported: bool
    highest_supported: float | None  # the largest q with a two-sided interval at this n
    note: str


def quantile_ranks(n: int, q: float, confidence: float = CONFIDENCE) -> tuple[int, int, float] | None:
    """1-based ranks (l, u) of the order statistics bounding the q-quantile, and their coverage;
    None when n samples cannot bound it on both sides at this confidence."""
    if n < 1 or not 0 < q < 1:
        return None
    from scipy import stats  # here: an aggregate without tail latencies need not import it (half a second)

    tail = (1.0 - confidence) / 2.0
    # l: the largest rank with P(B <= l - 1) <= tail; u: the smallest with P(B >= u) <= tail.
    below = int(stats.binom.ppf(tail, n, q))  # smallest k with F(k) >= tail
    if stats.binom.cdf(below, n, q) > tail:
        below -= 1
    lower = below + 1
    upper = int(stats.binom.ppf(1.0 - tail, n, q)) + 1
    if lower < 1 or upper > n:
        return None
    coverage = float(stats.binom.cdf(upper - 1, n, q) - stats.binom.cdf(lower - 1, n, q))
    return lower, upper, coverage


def highest_supported_quantile(n: int, confidence: float = CONFIDENCE) -> float | None:
    """The largest q whose interval has an upper end with n samples: q^n = (1 - confidence) / 2."""
    if n < 1:
        return None
    q = ((1.0 - confidence) / 2.0) ** (1.0 / n)
    # Step down to a q whose ranks really exist (the binomial is discrete).
    while q > 0.5 and quantile_ranks(n, q, confidence) is None:
        q -= 0.0005
    return q if quantile_ranks(n, q, confidence) is not None else None


def samples_needed(q: float, confidence: float = CONFIDENCE) -> int:
    """The fewest samples that bound the q-quantile on both sides: about log(tail) / log(q)."""
    tail = (1.0 - confidence) / 2.0
    m = max(1, int(math.ceil(math.log(tail) / math.log(max(q, 1 - q)))) - 1)
    while quantile_ranks(m, q, confidence) is None:
        m += 1
    return m


def percentile_label(q: float) -> str:
    """0.99 -> "p99", 0.9286 -> "p92.8" (rounded down: never claim more than supported)."""
    tenths = math.floor(q * 1000 + 1e-9) / 10
    return f"p{tenths:g}"


def mlperf_queries(q: float, confidence: float = 0.99) -> int:
    """Queries MLPerf LoadGen asks for a q-quantile within a margin of (1 - q) / 20."""
    from scipy import stats

    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    margin = (1 - q) / 20
    return int(math.ceil(z * z * q * (1 - q) / (margin * margin)))


def quantile_interval(samples: Any, q: float, confidence: float = CONFIDENCE) -> QuantileEstimate:
    values = np.sort(np.asarray(samples, dtype=np.float64))
    n = len(values)
    highest = highest_supported_quantile(n, confidence)
    ranks = quantile_ranks(n, q, confidence)
    if ranks is None:
        best = f"; the highest it supports is {percentile_label(highest)}" if highest else ""
        need = samples_needed(q, confidence)
        note = (f"{percentile_label(q)} not supported: {n} samples cannot bound it at {confidence:.0%} "
                f"(it needs at least {need}{best})")
        return QuantileEstimate(q, n, None, None, None, None, False, highest, note)
    lower, upper, coverage = ranks
    value = float(np.quantile(values, q))
    note = f"order statistics {lower} and {upper} of {n} (binomial ranks, coverage {coverage:.3f})"
    return QuantileEstimate(q, n, value, float(values[lower - 1]), float(values[upper - 1]), coverage, True,
                            highest, note)
