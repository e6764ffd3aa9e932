"""Nested estimates: rounds sit inside processes, processes inside runs (pyperf's lesson).

Rounds measured in one process share that process's state (its memory layout, its CPU frequency,
what else the machine was doing at the time), so they are not independent re-measurements of the
cost. The unit of replication is the process: a worker process of `--frontier-processes N`, or a
whole run pooled by `aggregate`. With two or more units:

- point estimate: the median of the per-unit medians (each unit says what it measured, and one
  odd unit cannot drag the estimate the way its extra rounds would in a concatenation);
- 95% interval: Student's t on the unit medians, on the log scale when they are all positive
  (costs vary multiplicatively, and the interval then stays positive), clamped to contain the
  point. With k units it has k - 1 degrees of freedom, so 2 or 3 units give honest, wide intervals.

With one unit the caller keeps the within-process interval (the rounds' own order-statistic
interval) and labels it `ONE_PROCESS_NOTE`: run-to-run variation was not measured, and measured
between-run variation is never replaced by within-run noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from frontierbench.stats.grouped import grouped_medians, row_medians
from frontierbench.stats.intervals import CONFIDENCE
from frontierbench.stats.scope import BETWEEN_PROCESSES, ONE_PROCESS_NOTE, WITHIN_ONE_PROCESS  # noqa: F401


def t_quantile(df: Any, confidence: float = CONFIDENCE) -> np.ndarray:
    """Two-sided Student t quantile for `df` degrees of freedom (NaN where df < 1).

    scipy.special.stdtrit is what scipy.stats.t.ppf computes, to the bit; importing scipy.stats
    would add half a second to every `frontierbench aggregate`."""
    df = np.asarray(df, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(df >= 1, special.stdtrit(np.maximum(df, 1), 0.5 + confidence / 2.0), np.nan)


def unit_intervals(unit_values: np.ndarray, groups: np.ndarray, n_groups: int,
                   confidence: float = CONFIDENCE) -> dict[str, np.ndarray]:
    """Per group of units: the median of the unit values and a t-interval over the units.

    Returns arrays of length n_groups: value, low, high, replicates (the number of units), and
    log_scale (whether the interval was computed on logs). low/high are NaN below two units.
    """
    values = np.asarray(unit_values, dtype=np.float64)
    groups = np.asarray(groups, dtype=np.int64)
    k = np.bincount(groups, minlength=n_groups)
    value = grouped_medians(values, groups, n_groups)
    log_scale = np.bincount(groups, weights=(values <= 0).astype(np.float64), minlength=n_groups) == 0
    use_log = log_scale[groups]
    x = np.where(use_log, np.log(np.where(use_log, values, 1.0)), values)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(groups, weights=x, minlength=n_groups) / k
        ss = np.bincount(groups, weights=(x - mean[groups]) ** 2, minlength=n_groups)
        se = np.sqrt(ss / (k - 1) / k)
    half = t_quantile(k - 1, confidence) * se
    low, high = mean - half, mean + half
    low = np.where(log_scale, np.exp(low), low)
    high = np.where(log_scale, np.exp(high), high)
    several = k >= 2
    low = np.where(several, np.fmin(low, value), np.nan)
    high = np.where(several, np.fmax(high, value), np.nan)
    return {"value": value, "low": low, "high": high, "replicates": k, "log_scale": log_scale}


def unit_medians(samples: np.ndarray, unit_sizes: list[int] | np.ndarray | None) -> np.ndarray:
    """The median of each unit's samples; `samples` holds the units back to back."""
    samples = np.asarray(samples, dtype=np.float64)
    if unit_sizes is None or len(unit_sizes) <= 1:
        return np.array([np.median(samples)]) if samples.size else np.empty(0)
    sizes = np.asarray(unit_sizes, dtype=np.int64)
    if sizes.sum() != samples.size or (sizes < 1).any():
        raise ValueError(f"unit_sizes {sizes.tolist()} do not add up to the {samples.size} samples")
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    return row_medians(samples, offsets, sizes, np.ones(len(sizes), dtype=bool))


def nested_median(samples: Any, unit_sizes: list[int] | None = None) -> float:
    """Median of the per-unit medians: the point estimate `aggregate` writes for a cost."""
    medians = unit_medians(np.asarray(samples, dtype=np.float64), unit_sizes)
    if not medians.size:
        raise ValueError("no samples")
    return float(np.median(medians))


@dataclass(frozen=True)
class NestedInterval:
    value: float
    low: float
    high: float
    replicates: int
    n: int


def nested_interval(samples: Any, unit_sizes: list[int], confidence: float = CONFIDENCE) -> NestedInterval:
    """Point and t-interval over two or more units (see `unit_intervals`)."""
    medians = unit_medians(np.asarray(samples, dtype=np.float64), unit_sizes)
    if medians.size < 2:
        raise ValueError("a between-process interval needs two or more processes")
    out = unit_intervals(medians, np.zeros(medians.size, dtype=np.int64), 1, confidence)
    return NestedInterval(float(out["value"][0]), float(out["low"][0]), float(out["high"][0]),
                          int(medians.size), int(np.sum(unit_sizes)))
