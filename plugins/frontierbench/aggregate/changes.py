"""Change detection over each entry's history: the `changes` of a leaderboard entry.

The history holds one point per run, in commit-time order (the runs' started_at, then run id; see
ingest.load_inputs), with each run's own point value of every metric (median of its rounds, mean
of its items). Those run-level values are the series; stats.changepoints finds the steps in them,
with the between-run variation of the same values (around the fitted levels) as the noise scale.
"""

from __future__ import annotations

import numpy as np

from frontierbench.formats.leaderboard import Change, HistoryPoint
from frontierbench.stats.changepoints import certainly_without_steps, find_steps
from frontierbench.stats.rounding import round_sig


Series = dict[int, dict[str, tuple[np.ndarray, np.ndarray]]]  # entry id -> metric -> (positions, values)


def quiet_series(series: Series) -> dict[int, set[str]]:
    """Per entry id, the metrics whose series certainly have no step (find_steps would find none),
    found for all the entries at once (stats.changepoints.certainly_without_steps): detect_changes
    skips them."""
    keys = [(entry, metric) for entry, by_metric in series.items() for metric in by_metric]
    quiet: dict[int, set[str]] = {}
    for (entry, metric), certain in zip(keys, certainly_without_steps([series[e][m][1] for e, m in keys]).tolist()):
        if certain:
            quiet.setdefault(entry, set()).add(metric)
    return quiet


def detect_changes(history: list[HistoryPoint], series: dict[str, tuple[np.ndarray, np.ndarray]], *,
                   min_effect: float = 0.02, quiet: frozenset[str] | set[str] = frozenset()) -> list[Change]:
    """The steps of every metric in one entry's history (its run_level_series), oldest first, then
    by metric. `quiet`: metrics whose series are known to have none (quiet_series)."""
    changes = []
    for metric, (positions, values) in sorted(series.items()):
        if values.size < 4 or metric in quiet or np.any(values <= 0):
            continue
        for step in find_steps(values, min_effect=min_effect):
            first = history[int(positions[step.index])]
            changes.append(Change.model_construct(
                metric=metric, run_id=first.run_id, git_commit=first.git_commit, started_at=first.started_at,
                ratio=round_sig(step.ratio), low=round_sig(step.low), high=round_sig(step.high)))
    if len(changes) < 2:
        return changes
    order = {point.run_id: i for i, point in enumerate(history)}
    return sorted(changes, key=lambda c: (order[c.run_id], c.metric))
