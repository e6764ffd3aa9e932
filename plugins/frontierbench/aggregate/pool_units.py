"""What each pool's estimate is computed from: per pool (entry, metric), its units and their values.

aggregate.pooling turns these into estimates. They are kept apart because they are a sum over
runs: the units of a run that is newer than all the others are simply appended to its pools
(`append_pool_units`), which is how aggregate.incremental adds one run to a long history without
reading the others again. `pool_units` over all runs and `append_pool_units` of the newest run onto
the others' give equal arrays, so the estimates are the same bytes either way
(tests/test_incremental.py).

The unit of replication of a cost is the (run, process) pair (stats/nested.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from frontierbench.aggregate.tidy import Tidy
from frontierbench.formats import metrics as registry
from frontierbench.stats.grouped import grouped_medians, row_medians
from frontierbench.stats.rounding import round_array

NO_SAMPLES, ROUNDS, ITEMS = 0, 1, 2  # the kind of a pool's newest used row that has samples
HIGHER, LOWER = 1, 2  # bits of `directions`: some row says higher (lower) is better


@dataclass
class Segments:
    """Per pool, a run of values: pool p owns values[bounds[p]:bounds[p + 1]]."""

    values: np.ndarray
    bounds: np.ndarray  # n_pools + 1 offsets

    @classmethod
    def by_pool(cls, values: np.ndarray, pool: np.ndarray, n_pools: int) -> Segments:
        """`values` already ordered by `pool` (each pool's values contiguous, in order)."""
        counts = np.bincount(pool, minlength=n_pools) if pool.size else np.zeros(n_pools, np.int64)
        return cls(np.asarray(values), np.concatenate(([0], np.cumsum(counts))).astype(np.int64))

    def of(self, pool: int) -> np.ndarray:
        return self.values[self.bounds[pool]:self.bounds[pool + 1]]

    def sizes(self) -> np.ndarray:
        return np.diff(self.bounds)


@dataclass
class PoolUnits:
    """Every pool's units, pools in (entry, metric) order. Per pool, from its newest row: the
    metric's provenance, unit and direction; over its rows: the rest."""

    entry: np.ndarray  # per pool: entry id (an index into Tidy.entry_labels)
    metric: list[str]
    provenance: list[Any]  # the newest row's Provenance (its JSON text where read back from a kept state)
    unit: list[str]
    higher_is_better: np.ndarray  # the newest row's direction
    directions: np.ndarray  # HIGHER | LOWER bits over all rows (both: the runs disagree)
    runs: np.ndarray  # how many runs have a used row
    excluded_runs: list[list[str]]  # runs whose energy came from another method than the entry's
    sampled_kind: np.ndarray  # NO_SAMPLES, ROUNDS or ITEMS
    mixed_kinds: np.ndarray  # rows with samples of both kinds (such a pool is not appended to)
    run_values: Segments  # each used row's point value, rounded, where it has one
    unit_medians: Segments  # rounds: per (run, process) unit, the median of its rounds, rounded
    unit_sizes: np.ndarray  # per unit of unit_medians: its number of rounds
    samples: Segments  # rounds: the round samples, unit by unit
    unit_values: Segments  # values without samples: per unit, its value (the median of several)
    items: Segments  # ITEMS pools: the item-wise sum of the rows (item_equal), else their concatenation
    # (of a single row: the row; without sum_items: always the concatenation)
    item_rows: np.ndarray  # how many rows the items hold
    item_equal: np.ndarray  # whether they all scored the same number of items

    @property
    def n_pools(self) -> int:
        return len(self.metric)


def row_points(tidy: Tidy) -> np.ndarray:
    """Per metric row, what the run says on its own: the median of its rounds, the mean of its
    items, or its value (history points and run_values are these)."""
    m = tidy.metrics
    counts = m["n"].to_numpy()
    offsets = m["offset"].to_numpy()
    kinds = list(m["kind"].cat.categories)
    kind_code = m["kind"].cat.codes.to_numpy()
    is_rounds, is_items = kind_code == kinds.index("rounds"), kind_code == kinds.index("items")
    medians = row_medians(tidy.samples, offsets, counts, is_rounds & (counts > 0))
    means = np.full(len(m), np.nan)
    sampled = np.flatnonzero(counts > 0)  # their samples lie back to back, in row order
    if sampled.size:
        means[sampled] = np.add.reduceat(tidy.samples, offsets[sampled]) / counts[sampled]
    return np.where(counts == 0, m["value"].to_numpy(), np.where(is_items, means, medians))


def pool_units(tidy: Tidy, points: np.ndarray, *, sum_items: bool = True) -> PoolUnits:
    """The units of every pool of the tidy frames (entry ids from tidy.cases["entry_id"], energy
    exclusions from tidy.cases["energy_ok"]); `points` are row_points(tidy). Without `sum_items`,
    the item scores of every row are kept one after another (what a newer run adds to a sum)."""
    cases, m = tidy.cases, tidy.metrics
    row_case = m["case"].to_numpy()
    row_entry = cases["entry_id"].to_numpy()[row_case]
    row_run = cases["run"].to_numpy()[row_case]
    counts = m["n"].to_numpy()
    offsets = m["offset"].to_numpy()
    kinds = list(m["kind"].cat.categories)
    kind_code = m["kind"].cat.codes.to_numpy()
    is_rounds, is_items = kind_code == kinds.index("rounds"), kind_code == kinds.index("items")
    values = m["value"].to_numpy()  # rounded, as the round samples are (tidy.run_rows)
    all_samples = tidy.samples

    # Energy from a method other than the entry's chosen one is left out of its pool.
    energy_ok = cases["energy_ok"].to_numpy()[row_case]
    metric_code = m["metric"].cat.codes.to_numpy().astype(np.int64)
    metric_cats = [str(name) for name in m["metric"].cat.categories]
    metered = np.asarray([registry.from_energy_meter(name) for name in metric_cats] + [False], dtype=bool)
    excluded = metered[metric_code] & ~energy_ok
    # Pools are (entry, metric), numbered in that order (metric names sort as their codes do).
    pool_codes, pool_id = np.unique(row_entry.astype(np.int64) * max(len(metric_cats), 1) + metric_code,
                                    return_inverse=True)
    pool_id = pool_id.reshape(-1)
    n_pools = len(pool_codes)
    used = ~excluded
    sampled_rows = used & (counts > 0)

    # Rows of each pool, in run order (rows were built run by run); the newest row says the
    # metric's unit, direction and provenance.
    row_order = np.argsort(pool_id, kind="stable")
    row_bounds = np.concatenate(([0], np.cumsum(np.bincount(pool_id, minlength=n_pools))))
    last = row_order[row_bounds[1:] - 1] if n_pools else np.zeros(0, np.int64)
    hib = m["higher_is_better"].to_numpy()
    directions = ((np.bincount(pool_id[hib], minlength=n_pools) > 0) * HIGHER
                  + (np.bincount(pool_id[~hib], minlength=n_pools) > 0) * LOWER).astype(np.int8)
    live = row_order[used[row_order]]
    rounded = round_array(points[live])
    known = ~np.isnan(rounded)
    run_values = Segments.by_pool(rounded[known], pool_id[live][known], n_pools)
    # Runs with a used row, per pool: live rows are in pool order, then run order, so count changes
    # (np.unique hashes three million keys here, seconds).
    live_pool, live_run = pool_id[live], row_run[live]
    first_of_run = np.r_[True, (live_pool[1:] != live_pool[:-1]) | (live_run[1:] != live_run[:-1])] if live.size \
        else np.zeros(0, bool)
    runs = np.bincount(live_pool[first_of_run], minlength=n_pools)
    run_ids = [run.record.run_id for run in tidy.runs]
    excluded_runs: list[list[str]] = [[] for _ in range(n_pools)]
    for p in np.unique(pool_id[excluded]).tolist():
        excluded_runs[p] = sorted({run_ids[i] for i in row_run[excluded & (pool_id == p)]})
    newest_sampled = np.full(n_pools, -1, np.int64)
    np.maximum.at(newest_sampled, pool_id[sampled_rows], np.flatnonzero(sampled_rows))
    has_samples = newest_sampled >= 0
    sampled_kind = np.where(~has_samples, NO_SAMPLES,
                            np.where(is_items[np.maximum(newest_sampled, 0)], ITEMS, ROUNDS)).astype(np.int8)
    mixed_kinds = ((np.bincount(pool_id[sampled_rows & is_items], minlength=n_pools) > 0)
                   & (np.bincount(pool_id[sampled_rows & ~is_items], minlength=n_pools) > 0))

    # Rounds: per (run, process) unit, the median of its rounds; unit codes sort by pool, then run,
    # then process, so each pool's units are contiguous and in run order.
    process = cases["process"].to_numpy() if "process" in cases else np.full(len(cases), -1)  # tidy frames of old
    row_process = process[row_case] + 1
    unit_key = (pool_id.astype(np.int64) * (len(tidy.runs) + 1) + row_run) * (int(row_process.max(initial=0)) + 1) \
        + row_process
    round_rows = np.flatnonzero(sampled_rows & is_rounds)
    unit_codes, row_unit = np.unique(unit_key[round_rows], return_inverse=True)
    row_unit = row_unit.reshape(-1)
    n_units = len(unit_codes)
    unit_pool = pool_id[round_rows][np.unique(row_unit, return_index=True)[1]] if n_units else row_unit
    # The round samples grouped by pool, then unit, each row's in order (rows in run order inside a unit).
    by_unit = round_rows[np.argsort(row_unit, kind="stable")]
    round_samples = all_samples[index_ranges(offsets[by_unit], counts[by_unit])]
    unit_sizes = np.bincount(row_unit, weights=counts[round_rows], minlength=n_units).astype(np.int64)
    rows_per_unit = np.bincount(row_unit, minlength=n_units)
    unit_median = np.empty(n_units)
    single = rows_per_unit[row_unit] == 1  # the rule: one case per unit, its median is the unit's
    unit_median[row_unit[single]] = points[round_rows[single]]
    several = np.flatnonzero(rows_per_unit > 1)
    if several.size:
        starts = np.concatenate(([0], np.cumsum(unit_sizes)[:-1]))
        unit_median[several] = row_medians(round_samples, starts[several], unit_sizes[several],
                                           np.ones(several.size, bool))
    unit_medians = Segments.by_pool(round_array(unit_median), unit_pool, n_pools)
    samples = Segments.by_pool(round_samples, np.repeat(unit_pool, unit_sizes), n_pools)

    # Values without samples: each unit's value (the median if a unit has several).
    value_rows = np.flatnonzero(used & (counts == 0) & ~np.isnan(values))
    value_codes, value_unit = np.unique(unit_key[value_rows], return_inverse=True)
    value_unit = value_unit.reshape(-1)
    n_value_units = len(value_codes)
    value_unit_pool = (pool_id[value_rows][np.unique(value_unit, return_index=True)[1]] if n_value_units
                       else value_unit)
    if n_value_units == value_rows.size:  # one value per unit: that value
        unit_value = np.empty(n_value_units)
        unit_value[value_unit] = values[value_rows]
    else:
        unit_value = round_array(grouped_medians(values[value_rows], value_unit, n_value_units))
    unit_values = Segments.by_pool(unit_value, value_unit_pool, n_pools)

    # Items: the item-wise sum of the used rows with samples (their mean is the pooled score), or,
    # where they scored different numbers of items, all of them one after another.
    item_parts, item_pools, item_rows = [], [], np.zeros(n_pools, np.int64)
    item_equal = np.ones(n_pools, bool)
    sampled_sorted = row_order[sampled_rows[row_order]]
    sampled_bounds = np.concatenate(([0], np.cumsum(np.bincount(pool_id[sampled_rows], minlength=n_pools))))
    for p in np.flatnonzero(sampled_kind == ITEMS).tolist():
        rows = sampled_sorted[sampled_bounds[p]:sampled_bounds[p + 1]]
        sizes = counts[rows]
        item_rows[p] = rows.size
        item_equal[p] = bool((sizes == sizes[0]).all())
        if item_equal[p] and rows.size > 1 and sum_items:
            part = all_samples[offsets[rows][:, None] + np.arange(sizes[0])].sum(axis=0)
        else:
            part = all_samples[index_ranges(offsets[rows], sizes)]
        item_parts.append(part)
        item_pools.append(np.full(part.size, p, np.int64))
    items = Segments.by_pool(np.concatenate(item_parts) if item_parts else np.zeros(0),
                             np.concatenate(item_pools) if item_pools else np.zeros(0, np.int64), n_pools)

    units = m["unit"].cat.categories
    unit_code = m["unit"].cat.codes.to_numpy()
    return PoolUnits(
        entry=(pool_codes // max(len(metric_cats), 1)).astype(np.int64),
        metric=[metric_cats[c] for c in metric_code[last].tolist()],
        provenance=[tidy.provenance[row] for row in last.tolist()],
        unit=[str(units[c]) for c in unit_code[last].tolist()],
        higher_is_better=hib[last].astype(bool), directions=directions, runs=runs.astype(np.int64),
        excluded_runs=excluded_runs, sampled_kind=sampled_kind, mixed_kinds=mixed_kinds,
        run_values=run_values, unit_medians=unit_medians, unit_sizes=unit_sizes, samples=samples,
        unit_values=unit_values, items=items, item_rows=item_rows, item_equal=item_equal)


def index_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices start, start + 1, ..., start + length - 1 of each (start, length), back to back."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    return np.repeat(np.asarray(starts, dtype=np.int64) - (ends - lengths), lengths) + np.arange(total)
