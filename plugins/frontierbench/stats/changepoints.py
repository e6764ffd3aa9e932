"""Steps in a run-by-run series: where a metric moved to a new level, and by how much.

The model is asv's: the series is piecewise constant plus noise. The fit is ruptures' binary
segmentation with an L2 cost on the log of the run-level values (so a step is a ratio, and a 10%
slowdown weighs the same for a 1 ms and a 1 s case). A split is accepted when it lowers the cost
by more than a penalty proportional to the run-to-run noise variance and log(n) (a BIC-style
penalty), so the same rule serves a quiet metric and a noisy one.

Each step found is then reported as a ratio after / before (geometric means of the segments on
either side of it) with a 95% interval from the noise scale (Student's t on the fit's residual
degrees of freedom when the noise is estimated from the series); steps whose interval includes 1, or
smaller than `min_effect`, are dropped, so a step is only reported when it is distinguishable
from run-to-run variation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from frontierbench.stats.grouped import median_of
from frontierbench.stats.nested import t_quantile

Z95 = 1.959963984540054  # two-sided 95% normal quantile
# x noise variance x log(n). 6 keeps false alarms near 1 in 200 pure-noise series of 20 runs, and
# finds a 20% step in 3% noise every time and an 8% one 3 times in 4 (simulated; tests/test_history.py).
PENALTY_FACTOR = 6.0
MIN_SEGMENT = 2  # runs on each side of a step: one odd run is an outlier, not a step
NOISE_FLOOR = 1e-3  # log-scale noise never taken below 0.1% (identical values otherwise make every wiggle a step)


@dataclass(frozen=True)
class Step:
    index: int  # position of the first value after the step
    ratio: float  # after / before
    low: float  # 95% interval of the ratio
    high: float
    before: int  # number of values in the segment before
    after: int  # and after


def run_noise(log_values: np.ndarray) -> float:
    """Run-to-run noise (standard deviation) of a log series, robust to the steps themselves.

    The median absolute deviation of successive differences: a step moves one difference, not
    the median of all of them (the usual estimator for piecewise-constant signals).
    """
    diffs = np.diff(log_values)
    if diffs.size == 0:
        return NOISE_FLOOR
    mad = median_of(np.abs(diffs - median_of(diffs)))
    return max(1.4826 * mad / math.sqrt(2.0), NOISE_FLOOR)


def best_split_gain(log_values: np.ndarray, min_size: int = MIN_SEGMENT) -> float:
    """The cost reduction of the best single split: binary segmentation's first step, in O(n).

    When it is below the penalty, binary segmentation finds nothing, so most quiet series never
    need the full fit.
    """
    n = log_values.size
    if n < 2 * min_size:
        return 0.0
    centred = log_values - log_values.mean()
    sums = np.cumsum(centred)[min_size - 1:n - min_size]
    left = np.arange(min_size, n - min_size + 1, dtype=np.float64)
    # Between-segment sum of squares of a split after `left` values: S_left^2 * n / (left * right).
    return float(np.max(sums * sums * n / (left * (n - left))))


def residual_noise(log_values: np.ndarray, breaks: list[int]) -> float:
    """Standard deviation of the values around their segment means (the fit's residuals)."""
    bounds = [0, *breaks]
    squares = sum(float(((seg - seg.mean()) ** 2).sum())
                  for seg in (log_values[a:b] for a, b in zip(bounds[:-1], bounds[1:])))
    return max(math.sqrt(squares / max(log_values.size - len(breaks), 1)), NOISE_FLOOR)


def fit_breaks(log_values: np.ndarray, sigma: float, *, penalty_factor: float = PENALTY_FACTOR,
               min_size: int = MIN_SEGMENT) -> list[int]:
    """Binary segmentation's breakpoints (ending with n) at a penalty scaled by sigma^2 log(n)."""
    penalty = penalty_factor * sigma * sigma * math.log(log_values.size)
    if best_split_gain(log_values, min_size) <= penalty:
        return [log_values.size]
    import ruptures  # only here: most series never need it, and importing it costs a third of a second

    return ruptures.Binseg(model="l2", min_size=min_size, jump=1).fit(log_values).predict(pen=penalty)


def certainly_without_steps(series: list[np.ndarray], *, penalty_factor: float = PENALTY_FACTOR,
                            min_size: int = MIN_SEGMENT) -> np.ndarray:
    """Per series: True where find_steps (default noise) certainly finds no step. Decided for all
    series of one length at once, with the same arithmetic as find_steps' first look (run_noise,
    best_split_gain): a history's thousands of series are mostly quiet, and one at a time they cost
    a third of a second. A series this is not sure of is False, and find_steps decides."""
    out = np.zeros(len(series), dtype=bool)
    lengths = np.asarray([len(values) for values in series], dtype=np.int64)
    for n in np.unique(lengths).tolist():
        rows = np.flatnonzero(lengths == n)
        if n < 2 * min_size:
            out[rows] = True  # find_steps looks at none
            continue
        x = np.stack([np.asarray(series[i], dtype=np.float64) for i in rows.tolist()])
        valid = np.isfinite(x).all(axis=1) & (x > 0).all(axis=1)
        out[rows[~valid]] = True  # find_steps looks at none
        rows, logs = rows[valid], np.log(x[valid])
        if not rows.size:
            continue
        diffs = np.diff(logs, axis=1)
        sigma = np.maximum(1.4826 * _row_medians(np.abs(diffs - _row_medians(diffs)[:, None])) / math.sqrt(2.0),
                           NOISE_FLOOR)
        penalty = penalty_factor * sigma * sigma * math.log(n)
        centred = logs - logs.mean(axis=1, keepdims=True)
        sums = np.cumsum(centred, axis=1)[:, min_size - 1:n - min_size]
        left = np.arange(min_size, n - min_size + 1, dtype=np.float64)
        gain = np.max(sums * sums * n / (left * (n - left)), axis=1)
        # The row mean may differ from find_steps' by a rounding: only a gain clearly below the
        # penalty is certain.
        out[rows] = gain <= penalty * (1.0 - 1e-9)
    return out


def _row_medians(rows: np.ndarray) -> np.ndarray:
    """median_of of each row (np.median's values, to the bit)."""
    n = rows.shape[1]
    k = n // 2
    if n % 2:
        return np.partition(rows, k, axis=1)[:, k]
    middle = np.partition(rows, [k - 1, k], axis=1)
    return (middle[:, k - 1] + middle[:, k]) / 2


def find_steps(values: np.ndarray | list[float], *, noise: float | None = None, min_effect: float = 0.02,
               penalty_factor: float = PENALTY_FACTOR, min_size: int = MIN_SEGMENT) -> list[Step]:
    """Steps in a series of positive run-level values in run order (non-positive series: none).

    `noise` is the run-to-run standard deviation on the log scale. By default it starts from the
    series' own robust estimate (run_noise); a series with no candidate step at that scale has
    none (most series: only O(n) work). Otherwise the scale is refined from the residuals of the
    fit until the breakpoints settle: 19 successive differences alone give too unsteady a scale.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size < 2 * min_size or not np.all(np.isfinite(x)) or np.any(x <= 0):
        return []
    logs = np.log(x)
    fixed = noise is not None
    sigma = max(noise, NOISE_FLOOR) if fixed else run_noise(logs)
    breaks = fit_breaks(logs, sigma, penalty_factor=penalty_factor, min_size=min_size)
    if len(breaks) == 1:  # no candidate step at the robust noise scale: the common, cheap case
        return []
    for _ in range(0 if fixed else 3):
        sigma = residual_noise(logs, breaks)
        refit = fit_breaks(logs, sigma, penalty_factor=penalty_factor, min_size=min_size)
        if refit == breaks:
            break
        breaks = refit
    if len(breaks) == 1:
        return []
    quantile = Z95 if fixed else float(t_quantile(max(x.size - len(breaks), 1)))
    bounds = [0, *breaks]  # breaks end with n
    steps = []
    for i in range(1, len(bounds) - 1):
        before = logs[bounds[i - 1]:bounds[i]]
        after = logs[bounds[i]:bounds[i + 1]]
        shift = float(after.mean() - before.mean())
        half = quantile * sigma * math.sqrt(1.0 / before.size + 1.0 / after.size)
        if abs(shift) <= half or abs(math.expm1(shift)) < min_effect:
            continue
        steps.append(Step(index=bounds[i], ratio=math.exp(shift), low=math.exp(shift - half),
                          high=math.exp(shift + half), before=int(before.size), after=int(after.size)))
    return steps


@dataclass(frozen=True)
class Level:
    start: int  # first position of the segment
    stop: int  # one past its last position
    value: float  # geometric mean of the segment
    low: float  # 95% interval of that level
    high: float


def segment_levels(values: np.ndarray | list[float], starts: list[int]) -> list[Level]:
    """The level of each segment between steps (its values' geometric mean) with a 95% interval
    from the residual noise of the whole fit (Student's t on n - segments degrees of freedom).

    `starts` are the positions of the first value after each step (Step.index). A series with a
    non-positive value has no log-scale level: [] then.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0 or not np.all(np.isfinite(x)) or np.any(x <= 0):
        return []
    logs = np.log(x)
    breaks = sorted({s for s in starts if 0 < s < x.size}) + [x.size]
    sigma = residual_noise(logs, breaks) if x.size > len(breaks) else None
    quantile = float(t_quantile(max(x.size - len(breaks), 1)))
    levels = []
    for start, stop in zip([0, *breaks[:-1]], breaks):
        mean = float(logs[start:stop].mean())
        half = quantile * sigma / math.sqrt(stop - start) if sigma is not None else 0.0
        levels.append(Level(start, stop, math.exp(mean), math.exp(mean - half), math.exp(mean + half)))
    return levels
