"""Badges and ranks: what the site says about each entry at a glance.

With a reliability report the badges come from it (front probability, ties, sole dominator); a
group without one gets what the point estimates alone say. Energy and timing badges read the
metric registry (formats/metrics.py), never a metric's name.
"""

from __future__ import annotations

import numpy as np

from frontierbench.formats.leaderboard import Group, Leaderboard, LeaderboardEntry
from frontierbench.formats.metrics import energy_based, is_timing
from frontierbench.stats.scope import ONE_PROCESS_NOTE, WITHIN_ONE_PROCESS

NOISY_THRESHOLD = 0.10  # run spread or relative interval width above which timing is "noisy"

# Badge codes, their short text and what they mean (the board page's legend uses the same words).
BADGES = {
    "robust": ("robust front", "On the Pareto front in at least 95% of the resampled draws."),
    "likely": ("likely front", "On the Pareto front in 50% to 95% of the draws."),
    "borderline": ("borderline front", "On the Pareto front in 5% to 50% of the draws."),
    "tie": ("tie", "Shares its rank on the primary objective with another entry."),
    "shadowed": ("shadowed by one", "A sole dominator: exactly one entry dominates it, and without that entry it "
                                    "would be on the front."),
    "estimated-energy": ("estimated energy", "Energy estimated from TDP and utilisation, not measured by a counter."),
    "noisy-timing": ("noisy timing", "Timing run spread or 95% interval wider than 10% of the value."),
    "one-process": ("one process", "Its costs were measured in one process: their intervals are " + ONE_PROCESS_NOTE
                    + ". Pool repeated runs, or use worker processes, to include it."),
}


def noisy_timing(entry: LeaderboardEntry) -> bool:
    for name, metric in entry.metrics.items():
        if not is_timing(name, metric.unit, metric.provenance) or metric.value is None:
            continue
        if metric.run_spread is not None and metric.run_spread > NOISY_THRESHOLD:
            return True
        if metric.low is not None and metric.high is not None and metric.value:
            if (metric.high - metric.low) / abs(metric.value) > NOISY_THRESHOLD:
                return True
    return False


def one_process(entry: LeaderboardEntry) -> bool:
    """Some cost of this entry has an interval from one process only (run-to-run not measured)."""
    return any(m.interval_scope == WITHIN_ONE_PROCESS and not m.higher_is_better and m.value is not None
               for m in entry.metrics.values())


def energy_estimated(entry: LeaderboardEntry) -> bool:
    if entry.energy_method == "estimated":
        return True
    return any(m.provenance.get("method") == "estimated" for name, m in entry.metrics.items()
               if energy_based(name, m.provenance))


def entry_badges(entry: LeaderboardEntry, group: Group, ties: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Badge codes (see BADGES); `ties` comes from data_ties() when the group has no report."""
    badges = []
    rel = group.reliability.entries.get(entry.name) if group.reliability else None
    if rel is not None:
        if rel.front_label != "off":
            badges.append(rel.front_label)
        if rel.tied_with:
            badges.append("tie")
        if rel.sole_dominator:
            badges.append("shadowed")
    else:  # no report: what the point estimates alone say
        if entry.name in ties:
            badges.append("tie")
        if len(entry.dominated_by) == 1:
            badges.append("shadowed")
    if energy_estimated(entry):
        badges.append("estimated-energy")
    if noisy_timing(entry):
        badges.append("noisy-timing")
    if one_process(entry):
        badges.append("one-process")
    return badges


def data_ties(board: Leaderboard, group: Group) -> set[str]:
    """Entries that share their primary value with another entry (for groups without a report)."""
    seen: dict[float, list[str]] = {}
    for entry in group.entries:
        metric = entry.metrics.get(board.primary)
        if metric is not None and metric.value is not None:
            seen.setdefault(metric.value, []).append(entry.name)
    return {name for names in seen.values() if len(names) > 1 for name in names}


def data_ranks(board: Leaderboard, group: Group) -> dict[str, int | None]:
    """Ranks on the primary objective, ties sharing the better rank: used when no report exists."""
    primary = next(o for o in board.objectives if o.metric == board.primary)
    sign = -1.0 if primary.direction == "max" else 1.0
    names, scores = [], []
    for entry in group.entries:
        metric = entry.metrics.get(board.primary)
        if metric is not None and metric.value is not None:
            names.append(entry.name)
            scores.append(sign * metric.value)
    ranks: dict[str, int | None] = {e.name: None for e in group.entries}
    # scipy.stats.rankdata(method="min") in one numpy line: importing scipy.stats would cost a site
    # build 0.7 s. An entry's rank is 1 + the number of entries strictly better.
    ordered = np.sort(scores)
    ranks.update(zip(names, (np.searchsorted(ordered, scores, side="left") + 1).tolist()))
    return ranks
