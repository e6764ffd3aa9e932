"""Point estimates with 95% intervals, for pooled samples.

- Costs (per-round samples): the median, with the distribution-free order-statistic interval for
  the median (binomial ranks). Vectorised over many groups at once: one sort, then index arithmetic.
- Per-item quality: the mean, with a seeded percentile bootstrap over items. For 0/1 scores the
  bootstrap mean is exactly Binomial(n, p)/n, so it is drawn directly instead of resampling items.
- Seeds are derived per (seed, key), so adding an entry never changes another entry's interval.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
ROUND_DIGITS = 7  # significant digits written to leaderboard JSON


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float
    n: int
    coverage: float | None = None  # actual coverage of an order-statistic interval


def median_ranks(n: np.ndarray | int, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """0-based order-statistic indices (lo, hi) of the interval for the median of n samples.

    [x_(j), x_(n-j+1)] covers the median when j <= B <= n - j, B ~ Binomial(n, 1/2) counting the
    samples below it; j is the largest rank keeping each tail below (1 - confidence) / 2. Below
    n = 6 no pair of order statistics reaches 95%, so the interval is [min, max] and the returned
    coverage says what it really is.
    """
    n = np.asarray(n, dtype=np.int64)
    safe_n = np.maximum(n, 1)
    j = stats.binom.ppf((1.0 - confidence) / 2.0, safe_n, 0.5).astype(np.int64)
    j = np.maximum(j, 1)
    coverage = stats.binom.cdf(safe_n - j, safe_n, 0.5) - stats.binom.cdf(j - 1, safe_n, 0.5)
    return j - 1, safe_n - j, coverage


def grouped_median_intervals(values: np.ndarray, groups: np.ndarray, n_groups: int,
                             confidence: float = CONFIDENCE) -> dict[str, np.ndarray]:
    """Median and order-statistic interval of `values` within each integer group code.

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
    lo, hi, coverage = median_ranks(n, confidence)
    out["low"][nonempty] = ordered[start + lo]
    out["high"][nonempty] = ordered[start + hi]
    out["coverage"][nonempty] = coverage
    return out


def median_interval(samples: Any, confidence: float = CONFIDENCE) -> Interval:
    samples = np.asarray(samples, dtype=np.float64)
    if samples.size == 0:
        raise ValueError("no samples")
    result = grouped_median_intervals(samples, np.zeros(samples.size, dtype=np.int64), 1, confidence)
    return Interval(float(result["value"][0]), float(result["low"][0]), float(result["high"][0]),
                    int(samples.size), float(result["coverage"][0]))


def stable_seed(seed: int, *key: str) -> np.random.SeedSequence:
    """A seed sequence from the user's seed and a key, the same on every platform and process."""
    digest = hashlib.sha256("\x1f".join(key).encode("utf-8")).digest()
    return np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int.from_bytes(digest[:8], "little")])


def bootstrap_means(samples: np.ndarray, rng: np.random.Generator, draws: int,
                    chunk_elements: int = 4_000_000) -> np.ndarray:
    """`draws` bootstrap replicates of the mean of `samples` (resampling items with replacement)."""
    samples = np.asarray(samples, dtype=np.float64)
    n = samples.size
    if n == 0:
        raise ValueError("no samples")
    if np.all((samples == 0.0) | (samples == 1.0)):
        # The mean of n resampled 0/1 items is Binomial(n, p)/n: the same distribution, no resampling.
        return rng.binomial(n, samples.mean(), size=draws) / n
    means = np.empty(draws)
    step = max(1, chunk_elements // n)
    for first in range(0, draws, step):
        size = min(step, draws - first)
        means[first:first + size] = samples[rng.integers(0, n, size=(size, n))].mean(axis=1)
    return means


def mean_interval(samples: Any, *, seed: int = 0, key: tuple[str, ...] = (), draws: int = 1000,
                  confidence: float = CONFIDENCE) -> Interval:
    """Mean with a seeded percentile-bootstrap interval."""
    samples = np.asarray(samples, dtype=np.float64)
    rng = np.random.default_rng(stable_seed(seed, *key))
    means = bootstrap_means(samples, rng, draws)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return Interval(float(samples.mean()), float(low), float(high), int(samples.size))


def run_spread(run_values: list[float]) -> float | None:
    """(max - min) / |median| of per-run point values; None for fewer than two runs."""
    values = sorted(v for v in run_values if v is not None and math.isfinite(v))
    if len(values) < 2:
        return None
    half = len(values) // 2
    centre = abs(values[half] if len(values) % 2 else 0.5 * (values[half - 1] + values[half]))
    if centre == 0.0:
        return None
    return (values[-1] - values[0]) / centre


def round_sig(value: float, digits: int = ROUND_DIGITS) -> float:
    if value == 0.0 or not math.isfinite(value):
        return value
    return float(f"{value:.{digits}g}")


def round_floats(data: Any, digits: int = ROUND_DIGITS) -> Any:
    """Round every float in a JSON-like structure to `digits` significant digits (stable bytes)."""
    if isinstance(data, float):
        return round_sig(data, digits)
    if isinstance(data, dict):
        return {key: round_floats(value, digits) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [round_floats(value, digits) for value in data]
    return data


def round_array(values: Any, digits: int = ROUND_DIGITS) -> np.ndarray:
    """Vectorised `round_sig`: each value rounded to `digits` significant digits.

    Scaling by an exact power of ten and dividing (or multiplying) back is correctly rounded, so
    the result is the double nearest the decimal with `digits` digits: stable, short JSON.
    """
    a = np.asarray(values, dtype=np.float64)
    out = a.copy()
    # Subnormal-range magnitudes would overflow the scale; they are left as they are.
    ok = np.isfinite(a) & (np.abs(a) > 1e-290)
    if not ok.any():
        return out
    x = a[ok]
    exponent = digits - 1 - np.floor(np.log10(np.abs(x))).astype(np.int64)
    up = exponent >= 0
    result = np.empty_like(x)
    scale = 10.0 ** exponent[up]
    result[up] = np.round(x[up] * scale) / scale
    down = 10.0 ** (-exponent[~up])
    result[~up] = np.round(x[~up] / down) * down
    out[ok] = result
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


def run_spread_array(values: np.ndarray) -> float | None:
    """`run_spread` for an array of finite per-run values."""
    if values.size < 2:
        return None
    centre = abs(float(np.median(values)))
    if centre == 0.0:
        return None
    return float(values.max() - values.min()) / centre
