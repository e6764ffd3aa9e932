"""Medians over many groups at once, vectorised with numpy: one sort for all groups, then index
arithmetic. The interval rule is intervals.median_ranks."""

from __future__ import annotations

import numpy as np

from frontierbench.stats.intervals import CONFIDENCE, median_ranks


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
    sizes, inverse = np.unique(n, return_inverse=True)
    ranks = np.array([median_ranks(int(size), confidence) for size in sizes]).reshape(-1, 3)[inverse]
    out["low"][nonempty] = ordered[start + ranks[:, 0].astype(np.int64)]
    out["high"][nonempty] = ordered[start + ranks[:, 1].astype(np.int64)]
    out["coverage"][nonempty] = ranks[:, 2]
    return out


def grouped_medians(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of `values` within each group code (NaN for empty groups); no intervals."""
    values = np.asarray(values, dtype=np.float64)
    groups = np.asarray(groups, dtype=np.int64)
    if groups.size and np.all(groups[1:] >= groups[:-1]) and not np.isnan(values).any():
        # Groups already contiguous (units of a history, in pool order): a partition per block of
        # equal-sized groups instead of one sort of everything; the same medians.
        counts = np.bincount(groups, minlength=n_groups)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        return row_medians(values, starts, counts, counts > 0)
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


def median_of(values: np.ndarray) -> float:
    """np.median of a 1-D array without NaN, to the bit, without its overhead (50 us a call: seconds
    over the thousands of series of a history): one partition, then the middle value or the mean
    of the middle two, as np.median takes them."""
    n = values.size
    k = n // 2
    if n % 2:
        return float(np.partition(values, k)[k])
    middle = np.partition(values, [k - 1, k])[k - 1:k + 1]
    return float(np.add.reduce(middle) / 2)


def run_spread(values: np.ndarray) -> float | None:
    """(max - min) / |median| of finite per-run point values; None for fewer than two runs or a
    zero median."""
    if values.size < 2:
        return None
    centre = abs(median_of(values))
    if centre == 0.0:
        return None
    return float(values.max() - values.min()) / centre
