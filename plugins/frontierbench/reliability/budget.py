"""Efficient benchmarking: how much less could be measured, and how much more is needed.

Split out of reliability.py: the subsampling search over fractions of the measured rounds and
items (`budget_report`), and the suggested rounds/items for entries whose front status is uncertain
(`needs_more`, `suggested_count`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

from frontierbench.reliability.decisions import Decisions
from frontierbench.reliability.draws import CompiledBoard
from frontierbench.reliability.families import family_report, run_sampled
from frontierbench.formats.reliability import BudgetPoint, NeedsMore, ReliabilityReport


def suggested_count(current: int, p: float, target: float = 0.95, cap: float = 16.0) -> int:
    """How many rounds/items would settle a decision now taken with probability p.

    Normal model: the decision statistic has mean mu and standard error sigma ~ 1/sqrt(n), and
    p = Phi(mu/sigma). To reach Phi^-1(target) with the same mu, n must grow by
    (Phi^-1(target) / |Phi^-1(p)|)^2. At least doubled; capped at `cap` x, since near p = 0.5
    the gap is indistinguishable from zero and may be a genuine tie that no budget settles.
    """
    z_p = abs(norm.ppf(min(max(p, 1e-6), 1 - 1e-6)))
    factor = cap if z_p == 0 else (norm.ppf(target) / z_p) ** 2
    return int(math.ceil(max(1, current) * min(cap, max(2.0, factor))))


def budget_report(board: CompiledBoard, orig: Decisions, report: ReliabilityReport, rng: np.random.Generator,
            draws: int, min_dior: float, *, use_rounds: bool, use_items: bool) -> None:
    """Subsample rounds and items together at 1/2, 1/4, ... of what was measured (without
    replacement: a cheaper run of the same benchmark) and compare its decisions with the full
    data's. Stops at the first fraction that falls below min_dior, or when nothing shrinks."""
    r_max, m_max = board.max_rounds(), board.max_items()
    smallest = None
    previous = (r_max, m_max)
    fraction = 1.0
    while True:
        fraction /= 2
        rounds = max(1, int(round(r_max * fraction))) if use_rounds else None
        items = max(1, int(round(m_max * fraction))) if use_items else None
        if (rounds or r_max, items or m_max) == previous:
            break
        previous = (rounds or r_max, items or m_max)
        res = run_sampled(board, orig, draws, rng, lambda g, c, f=fraction: board.draw(
            g, c, rounds=f if use_rounds else None, items=f if use_items else None))
        fam = family_report("A", res)
        point = BudgetPoint(fraction=fraction, rounds=rounds, items=items, dior_front=fam.dior_front,
                            dior_rank=fam.dior_rank, dior_leader=fam.dior_leader, draws=draws)
        report.budget.append(point)
        ok = all(x is not None and x >= min_dior for x in (point.dior_front, point.dior_rank, point.dior_leader))
        if not ok:
            break
        smallest = fraction
    report.smallest_reliable_fraction = smallest


def needs_more(board: CompiledBoard, report: ReliabilityReport, results: dict, *, use_rounds: bool,
                use_items: bool) -> None:
    """Entries whose front status is uncertain (0.05 < p_front < 0.95), with a suggested count
    (see `suggested_count`). Rounds are suggested when the measurement noise alone (family A)
    leaves the status uncertain, items when the item noise alone (B) does, both when only the
    two together do."""
    m_max = board.max_items()
    for i, name in enumerate(board.s.entries):
        e = report.entries[name]
        if not 0.05 < e.p_front < 0.95:
            continue
        p_a = e.p_front_by_family.get("A")
        p_b = e.p_front_by_family.get("B")
        a_unsure = p_a is not None and 0.05 < p_a < 0.95
        b_unsure = p_b is not None and 0.05 < p_b < 0.95
        if not (a_unsure or b_unsure):
            a_unsure, b_unsure = use_rounds, use_items
            p_a = p_b = e.p_front
        r_i = max([int(src.lengths[i]) for kind, src in board.sources if kind == "rounds"] or [0])
        report.needs_more.append(NeedsMore(
            entry=name,
            p_front=e.p_front,
            suggested_rounds=suggested_count(r_i, p_a) if a_unsure and r_i else None,
            suggested_items=suggested_count(m_max, p_b) if b_unsure and m_max else None,
        ))
