"""Running a family: draws -> decisions -> similarity -> FamilyReport (see docs/reliability.md).

Split out of reliability.py: the chunked sampling loop shared by the sampled families (A, B, C,
the joint headline draws and the budget search), its per-family summary, and the exact
leave-one-entry-out family D.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from frontierbench.reliability.decisions import decide, Decisions, similarity, wilson_lower
from frontierbench.reliability.draws import CompiledBoard
from frontierbench.formats.reliability import FamilyReport
from frontierbench.stats.rounding import round_reported

CHUNK = 64  # draws evaluated at once; bounds memory at CHUNK x n x n booleans
FAMILY_DESCRIPTIONS = {
    "A": "measurement: bootstrap of each entry's processes or runs, then of the rounds within them",
    "B": "items: paired bootstrap of the quality items",
    "C": "benchmarks: bootstrap of the sub-tasks",
    "D": "entries: leave one entry out (exact)",
    "E": "sub-tasks: leave one sub-task out (exact)",
}


# ---------------------------------------------------------------------------------------------
# Running a family


@dataclass
class FamilyResult:
    jaccard: np.ndarray
    tau: np.ndarray
    same_leader: np.ndarray
    front: np.ndarray | None = None  # (draws, n) when collected
    rank: np.ndarray | None = None
    values: np.ndarray | None = None  # (draws, n, k) raw values
    better_counts: np.ndarray | None = None  # (n, n)


def run_sampled(board: CompiledBoard, orig: Decisions, draws: int, rng: np.random.Generator,
                 draw_fn: Callable[[np.random.Generator, int], np.ndarray], collect: bool = False) -> FamilyResult:
    jac, tau, same = [], [], []
    fronts, ranks, values = [], [], []
    better_counts = np.zeros((board.n, board.n), dtype=np.int64) if collect else None
    candidates = np.flatnonzero(orig.front[0])
    for start in range(0, draws, CHUNK):
        c = min(CHUNK, draws - start)
        v = draw_fn(rng, c)
        d = decide(board.to_min(v), board.primary, candidates)
        j, t, s = similarity(d, orig)
        jac.append(j), tau.append(t), same.append(s)
        if collect:
            fronts.append(d.front)
            ranks.append(d.rank.astype(np.int32))
            values.append(v)
            better_counts += d.better.sum(axis=0)
    res = FamilyResult(np.concatenate(jac), np.concatenate(tau), np.concatenate(same))
    if collect:
        res.front, res.rank, res.values = np.concatenate(fronts), np.concatenate(ranks), np.concatenate(values)
        res.better_counts = better_counts
    return res


def family_report(family: str, res: FamilyResult | None, *, exact: bool = False,
                   reason: str | None = None) -> FamilyReport:
    if res is None:
        return FamilyReport(family=family, description=FAMILY_DESCRIPTIONS[family], applicable=False, reason=reason)
    n = len(res.jaccard)
    agree = float(res.same_leader.mean())
    return FamilyReport(
        family=family,
        description=FAMILY_DESCRIPTIONS[family],
        applicable=True,
        draws=n,
        dior_front=round_reported(np.percentile(res.jaccard, 2.5)),
        dior_rank=round_reported(np.percentile(res.tau, 2.5)),
        dior_leader=round_reported(agree if exact else wilson_lower(float(res.same_leader.sum()), n)),
        leader_agreement=round_reported(agree),
        exact=exact,
    )


def leave_one_entry_out(board: CompiledBoard, v0: np.ndarray) -> FamilyResult:
    """Family D, exact: for each entry, the decisions on the others with scores recomputed
    without it, against the decisions that the original scores give for those same entries."""
    n = board.n
    keeps = [np.delete(np.arange(n), e) for e in range(n)]
    recomputed = np.stack([board.point_values(keep) for keep in keeps])  # (n, n-1, k)
    restricted = np.stack([v0[keep] for keep in keeps])
    d = decide(board.to_min(recomputed), board.primary)
    o = decide(board.to_min(restricted), board.primary)
    res = FamilyResult(*similarity(d, o))
    # The leader flips when, without entry e (not the leader itself), the top-1 is another entry.
    full = decide(board.to_min(v0)[None], board.primary)
    leaders = set(np.flatnonzero(full.rank[0] == 1).tolist())
    flipped = []
    for e in range(n):
        if e in leaders:
            continue
        top = {int(keeps[e][j]) for j in np.flatnonzero(d.rank[e] == 1)}
        if top != leaders:
            flipped.append(board.s.entries[e])
    res.flipped_by = flipped
    return res
