"""The compiled board: draws value stacks (c, n, k) under each perturbation (see docs/reliability.md).

Split out of reliability.py: bootstrap and subsampling weights, per-item and per-round sources,
and `CompiledBoard`, which turns BoardSamples into the stacks of values that the families A-E draw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from frontierbench.stats.bootstrap import bootstrap_counts
from frontierbench.stats.nested import unit_medians
from frontierbench.stats.pareto import to_minimization

if TYPE_CHECKING:
    from frontierbench.reliability.inputs import BoardSamples


# ---------------------------------------------------------------------------------------------
# The compiled board: draws value stacks (c, n, k) under each perturbation


def _subsample_mask(rng: np.random.Generator, c: int, m: int, keep: int) -> np.ndarray:
    if keep >= m:
        return np.ones((c, m))
    chosen = np.argpartition(rng.random((c, m)), keep - 1, axis=1)[:, :keep]
    w = np.zeros((c, m))
    np.put_along_axis(w, chosen, 1.0, axis=1)
    return w


def win_rates(scores: np.ndarray, higher_is_better: bool = True) -> np.ndarray:
    """Per column, the share of the other entries each entry beats (ties count half).
    `scores` is (..., n_entries, n_columns); so is the result."""
    s = np.asarray(scores, dtype=np.float64)
    if not higher_is_better:
        s = -s
    n = s.shape[-2]
    if n < 2:
        return np.full(s.shape, 0.5)
    wins = (s[..., :, None, :] > s[..., None, :, :]).sum(axis=-2)
    ties = (s[..., :, None, :] == s[..., None, :, :]).sum(axis=-2) - 1  # minus itself
    return (wins + 0.5 * ties) / (n - 1)


def mean_win_rate(scores: np.ndarray, higher_is_better: bool = True) -> np.ndarray:
    """HELM-style mean win rate: `win_rates` averaged over columns, (..., n_entries).

    Relative to the other entries, so adding or removing one entry can reorder the rest: boards
    must not rank on it (docs/reliability.md, design rule). It exists so that the leave-one-out
    check can be shown to expose it; `CompiledBoard` scores sub-tasks with it on request.
    """
    return win_rates(scores, higher_is_better).mean(axis=-1)


class _ItemMatrix:
    """Per-item scores (n, m); point = mean of the valid items, else the fallback value."""

    def __init__(self, q: np.ndarray, fallback: np.ndarray | None):
        q = np.asarray(q, dtype=np.float64)
        self.valid = ~np.isnan(q)
        self.any_missing = not self.valid.all()
        self.q0 = np.where(self.valid, q, 0.0)
        self.validf = self.valid.astype(np.float64)
        self.m = q.shape[1]
        self.empty = ~self.valid.any(axis=1)
        self.fallback = np.full(len(q), np.nan) if fallback is None else np.asarray(fallback, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.point = self.q0.sum(1) / self.validf.sum(1)
        self.point[self.empty] = self.fallback[self.empty]

    def means(self, w: np.ndarray) -> np.ndarray:
        """(c, n) means under item weights w (c, m)."""
        total = w @ self.q0.T
        count = w @ self.validf.T if self.any_missing else w.sum(1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = total / count
        out[:, self.empty] = self.fallback[self.empty]
        return out


class _Rounds:
    """Per-entry rounds, resampled in two stages: an entry's processes (or runs) first, then the
    rounds within each drawn process (docs/reliability.md, family A). The point is the median of the
    per-process medians; an entry measured in one process resamples its rounds only.

    Entries of the same shape (processes x rounds) resample as one array. One-process entries are
    drawn first, exactly as before processes existed, so their draws do not change.
    """

    def __init__(self, rounds: list[np.ndarray], fallback: np.ndarray | None,
                 units: list[list[int] | None] | None = None):
        n = len(rounds)
        units = units or [None] * n
        arrays = [np.asarray(r, dtype=np.float64).ravel() for r in rounds]
        sizes = []
        for i, a in enumerate(arrays):
            unit = units[i]
            if unit is not None and len(unit) >= 2 and not np.isnan(a).any():
                sizes.append(np.asarray(unit, dtype=np.int64))
            else:
                arrays[i] = a[~np.isnan(a)]
                sizes.append(np.array([len(arrays[i])]))
        self.lengths = np.array([len(a) for a in arrays])
        fb = np.full(n, np.nan) if fallback is None else np.asarray(fallback, dtype=np.float64)
        self.point = np.array([np.median(unit_medians(a, s)) if len(a) else fb[i]
                               for i, (a, s) in enumerate(zip(arrays, sizes))])
        self.groups = []  # one process: (idx, (g, r) rounds)
        for r in sorted(set(int(a.size) for a, s in zip(arrays, sizes) if len(s) == 1) - {0}):
            idx = np.array([i for i, (a, s) in enumerate(zip(arrays, sizes)) if len(s) == 1 and a.size == r])
            self.groups.append((idx, np.stack([arrays[i] for i in idx])))
        self.nested = []  # several processes: (idx, (g, k, r_max) rounds padded with NaN, (g, k) sizes)
        shapes = sorted({(len(s), int(s.max())) for s in sizes if len(s) >= 2})
        for k, r in shapes:
            idx = np.array([i for i, s in enumerate(sizes) if len(s) == k and int(s.max()) == r])
            x = np.full((len(idx), k, r), np.nan)
            for row, i in enumerate(idx):
                bounds = np.concatenate(([0], np.cumsum(sizes[i])))
                for u in range(k):
                    x[row, u, :sizes[i][u]] = arrays[i][bounds[u]:bounds[u + 1]]
            self.nested.append((idx, x, np.stack([sizes[i] for i in idx])))

    @property
    def resampleable(self) -> bool:
        return bool((self.lengths >= 2).any())

    @property
    def processes(self) -> np.ndarray:
        """Processes (or runs) per entry: 1 where run-to-run variation was not measured."""
        out = np.ones(len(self.lengths), dtype=np.int64)
        for idx, x, _ in self.nested:
            out[idx] = x.shape[1]
        return out

    def draw(self, rng: np.random.Generator, c: int, mode) -> np.ndarray:
        out = np.broadcast_to(self.point, (c, len(self.point))).copy()
        for idx, x in self.groups:
            g, r = x.shape
            if mode == "boot":
                pick = rng.integers(0, r, size=(c, g, r))
            else:  # a fraction: a random subset, without replacement, of each entry's rounds
                keep = max(1, int(round(r * mode)))
                if keep >= r:
                    continue
                pick = np.argpartition(rng.random((c, g, r)), keep - 1, axis=2)[:, :, :keep]
            out[:, idx] = np.median(x[np.arange(g)[None, :, None], pick], axis=2)
        for idx, x, sizes in self.nested:
            out[:, idx] = _draw_nested(rng, c, x, sizes, mode)
        return out


def _draw_nested(rng: np.random.Generator, c: int, x: np.ndarray, sizes: np.ndarray, mode) -> np.ndarray:
    """(c, g): per draw, the median of the per-process medians of (g, k, r) rounds, padded with NaN
    where a process has fewer than r. "boot": k processes drawn with replacement, then each drawn
    process's rounds with replacement; a fraction: every process, a subset of its rounds."""
    g, k, r = x.shape
    ragged = bool((sizes != r).any())
    rows = np.arange(g)[None, :, None, None]
    if mode == "boot":
        units = rng.integers(0, k, size=(c, g, k))
        unit_sizes = sizes[np.arange(g)[None, :, None], units]  # (c, g, k)
        if ragged:
            slots = np.arange(r)
            pick = (rng.random((c, g, k, r)) * unit_sizes[..., None]).astype(np.int64)
            values = np.where(slots < unit_sizes[..., None], x[rows, units[..., None], pick], np.nan)
            return np.median(np.nanmedian(values, axis=3), axis=2)
        pick = rng.integers(0, r, size=(c, g, k, r))
        return np.median(np.median(x[rows, units[..., None], pick], axis=3), axis=2)
    keep = np.maximum(1, np.round(sizes * mode).astype(np.int64))  # (g, k)
    if (keep >= sizes).all():
        return np.broadcast_to(np.median(np.nanmedian(x, axis=2), axis=1), (c, g))
    noise = rng.random((c, g, k, r))
    noise[:, np.arange(r)[None, None, :] >= sizes[:, :, None]] = 2.0  # padding is never chosen
    ranks = np.argsort(np.argsort(noise, axis=3), axis=3)
    values = np.where(ranks < keep[None, :, :, None], x[None], np.nan)
    return np.median(np.nanmedian(values, axis=3), axis=2)


class CompiledBoard:
    def __init__(self, s: BoardSamples):
        self.s = s
        self.n = len(s.entries)
        self.metrics = [o.metric for o in s.objectives]
        self.k = len(self.metrics)
        self.maximize = [o.maximize for o in s.objectives]
        self.primary = self.metrics.index(s.primary)
        self.sources: list[tuple[str, object]] = []
        for o in s.objectives:
            m = o.metric
            fb = s.point.get(m)
            if m in s.cost_rounds:
                self.sources.append(("rounds", _Rounds(s.cost_rounds[m], fb, s.cost_units.get(m))))
            elif m in s.quality_items:
                self.sources.append(("items", _ItemMatrix(s.quality_items[m], fb)))
            elif s.subtasks and m == s.subtask_metric:
                self.sources.append(("subtasks", None))
            else:
                self.sources.append(("point", np.asarray(fb, dtype=np.float64)))
        self.sub_names = list(s.subtasks or {})
        self.sub = [_ItemMatrix(s.subtasks[name], None) for name in self.sub_names]
        self.sub_maximize = (self.maximize[self.metrics.index(s.subtask_metric)]
                             if s.subtask_metric in self.metrics else True)
        self.sub_point = np.stack([t.point for t in self.sub], axis=-1) if self.sub else None  # (n, S)

    # what can be perturbed
    @property
    def has_rounds(self) -> bool:
        return any(kind == "rounds" and src.resampleable for kind, src in self.sources)

    @property
    def has_items(self) -> bool:
        return any(kind == "items" and src.m >= 2 for kind, src in self.sources) or \
            any(t.m >= 2 for t in self.sub)

    @property
    def n_subtasks(self) -> int:
        return len(self.sub) if any(kind == "subtasks" for kind, _ in self.sources) else 0

    def processes(self) -> np.ndarray:
        """Per entry, the fewest processes (or runs) behind any of its resampled costs."""
        counts = [src.processes for kind, src in self.sources if kind == "rounds"]
        return np.min(np.stack(counts), axis=0) if counts else np.ones(self.n, dtype=np.int64)

    def max_rounds(self) -> int:
        return max([int(src.lengths.max()) for kind, src in self.sources if kind == "rounds"] or [0])

    def max_items(self) -> int:
        return max([src.m for kind, src in self.sources if kind == "items"] + [t.m for t in self.sub] or [0])

    def aggregate_subtasks(self, per_sub: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """(..., n, S) per-sub-task scores -> (..., n), weighting sub-tasks by `weights` (..., S)."""
        per = win_rates(per_sub, self.sub_maximize) if self.s.quality_aggregate == "mean_win_rate" else per_sub
        if weights is None:
            return per.mean(axis=-1)
        w = weights[..., None, :]
        return (per * w).sum(axis=-1) / w.sum(axis=-1)

    def point_values(self, keep: np.ndarray | None = None) -> np.ndarray:
        """(n_keep, k) point estimates, scores recomputed on the kept entries only."""
        keep = np.arange(self.n) if keep is None else keep
        cols = []
        for kind, src in self.sources:
            if kind == "subtasks":
                cols.append(self.aggregate_subtasks(self.sub_point[keep]))
            elif kind == "point":
                cols.append(src[keep])
            else:
                cols.append(src.point[keep])
        return np.stack(cols, axis=-1)

    def draw(self, rng: np.random.Generator, c: int, rounds=None, items=None,
             sub_weights: np.ndarray | None = None) -> np.ndarray:
        """(c, n, k) values. rounds/items: None (point), "boot", or a fraction to subsample.

        Item weights are shared by every metric with the same item count (paired items);
        each sub-task draws its own items, the same for every entry.
        """
        weights: dict = {}

        def item_weights(key, m):
            if key not in weights:
                if items == "boot":
                    weights[key] = bootstrap_counts(rng, c, m)
                else:
                    weights[key] = _subsample_mask(rng, c, m, max(1, int(round(m * items))))
            return weights[key]

        out = np.empty((c, self.n, self.k))
        for d, (kind, src) in enumerate(self.sources):
            if kind == "point":
                out[:, :, d] = src
            elif kind == "rounds":
                out[:, :, d] = src.point if rounds is None else src.draw(rng, c, rounds)
            elif kind == "items":
                out[:, :, d] = src.point if items is None else src.means(item_weights(("m", src.m), src.m))
            else:
                if items is None:
                    per = np.broadcast_to(self.sub_point, (c,) + self.sub_point.shape)
                else:
                    per = np.stack([t.means(item_weights(("s", i), t.m)) for i, t in enumerate(self.sub)], axis=-1)
                out[:, :, d] = self.aggregate_subtasks(per, sub_weights)
        return out

    def to_min(self, values: np.ndarray) -> np.ndarray:
        return to_minimization(values, self.maximize)
