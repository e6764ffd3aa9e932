"""Did a cost change between BASE and NEW? The effect, its interval, what could have been seen,
and the verdict (pyperf's lesson, and the style of its issue #22).

The effect is the ratio NEW / BASE of geometric means, on the log scale:
- between processes: of the per-process (or per-run) medians, when either side holds two or
  more. Welch's t when both do; when only one does, its between-process variance stands for
  both sides (a single new run is judged against the spread the base measured);
- within one process (both sides one process): of the rounds themselves, Welch's t. Run-to-run
  variation is then not in the interval, and the row says so.
Quality scores per item use a seeded bootstrap of the means (`bootstrap_change`).

Each change carries its minimum detectable effect (the smallest change that this comparison
would detect with 80% power at the chosen alpha) and P(new > base), read from the t
distribution of the log ratio. `verdict` turns a change into regression / improvement /
unchanged / inconclusive against a threshold per metric: "unchanged" needs the power to see
the threshold, so too little data is "inconclusive", never "unchanged".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


ALPHA = 0.05
POWER = 0.80
VERDICTS = ("regression", "improvement", "unchanged", "inconclusive")


@dataclass(frozen=True)
class Change:
    base: float  # the compared statistic on each side
    new: float
    ratio: float  # new / base
    low: float  # 95% (1 - alpha) interval of the ratio
    high: float
    p_value: float  # two-sided, H0: ratio = 1
    mde: float  # minimum detectable effect, relative (0.05 = a 5% change), at 80% power
    p_new_larger: float  # P(new > base): for a cost, P(new is slower / larger)
    scope: str  # "between processes" | "within one process" | "items"
    processes: tuple[int, int] | None  # processes on each side (None for items)
    log_ratio: float = 0.0  # the estimate behind ratio, low and high: log(new / base) ...
    se: float = 0.0  # ... its standard error ...
    df: float = math.inf  # ... and degrees of freedom

    def equivalent(self, threshold: float, alpha: float = ALPHA) -> bool:
        """Two one-sided tests: the (1 - 2 alpha) interval of the ratio lies within a change of
        +-threshold, so a real change of `threshold` would be called unchanged at most alpha of
        the time, however lucky a small sample's spread."""
        bound = math.log1p(threshold)
        if self.se == 0.0:
            return abs(self.log_ratio) <= bound
        return abs(self.log_ratio) + float(stats.t.ppf(1 - alpha, self.df)) * self.se <= bound


def _t_parts(log_ratio: float, se: float, df: float, alpha: float) -> tuple[float, float, float, float, float]:
    """(low, high, p_value, mde, p_larger) for a log-ratio estimate with standard error `se`."""
    if se == 0.0 or not math.isfinite(se):
        same = log_ratio == 0.0
        ratio = math.exp(log_ratio)
        return ratio, ratio, 1.0 if same else 0.0, 0.0, 0.5 if same else float(log_ratio > 0)
    crit = float(stats.t.ppf(1 - alpha / 2, df))
    low, high = math.exp(log_ratio - crit * se), math.exp(log_ratio + crit * se)
    p_value = float(2 * stats.t.sf(abs(log_ratio) / se, df))
    mde = math.exp((crit + float(stats.t.ppf(POWER, df))) * se) - 1.0
    p_larger = float(stats.t.cdf(log_ratio / se, df))
    return low, high, p_value, mde, p_larger


def log_change(base: np.ndarray, new: np.ndarray, *, scope: str, alpha: float = ALPHA,
               processes: tuple[int, int] | None = None) -> Change:
    """Welch's t on the logs of positive replicates (per-process medians, or rounds);
    `processes` defaults to the number of replicates on each side."""
    lb, ln = np.log(np.asarray(base, dtype=np.float64)), np.log(np.asarray(new, dtype=np.float64))
    kb, kn = lb.size, ln.size
    vb = float(lb.var(ddof=1)) if kb >= 2 else None
    vn = float(ln.var(ddof=1)) if kn >= 2 else None
    if vb is None and vn is None:
        raise ValueError("a change needs two or more replicates on at least one side")
    if vb is None or vn is None:
        # One side has a single replicate: the other side's spread stands for both.
        var, df = (vb, kb - 1) if vn is None else (vn, kn - 1)
        se = math.sqrt(var / kb + var / kn)
    else:
        a, b = vb / kb, vn / kn
        se = math.sqrt(a + b)
        df = (a + b) ** 2 / (a * a / (kb - 1) + b * b / (kn - 1)) if a + b > 0 else kb + kn - 2
    log_ratio = float(ln.mean() - lb.mean())
    low, high, p_value, mde, p_larger = _t_parts(log_ratio, se, df, alpha)
    return Change(float(np.exp(lb.mean())), float(np.exp(ln.mean())), math.exp(log_ratio), low, high, p_value,
                  mde, p_larger, scope, processes or (kb, kn), log_ratio, se, float(df))


def paired_bootstrap_means(base: np.ndarray, new: np.ndarray, rng: np.random.Generator, draws: int,
                           chunk_elements: int = 4_000_000) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap means of two score vectors over the same items: each draw resamples the items
    once, for both sides, so what the two sides share (which items are hard) cancels out."""
    n = base.size
    out_base, out_new = np.empty(draws), np.empty(draws)
    step = max(1, chunk_elements // n)
    for first in range(0, draws, step):
        size = min(step, draws - first)
        idx = rng.integers(0, n, size=(size, n))
        out_base[first:first + size] = base[idx].mean(axis=1)
        out_new[first:first + size] = new[idx].mean(axis=1)
    return out_base, out_new


def bootstrap_change(base_value: float, new_value: float, base_draws: np.ndarray, new_draws: np.ndarray,
                     p_value: float, *, alpha: float = ALPHA, scope: str = "items") -> Change:
    """A change of means from bootstrap draws of each side (per-item quality scores)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(new_draws / base_draws)
    logs = logs[np.isfinite(logs)]
    ratio = new_value / base_value
    if logs.size:
        low, high = (float(np.exp(x)) for x in np.quantile(logs, [alpha / 2, 1 - alpha / 2]))
        se = float(logs.std(ddof=1)) if logs.size > 1 else 0.0
    else:
        low = high = ratio
        se = 0.0
    mde = math.exp((stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(POWER)) * se) - 1.0
    larger = float(np.mean(new_draws > base_draws) + 0.5 * np.mean(new_draws == base_draws))
    return Change(base_value, new_value, ratio, low, high, p_value, mde, larger, scope, None,
                  math.log(ratio) if ratio > 0 else 0.0, se)


def worse_by(ratio: float, higher_is_better: bool) -> float:
    """How much worse NEW is (0.1 = 10% worse); negative when it is better."""
    return 1.0 - ratio if higher_is_better else ratio - 1.0


def p_new_worse(change: Change, higher_is_better: bool) -> float:
    return 1.0 - change.p_new_larger if higher_is_better else change.p_new_larger


def verdict(change: Change, *, higher_is_better: bool, threshold: float, min_effect: float = 0.02,
            alpha: float = ALPHA) -> str:
    """regression | improvement | unchanged | inconclusive, for one metric's `threshold`.

    - regression / improvement: the interval excludes no change (p < alpha) and the change is at
      least `min_effect`; its sign read with the metric's direction, so regression means worse;
    - unchanged: no such change, the comparison could have seen one of `threshold` (its minimum
      detectable effect is at most the threshold), and the change is shown to be smaller than
      the threshold (`Change.equivalent`);
    - inconclusive: no such change, but it could have been missed.
    """
    if change.p_value < alpha and abs(change.ratio - 1.0) >= min_effect:
        return "regression" if worse_by(change.ratio, higher_is_better) > 0 else "improvement"
    if change.mde <= threshold and change.equivalent(threshold, alpha):
        return "unchanged"
    return "inconclusive"
