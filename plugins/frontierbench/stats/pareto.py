"""Pareto sets, hypervolume and derived metrics, vectorised with numpy.

Conventions shared by every function here:

- `values` is an (n, k) array: one row per entry, one column per objective.
- `maximize` gives each column's direction (True: higher is better). Internally every column is
  turned into "lower is better" (`to_minimization`), so one comparison rule serves all.
- A missing value (NaN) counts as the worst possible value on its axis: an entry never gains a
  place on the front from a number it does not have.
- Row a dominates row b when a is at least as good on every objective and strictly better on at
  least one. Exact duplicates do not dominate each other, so all copies of a non-dominated point
  are on the front.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "to_minimization",
    "pareto_front",
    "pareto_front_batch",
    "dominators",
    "hypervolume",
    "cost_per_correct",
    "accuracy_per_watt",
    "full_cycle_energy",
    "full_cycle_energies",
    "counterfactual_fronts",
]

_BLOCK = 512  # rows compared at once in the blocked front; bounds memory at |front| x 512 x k


def to_minimization(values: np.ndarray, maximize: Sequence[bool]) -> np.ndarray:
    """float64 copy of `values` (..., k) in which lower is better on every axis and NaN is +inf."""
    v = np.array(values, dtype=np.float64, copy=True)
    if v.shape[-1:] != (len(maximize),):
        raise ValueError(f"values have {v.shape[-1] if v.ndim else 0} objectives but maximize has {len(maximize)}")
    flip = np.asarray(maximize, dtype=bool)
    v[..., flip] *= -1.0
    v[np.isnan(v)] = np.inf
    return v


def _as_2d(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2:
        raise ValueError(f"values must be a 2-D (entries x objectives) array, got shape {v.shape}")
    return v


# ---------------------------------------------------------------------------------------------
# Pareto front


def _front_sorted_unique(u: np.ndarray) -> np.ndarray:
    """Front of rows that are distinct and sorted lexicographically (minimisation).

    In that order a row can only be dominated by an earlier row, and an earlier row that is
    <= on columns 1.. is <= on column 0 too, and distinct, so it dominates. By transitivity it
    is enough to compare each row with the front rows found before it and the earlier rows of
    its own block.
    """
    m, k = u.shape
    if k == 1:
        on = np.zeros(m, dtype=bool)
        on[0] = True
        return on
    if k == 2:
        # Sweep: on the front iff strictly below every earlier point's second coordinate.
        on = np.ones(m, dtype=bool)  # the first row has nothing before it
        on[1:] = u[1:, 1] < np.minimum.accumulate(u[:-1, 1])
        return on
    rest = u[:, 1:]
    on = np.zeros(m, dtype=bool)
    front = np.empty((0, k - 1))
    for start in range(0, m, _BLOCK):
        block = rest[start:start + _BLOCK]
        b = len(block)
        dominated = np.zeros(b, dtype=bool)
        if len(front):
            le = np.ones((len(front), b), dtype=bool)
            for d in range(k - 1):
                le &= front[:, d, None] <= block[None, :, d]
            dominated = le.any(axis=0)
        # Earlier rows of the same block (strict lower triangle: j before i).
        le = np.tril(np.ones((b, b), dtype=bool), k=-1)
        for d in range(k - 1):
            le &= block[None, :, d] <= block[:, None, d]
        dominated |= le.any(axis=1)
        on[start:start + b] = ~dominated
        front = np.concatenate((front, block[~dominated]))
    return on


def pareto_front(values: np.ndarray, maximize: Sequence[bool]) -> np.ndarray:
    """Boolean mask of the non-dominated rows of `values` (n, k).

    Sorts the rows lexicographically, collapses exact duplicates, then sweeps (k = 2) or compares
    blocks against the front found so far (k > 2): O(n log n + n * |front| * k).
    """
    v = _as_2d(values)
    n = len(v)
    if n == 0:
        return np.zeros(0, dtype=bool)
    v = to_minimization(v, maximize)
    order = np.lexsort(v.T[::-1])  # column 0 first
    s = v[order]
    first = np.ones(n, dtype=bool)
    first[1:] = np.any(s[1:] != s[:-1], axis=1)
    group = np.cumsum(first) - 1
    on_unique = _front_sorted_unique(s[first])
    out = np.empty(n, dtype=bool)
    out[order] = on_unique[group]
    return out


def _dominated_by(v_min: np.ndarray, by: np.ndarray, targets: np.ndarray, distinct: bool) -> np.ndarray:
    """(c, len(targets)): whether some row in `by` dominates each target row, per board.

    With `distinct` (no two rows of a board are equal) "<= everywhere" between two different
    rows already means domination, which halves the comparisons.
    """
    a, b = v_min[:, by], v_min[:, targets]
    shape = (len(v_min), len(by), len(targets))
    le = np.ones(shape, dtype=bool)
    tmp = np.empty(shape, dtype=bool)
    lt = None if distinct else np.zeros(shape, dtype=bool)
    for d in range(v_min.shape[-1]):
        x, y = a[:, :, None, d], b[:, None, :, d]
        le &= np.less_equal(x, y, out=tmp)
        if lt is not None:
            lt |= np.less(x, y, out=tmp)
    if lt is None:
        le &= by[:, None] != targets[None, :]
        return le.any(axis=1)
    return (le & lt).any(axis=1)


def _rows_distinct(v_min: np.ndarray) -> bool:
    """True when no board in the stack has two equal rows: some column has no ties anywhere."""
    if v_min.shape[1] < 2:
        return True
    for d in range(v_min.shape[-1]):
        col = np.sort(v_min[:, :, d], axis=1)
        if not np.any(col[:, 1:] == col[:, :-1]):
            return True
    return False


def pareto_front_batch(v_min: np.ndarray, candidates: np.ndarray | None = None) -> np.ndarray:
    """Front masks (c, n) for a stack of boards (c, n, k) already in minimisation form.

    Quadratic per board but vectorised across boards: the tool for many small boards
    (bootstrap draws), where `pareto_front` is the tool for one large board.

    `candidates` (row indices likely to dominate, e.g. the front of the unperturbed board) only
    speeds it up; the result is exact whatever they are: rows they do not dominate are then
    checked against every row.
    """
    c, n, _ = v_min.shape
    every = np.arange(n)
    distinct = _rows_distinct(v_min)
    if candidates is None or len(candidates) == 0 or 2 * len(candidates) >= n:
        return ~_dominated_by(v_min, every, every, distinct)
    dominated = _dominated_by(v_min, np.asarray(candidates), every, distinct)
    open_rows = np.flatnonzero(~dominated.all(axis=0))
    if len(open_rows):
        dominated[:, open_rows] |= _dominated_by(v_min, every, open_rows, distinct)
    return ~dominated


def dominators(values: np.ndarray, maximize: Sequence[bool]) -> list[list[int]]:
    """For each row, the sorted indices of the rows that dominate it (empty for front rows)."""
    v = to_minimization(_as_2d(values), maximize)
    n = len(v)
    result: list[list[int]] = []
    for start in range(0, n, _BLOCK):
        block = v[start:start + _BLOCK]
        le = np.ones((n, len(block)), dtype=bool)  # [j, i] = row j <= block row i everywhere
        lt = np.zeros((n, len(block)), dtype=bool)
        for d in range(v.shape[1]):
            le &= v[:, d, None] <= block[None, :, d]
            lt |= v[:, d, None] < block[None, :, d]
        dom = le & lt
        result.extend(np.flatnonzero(dom[:, i]).tolist() for i in range(len(block)))
    return result


# ---------------------------------------------------------------------------------------------
# Hypervolume


def _hv_min(points: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume dominated by `points` (all strictly better than ref) up to ref, minimisation.

    k = 1 and 2 are closed forms; higher k slices along the last axis (HSO): between consecutive
    last-axis values the slice is the (k-1)-D hypervolume of the points already passed.
    """
    m, k = points.shape
    if m == 0:
        return 0.0
    if k == 1:
        return float(ref[0] - points[:, 0].min())
    if k == 2:
        # Sweep along x; the running minimum of y is the staircase, dominated points included.
        order = np.lexsort((points[:, 1], points[:, 0]))
        x, y = points[order, 0], np.minimum.accumulate(points[order, 1])
        return float(np.sum((np.append(x[1:], ref[0]) - x) * (ref[1] - y)))
    if k > 3 and m > 1:
        points = points[pareto_front(points, [False] * k)]
    p = points[np.argsort(points[:, -1], kind="stable")]
    z_next = np.append(p[1:, -1], ref[-1])
    volume = 0.0
    for i in range(len(p)):
        depth = z_next[i] - p[i, -1]
        if depth > 0:
            volume += depth * _hv_min(p[: i + 1, :-1], ref[:-1])
    return float(volume)


def hypervolume(values: np.ndarray, maximize: Sequence[bool], reference: Sequence[float]) -> float:
    """Exact hypervolume of the points against a fixed reference point.

    Only points strictly better than the reference on every axis contribute. The reference
    must come from the board definition, not from the data, or it moves with the entries.
    Exact in any dimension; fast for a few dozen front points in up to 4-5 objectives.
    """
    v = to_minimization(_as_2d(values), maximize)
    ref = to_minimization(np.asarray(reference, dtype=np.float64)[None, :], maximize)[0]
    if not np.all(np.isfinite(ref)):
        raise ValueError(f"reference point must be finite, got {list(reference)}")
    inside = v[np.all(v < ref, axis=1)]
    if len(inside) > 1:
        inside = inside[pareto_front(inside, [False] * len(ref))]
    return _hv_min(inside, ref)


# ---------------------------------------------------------------------------------------------
# Derived metrics


def _finite(x) -> bool:
    return x is not None and isinstance(x, (int, float, np.floating, np.integer)) and math.isfinite(x)


def cost_per_correct(cost: float | None, accuracy: float | None) -> float | None:
    """Cost of pass: the expected cost of one correct answer, cost per attempt / accuracy.

    e.g. energy per correct item = (J per item) / accuracy. None when accuracy is 0 (no correct
    answer at any cost) or either input is missing.
    """
    if not (_finite(cost) and _finite(accuracy)) or accuracy <= 0:
        return None
    return float(cost) / float(accuracy)


def accuracy_per_watt(accuracy: float | None, energy_j: float | None, seconds: float | None) -> float | None:
    """Intelligence per watt: accuracy / mean power, with mean power = energy / time."""
    if not (_finite(accuracy) and _finite(energy_j) and _finite(seconds)) or energy_j <= 0 or seconds <= 0:
        return None
    return float(accuracy) / (float(energy_j) / float(seconds))


def full_cycle_energy(training_j: float | None, inference_j_per_item: float | None, n: int) -> float | None:
    """Training energy plus n inferences. None when either part is missing (never faked as 0)."""
    if not (_finite(training_j) and _finite(inference_j_per_item)):
        return None
    return float(training_j) + int(n) * float(inference_j_per_item)


def full_cycle_energies(training_j: float | None, inference_j_per_item: float | None,
                        intensities: Sequence[int]) -> dict[int, float | None]:
    """`full_cycle_energy` at each usage intensity (number of inferences)."""
    return {int(n): full_cycle_energy(training_j, inference_j_per_item, n) for n in intensities}


def counterfactual_fronts(values: np.ndarray, maximize: Sequence[bool],
                          families: Sequence[str | None]) -> dict[str, list[int]]:
    """For each entry family, the front (original row indices) once that family is removed.

    As in Cost-of-Pass: how much of the frontier does one family of methods hold up?
    Entries without a family are never removed.
    """
    v = _as_2d(values)
    if len(families) != len(v):
        raise ValueError(f"{len(families)} families for {len(v)} entries")
    fams = np.asarray([f if f is not None else "" for f in families], dtype=object)
    result: dict[str, list[int]] = {}
    for family in sorted({f for f in families if f is not None}):
        keep = np.flatnonzero(fams != family)
        on = pareto_front(v[keep], maximize) if len(keep) else np.zeros(0, dtype=bool)
        result[family] = keep[on].tolist()
    return result
