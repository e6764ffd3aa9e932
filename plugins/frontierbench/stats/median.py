"""Small, dependency-free statistics used on the hot path (the plugin's summary)."""

from __future__ import annotations

import math
from typing import Sequence


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else 0.5 * (ordered[mid - 1] + ordered[mid])


def _binom_cdf(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2)."""
    return sum(math.comb(n, i) for i in range(k + 1)) / 2.0**n


def median_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Distribution-free interval for the median from order statistics (binomial ranks).

    With fewer than 6 samples no pair of order statistics reaches 95%: the interval is then the
    full sample range, which is wider than 95% would need, never narrower.
    """
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        raise ValueError("no samples")
    alpha = (1.0 - confidence) / 2.0
    lower = 0
    if n <= 1000:
        while lower + 1 < n and _binom_cdf(lower, n) <= alpha:
            lower += 1
        lower = max(0, lower - 1) if _binom_cdf(lower, n) > alpha else lower
    else:  # normal approximation of the binomial ranks
        lower = max(0, int(math.floor(n / 2 - 1.96 * math.sqrt(n) / 2)))
    upper = n - 1 - lower
    return ordered[lower], ordered[upper]
