"""Seeded percentile bootstraps: of a mean, a median, a ratio of two statistics, and resampling
weights for many draws at once.

Seeds are derived per (seed, key) (`stable_seed`), so adding an entry never changes another
entry's interval, on any platform and in any process.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

import numpy as np

from frontierbench.stats.intervals import CONFIDENCE, Interval

Statistic = Literal["mean", "median"]
CHUNK_ELEMENTS = 4_000_000  # resampled values held at once


def stable_seed(seed: int, *key: str) -> np.random.SeedSequence:
    """A seed sequence from the user's seed and a key, the same on every platform and process."""
    digest = hashlib.sha256("\x1f".join(key).encode("utf-8")).digest()
    return np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int.from_bytes(digest[:8], "little")])


def bootstrap_statistic(samples: Any, rng: np.random.Generator, draws: int, statistic: Statistic = "mean", *,
                        binary_shortcut: bool = True, chunk_elements: int = CHUNK_ELEMENTS) -> np.ndarray:
    """`draws` bootstrap replicates of the mean or median of `samples` (resampled with replacement).

    The mean of n resampled 0/1 items is Binomial(n, p)/n: with `binary_shortcut` it is drawn
    directly, the same distribution without resampling.
    """
    samples = np.asarray(samples, dtype=np.float64)
    n = samples.size
    if n == 0:
        raise ValueError("no samples")
    if statistic == "mean" and binary_shortcut and np.all((samples == 0.0) | (samples == 1.0)):
        return rng.binomial(n, samples.mean(), size=draws) / n
    reduce = np.mean if statistic == "mean" else np.median
    out = np.empty(draws)
    step = max(1, chunk_elements // n)
    for first in range(0, draws, step):
        size = min(step, draws - first)
        out[first:first + size] = reduce(samples[rng.integers(0, n, size=(size, n))], axis=1)
    return out


def bootstrap_means(samples: Any, rng: np.random.Generator, draws: int,
                    chunk_elements: int = CHUNK_ELEMENTS) -> np.ndarray:
    """`draws` bootstrap replicates of the mean of `samples`."""
    return bootstrap_statistic(samples, rng, draws, "mean", chunk_elements=chunk_elements)


def percentile_interval(replicates: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The percentile interval of bootstrap replicates."""
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(replicates, [tail, 1.0 - tail])
    return float(low), float(high)


def mean_interval(samples: Any, *, seed: int = 0, key: tuple[str, ...] = (), draws: int = 1000,
                  confidence: float = CONFIDENCE) -> Interval:
    """Mean with a seeded percentile-bootstrap interval."""
    samples = np.asarray(samples, dtype=np.float64)
    rng = np.random.default_rng(stable_seed(seed, *key))
    low, high = percentile_interval(bootstrap_means(samples, rng, draws), confidence)
    return Interval(float(samples.mean()), low, high, int(samples.size))


def ratio_interval(numerator: Any, denominator: Any, rng: np.random.Generator, draws: int,
                   statistic: Statistic = "median", confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """Interval of statistic(numerator) / statistic(denominator), each side resampled on its own
    (independent samples, e.g. timed rounds); None when no replicate ratio is finite."""
    top = bootstrap_statistic(numerator, rng, draws, statistic)
    bottom = bootstrap_statistic(denominator, rng, draws, statistic)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = top / bottom
    ratios = ratios[np.isfinite(ratios)]
    return percentile_interval(ratios, confidence) if ratios.size else None


def bootstrap_counts(rng: np.random.Generator, draws: int, m: int) -> np.ndarray:
    """(draws, m) resampling weights: how often each of m units is drawn in each bootstrap draw."""
    idx = rng.integers(0, m, size=(draws, m), dtype=np.int32) + (np.arange(draws, dtype=np.int32) * m)[:, None]
    return np.bincount(idx.ravel(), minlength=draws * m).reshape(draws, m).astype(np.float64)
