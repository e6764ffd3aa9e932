"""Every entry's history as arrays: one value per (entry, run, metric), and the run-level series
that change detection reads.

A history of a million case rows has a million points; built row by row in Python they cost
seconds, so the grouping is done once here with numpy and only the points themselves are made
one by one (aggregate.entries).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from frontierbench.aggregate.tidy import Tidy
from frontierbench.stats.grouped import grouped_medians
from frontierbench.stats.rounding import round_array


@dataclass
class HistoryCells:
    """Every entry's history as arrays: one cell per (entry, run, metric) that has a row, sorted by
    entry, then run, then metric. `pair` numbers the (entry, run) pairs in that order, so an
    entry's history points are its pairs, oldest run first."""

    pair_entry: np.ndarray  # per pair
    pair_run: np.ndarray
    cell_pair: np.ndarray  # per cell
    cell_metric: np.ndarray  # code into metric_names
    cell_value: np.ndarray  # the run's point value, rounded; NaN where it has none
    metric_names: list[str]


def history_cells(tidy: Tidy, points: np.ndarray) -> HistoryCells:
    """One point per (entry, run) from the metric rows of its cases: each metric's run-level
    estimate, as the statistics of aggregate.pooling define it. A run measured in several worker
    processes gives the median of its processes' points (each the median of that process's rounds,
    or the mean of its items); where an entry ran twice in one process, the later case wins."""
    cases, m = tidy.cases, tidy.metrics
    case_entry = cases["entry_id"].to_numpy().astype(np.int64)
    case_run = cases["run"].to_numpy().astype(np.int64)
    pairs, case_pair = np.unique(case_entry * max(len(tidy.runs), 1) + case_run, return_inverse=True)
    case_pair = case_pair.reshape(-1)
    rows = m["case"].to_numpy()
    codes = m["metric"].cat.codes.to_numpy().astype(np.int64)
    names = [str(name) for name in m["metric"].cat.categories]
    n_metrics = max(len(names), 1)
    process = (cases["process"].to_numpy().astype(np.int64) + 1 if "process" in cases
               else np.zeros(len(cases), np.int64))[rows]  # 0: the run's only process
    n_processes = int(process.max(initial=0)) + 1
    key = (case_pair[rows].astype(np.int64) * n_metrics + codes) * n_processes + process
    # The last row of each (pair, metric, process): np.unique keeps the first, so look from the end.
    keys, first_from_end = np.unique(key[::-1], return_index=True)
    value = points[key.size - 1 - first_from_end]
    cell_keys, cell = np.unique(keys // n_processes, return_inverse=True)
    if cell_keys.size == keys.size:  # one process per run (the usual case): its point is the run's
        cell_value = value
    else:
        known = ~np.isnan(value)
        cell_value = grouped_medians(value[known], cell.reshape(-1)[known], cell_keys.size)
    return HistoryCells(pair_entry=case_entry[np.unique(case_pair, return_index=True)[1]],
                        pair_run=pairs % max(len(tidy.runs), 1), cell_pair=cell_keys // n_metrics,
                        cell_metric=cell_keys % n_metrics, cell_value=round_array(cell_value),
                        metric_names=names)


def run_level_series(cells: HistoryCells) -> dict[int, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Per entry and metric: the positions in the entry's history that have a value, and those values.

    The run-level estimates are history_cells' (the median of a run's rounds, or of its processes'
    medians; the mean of its items).
    """
    known = ~np.isnan(cells.cell_value)
    entry = cells.pair_entry[cells.cell_pair[known]]
    # Position of each pair in its entry's history: pairs are sorted by entry, then run.
    first_pair = np.searchsorted(cells.pair_entry, cells.pair_entry)
    position = (np.arange(cells.pair_entry.size) - first_pair)[cells.cell_pair[known]]
    metric, value = cells.cell_metric[known], cells.cell_value[known]
    order = np.lexsort((position, metric, entry))
    entry, metric, position, value = entry[order], metric[order], position[order], value[order]
    starts = np.flatnonzero(np.r_[True, (entry[1:] != entry[:-1]) | (metric[1:] != metric[:-1])])
    ends = np.r_[starts[1:], entry.size]
    series: dict[int, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    for a, b in zip(starts.tolist(), ends.tolist()):
        series.setdefault(int(entry[a]), {})[cells.metric_names[metric[a]]] = (position[a:b], value[a:b])
    return series


