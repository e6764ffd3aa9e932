"""Decisions on stacks of boards, and how alike two sets of decisions are (see docs/reliability.md).

Split out of reliability.py: the Pareto front, the primary ranking and the "strictly better"
matrices of a stack of boards, the per-draw similarities (Jaccard, Kendall tau-b, same top-1),
and the small statistics that turn them into reported figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest, rankdata

from frontierbench.stats.pareto import pareto_front_batch


# ---------------------------------------------------------------------------------------------
# Small statistics helpers


def wilson_lower(successes: float, n: int, confidence: float = 0.95) -> float:
    """Wilson score lower bound of a binomial proportion (the two-sided interval's lower end)."""
    if n <= 0:
        return float("nan")
    interval = binomtest(int(round(successes)), n).proportion_ci(confidence_level=confidence, method="wilson")
    return max(0.0, float(interval.low))


def front_label(p_front: float) -> str:
    if p_front >= 0.95:
        return "robust"
    if p_front >= 0.5:
        return "likely"
    if p_front >= 0.05:
        return "borderline"
    return "off"


# ---------------------------------------------------------------------------------------------
# Decisions on stacks of boards


@dataclass
class Decisions:
    front: np.ndarray  # (c, n) bool
    rank: np.ndarray  # (c, n) int, 1 = best, ties share the better rank
    better: np.ndarray  # (c, n, n) bool, [.., i, j] = i strictly better than j on the primary


def decide(v_min: np.ndarray, primary: int, candidates: np.ndarray | None = None) -> Decisions:
    front = pareto_front_batch(v_min, candidates)
    prim = v_min[..., primary]
    better = prim[..., :, None] < prim[..., None, :]
    # Ranks along the entries, 1 = lowest, ties share the better (smaller) rank.
    return Decisions(front, rankdata(prim, method="min", axis=-1), better)


def _count(x: np.ndarray) -> np.ndarray:
    """Per-board count of True in (c, ...) (count_nonzero per board beats it with an axis)."""
    return np.array([np.count_nonzero(b) for b in x], dtype=np.int64)


def similarity(d: Decisions, o: Decisions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per draw: Jaccard of the fronts, Kendall tau-b of the rankings, same top-1 set.

    tau-b from the "strictly better" matrices: concordant pairs are better in both, discordant
    pairs better in one and worse in the other, and each untied pair is one True in a matrix:
    tau_b = (concordant - discordant) / sqrt(untied_draw * untied_original).
    """
    c = len(d.front)
    inter = np.count_nonzero(d.front & o.front, axis=-1)
    union = np.count_nonzero(d.front | o.front, axis=-1)
    jaccard = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    ob = o.better
    obt = np.ascontiguousarray(np.swapaxes(ob, -1, -2))
    concordant = _count(d.better & ob)
    discordant = _count(d.better & obt)
    untied = _count(d.better)
    untied0 = _count(np.broadcast_to(ob, d.better.shape)) if len(ob) == c else \
        np.full(c, np.count_nonzero(ob))
    denom = np.sqrt(untied.astype(float) * untied0)
    both_flat = (untied == 0) & (untied0 == 0)
    tau = np.where(denom > 0, (concordant - discordant) / np.where(denom > 0, denom, 1.0),
                   np.where(both_flat, 1.0, 0.0))
    same_leader = np.all((d.rank == 1) == (o.rank == 1), axis=-1)
    return jaccard, tau, same_leader
