"""Step 5 of `frontierbench aggregate`: per (hardware class, board version), the Pareto front,
dominators, hypervolume against the board's reference point, counterfactual fronts, and reliability.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from frontierbench.stats import pareto as frontier
from frontierbench.formats.board import BoardDefinition
from frontierbench.aggregate.derived import energy_based
from frontierbench.formats import metrics as registry
from frontierbench.formats.leaderboard import Group, LeaderboardEntry
from frontierbench.stats.rounding import round_floats, round_or_none

MAX_NOTES = 50


def group_energy_method(entries: list[LeaderboardEntry]) -> str:
    methods = {e.energy_method for e in entries
               if e.metrics.get("energy") is not None and e.metrics["energy"].value is not None}
    if not methods:
        return "unavailable"
    return methods.pop() if len(methods) == 1 else "mixed"


def build_group(board: BoardDefinition, hardware_class: str, board_version: str,
                entries: list[LeaderboardEntry], environment: dict[str, Any], notes: list[str], *,
                draws: int, seed: int, reliability: bool = True, report: Any = None) -> Group:
    """`report`: a reliability report known to hold for exactly these inputs (aggregate.reuse),
    used instead of assessing the group again."""
    entries = sorted(entries, key=lambda e: e.name)
    group = Group(hardware_class=hardware_class, board_version=board_version, environment=environment,
                  energy_method=group_energy_method(entries), entries=entries, notes=list(notes))
    if board_version != board.version:
        group.notes.append(f"recorded under board version {board_version}; board.toml is now version "
                           f"{board.version} (objectives and reference point are the current ones)")
    objectives = list(board.objectives)
    if group.energy_method == "mixed":
        by_method: dict[str, list[str]] = defaultdict(list)
        for e in entries:
            if e.metrics.get("energy") is not None and e.metrics["energy"].value is not None:
                by_method[e.energy_method].append(e.name)
        dropped = [o.metric for o in objectives
                   if any(energy_based(o.metric, e.metrics[o.metric]) for e in entries if o.metric in e.metrics)
                   or registry.from_energy_meter(o.metric)]
        if dropped:
            objectives = [o for o in objectives if o.metric not in dropped]
            described = "; ".join(f"{m}: {', '.join(names)}" for m, names in sorted(by_method.items()))
            group.notes.append(f"energy comes from different methods ({described}); energy-based objectives "
                               f"{dropped} are left out of this group's frontier, so estimated energy is not "
                               f"ranked against measured energy")
    absent = [o.metric for o in objectives if not any(o.metric in e.metrics and e.metrics[o.metric].value
                                                       is not None for e in entries)]
    if absent:
        objectives = [o for o in objectives if o.metric not in absent]
        group.notes.append(f"no entry has {absent}; left out of this group's frontier")
    if not objectives or not entries:
        group.notes.append("no objective left to rank on; no frontier")
        return group
    metrics = [o.metric for o in objectives]
    table = np.array([[_value(e, metric) for metric in metrics] for e in entries], dtype=np.float64)
    complete = ~np.isnan(table).any(axis=1)
    for e, ok in zip(entries, complete):
        if not ok:
            lacking = [mt for mt in metrics if _value(e, mt) is None]
            group.notes.append(f"entry {e.name!r} lacks {lacking}; left off the frontier")
    ranked = [e for e, ok in zip(entries, complete) if ok]
    values = table[complete]
    maximize = [o.direction == "max" for o in objectives]
    if len(ranked) and len(objectives) == 1:
        group.notes.append(f"one objective ({metrics[0]}): a ranking with intervals, no frontier")
    elif len(ranked):
        on_front = frontier.pareto_front(values, maximize)
        for e, on, doms in zip(ranked, on_front, frontier.dominators(values, maximize)):
            e.on_front = bool(on)
            e.dominated_by = sorted(ranked[i].name for i in doms)
        group.frontier = sorted(e.name for e, on in zip(ranked, on_front) if on)
        if not board.inferred and all(mt in board.reference_point for mt in metrics):
            reference = [board.reference_point[mt] for mt in metrics]
            group.hypervolume = round_or_none(frontier.hypervolume(values[on_front], maximize, reference))
        fronts = frontier.counterfactual_fronts(values, maximize, [e.family for e in ranked])
        group.counterfactual_frontiers = {family: sorted(ranked[i].name for i in idx)
                                          for family, idx in sorted(fronts.items())}
    if len(objectives) != len(board.objectives):
        group.notes.append(f"frontier objectives here: {metrics}")
    if reliability:
        group.reliability = report if report is not None else \
            assess_reliability(group, board, objectives, draws=draws, seed=seed)
    if len(group.notes) > MAX_NOTES:
        extra = len(group.notes) - MAX_NOTES
        group.notes = group.notes[:MAX_NOTES] + [f"... and {extra} more notes"]
    return group


def _value(entry: LeaderboardEntry, metric: str) -> float | None:
    estimate = entry.metrics.get(metric)
    return None if estimate is None else estimate.value


def assess_reliability(group: Group, board: BoardDefinition, objectives: list, *, draws: int, seed: int):
    """The reliability report (frontierbench.reliability), against the objectives this group ranks on."""
    if board.primary not in [o.metric for o in objectives]:
        group.notes.append(f"primary objective {board.primary!r} is not ranked in this group; "
                           f"no reliability report")
        return None
    # Imported here: it needs scipy.stats (half a second), which an aggregate without it does not.
    from frontierbench.reliability import assess_group

    effective = board.model_copy(update={"objectives": objectives})
    report = assess_group(group, effective, draws=draws, seed=seed)
    return type(report).model_validate(round_floats(report.model_dump(mode="json")))
