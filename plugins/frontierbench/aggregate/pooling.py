"""Step 3 of `frontierbench aggregate`: pool the repeated runs of each entry into estimates.

Vectorised over all entries at once; the statistics themselves are stats/intervals.py's and
stats/nested.py's. The (run, process) pair is the unit of replication of a cost.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from frontierbench.formats import metrics as registry
from frontierbench.formats.leaderboard import MetricEstimate
from frontierbench.stats.bootstrap import mean_interval
from frontierbench.stats.grouped import grouped_median_intervals, grouped_medians, row_medians, run_spread
from frontierbench.stats.nested import BETWEEN_PROCESSES, ONE_PROCESS_NOTE, WITHIN_ONE_PROCESS, unit_intervals
from frontierbench.stats.rounding import POINT_DIGITS, round_array, round_or_none, round_sig
from frontierbench.aggregate.tidy import Tidy

MEASURED_ENERGY = frozenset({"rapl", "nvml"})


def energy_choice(cases: pd.DataFrame) -> np.ndarray:
    """Per case: does its energy come from the method its entry's energy is pooled from?"""
    rank = np.where(cases["energy_method"].isin(MEASURED_ENERGY), 0,
                    np.where(cases["energy_method"] == "estimated", 1, 2))
    counts = (pd.DataFrame({"entry_id": cases["entry_id"], "method": cases["energy_method"], "rank": rank})
              .groupby(["entry_id", "method", "rank"], sort=False, observed=True).size().rename("count").reset_index())
    chosen = (counts.sort_values(["entry_id", "rank", "count", "method"], ascending=[True, True, False, True])
              .drop_duplicates("entry_id").set_index("entry_id")["method"])
    return (cases["energy_method"].to_numpy() == chosen.reindex(cases["entry_id"]).to_numpy())


@dataclass
class Pooled:
    estimates: dict[int, dict[str, MetricEstimate]]  # entry_id -> metric -> estimate
    points: np.ndarray  # per metric row: the run's point value (median of rounds, mean of items, value)


def pool_metrics(tidy: Tidy, *, draws: int, seed: int) -> Pooled:
    cases, m = tidy.cases, tidy.metrics
    n_rows = len(m)
    row_case = m["case"].to_numpy()
    row_entry = cases["entry_id"].to_numpy()[row_case]
    row_run = cases["run"].to_numpy()[row_case]
    counts = m["n"].to_numpy()
    offsets = m["offset"].to_numpy()
    kind_code = m["kind"].cat.codes.to_numpy()
    kind_names = list(m["kind"].cat.categories)
    is_rounds = kind_code == kind_names.index("rounds")
    is_items = kind_code == kind_names.index("items")
    # Values and round samples come rounded (tidy.run_rows): every estimate below is computed from
    # exactly the numbers written out.
    values = m["value"].to_numpy()
    all_samples = tidy.samples

    # Per-row point values: what each run says on its own (medians only where rounds are).
    medians = row_medians(all_samples, offsets, counts, is_rounds & (counts > 0))
    means = np.full(n_rows, np.nan)
    sampled = np.flatnonzero(counts > 0)  # their samples lie back to back, in row order
    if sampled.size:
        means[sampled] = np.add.reduceat(all_samples, offsets[sampled]) / counts[sampled]
    points = np.where(counts == 0, values, np.where(is_items, means, medians))

    # Energy from a method other than the entry's chosen one is left out of its pool.
    energy_ok = tidy.cases["energy_ok"].to_numpy()[row_case]
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
    rounds_rows = sampled_rows & is_rounds
    pool_has_samples = np.bincount(pool_id[sampled_rows], minlength=n_pools) > 0

    # The unit of replication is the (run, process) pair (stats/nested.py): unit codes sort by
    # pool, then run, then process, so each pool's units are contiguous and in run order.
    process = cases["process"].to_numpy() if "process" in cases else np.full(len(cases), -1)  # tidy frames of old
    row_process = process[row_case] + 1
    unit_key = (pool_id.astype(np.int64) * (len(tidy.runs) + 1) + row_run) * (int(row_process.max(initial=0)) + 1) \
        + row_process

    # Rounds: per unit, the median of its rounds; per pool, the units' median and t-interval.
    round_rows = np.flatnonzero(rounds_rows)
    unit_codes, row_unit = np.unique(unit_key[round_rows], return_inverse=True)
    row_unit = row_unit.reshape(-1)
    n_units = len(unit_codes)
    unit_pool = pool_id[round_rows][np.unique(row_unit, return_index=True)[1]] if n_units else row_unit
    # The round samples grouped by pool, then unit, each row's in order (rows in run order inside a unit).
    by_unit = round_rows[np.argsort(row_unit, kind="stable")]
    r_sorted = all_samples[_ranges(offsets[by_unit], counts[by_unit])]
    r_bounds = np.concatenate(([0], np.cumsum(np.bincount(pool_id[round_rows], weights=counts[round_rows],
                                                          minlength=n_pools)).astype(np.int64)))
    unit_sizes = np.bincount(row_unit, weights=counts[round_rows], minlength=n_units).astype(np.int64)
    if n_units and np.bincount(row_unit).max() == 1:  # the rule: one case per unit, its median is the unit's
        unit_median = np.empty(n_units)
        unit_median[row_unit] = medians[round_rows]
    else:
        unit_median = grouped_medians(r_sorted, np.repeat(np.arange(n_units), unit_sizes), n_units)
    nested = unit_intervals(round_array(unit_median), unit_pool, n_pools)
    unit_bounds = np.concatenate(([0], np.cumsum(nested["replicates"])))
    # One unit: the rounds' own order-statistic interval, labelled within one process.
    single_rows = round_rows[(nested["replicates"] == 1)[pool_id[round_rows]]]
    rounds = grouped_median_intervals(all_samples[_ranges(offsets[single_rows], counts[single_rows])],
                                      np.repeat(pool_id[single_rows], counts[single_rows]), n_pools)

    # Values without samples: each unit's value (the median if a unit has several), then as above.
    value_rows = np.flatnonzero(used & (counts == 0) & ~np.isnan(values))
    value_codes, value_unit = np.unique(unit_key[value_rows], return_inverse=True)
    value_unit = value_unit.reshape(-1)
    n_value_units = len(value_codes)
    value_unit_pool = (pool_id[value_rows][np.unique(value_unit, return_index=True)[1]] if n_value_units
                       else value_unit)
    if n_value_units and n_value_units == value_rows.size:  # one value per unit: that value
        unit_value = np.empty(n_value_units)
        unit_value[value_unit] = values[value_rows]
    else:
        unit_value = round_array(grouped_medians(values[value_rows], value_unit, n_value_units))
    by_units = unit_intervals(unit_value, value_unit_pool, n_pools)
    value_bounds = np.concatenate(([0], np.cumsum(by_units["replicates"])))

    # Rows of each pool, in run order (rows were built run by run).
    row_order = np.argsort(pool_id, kind="stable")
    row_bounds = np.concatenate(([0], np.cumsum(np.bincount(pool_id, minlength=n_pools))))

    unit_names = [str(unit) for unit in m["unit"].cat.categories]
    unit_code = m["unit"].cat.codes.to_numpy()
    hib = m["higher_is_better"].to_numpy()
    run_ids = [run.record.run_id for run in tidy.runs]
    entry_labels = tidy.entry_labels
    estimates: dict[int, dict[str, MetricEstimate]] = defaultdict(dict)

    rounded_points = round_array(points)
    for p in range(n_pools):
        rows = row_order[row_bounds[p]:row_bounds[p + 1]]
        last = rows[-1]
        name = metric_cats[metric_code[last]]
        live = rows[used[rows]]
        known = rounded_points[live]
        known = known[~np.isnan(known)]
        run_values = known.tolist()
        prov = tidy.provenance[last].model_dump(mode="json")
        runs = row_run[live]  # in run order
        prov["runs"] = int(np.count_nonzero(runs[1:] != runs[:-1])) + 1 if runs.size else 0
        if excluded[rows].any():
            prov["excluded_runs"] = sorted({run_ids[i] for i in row_run[rows[excluded[rows]]]})
            prov["excluded_because"] = "energy measured by a different method than this entry's"
        if hib[rows].min() != hib[rows].max():
            prov["warning"] = "runs disagree on higher_is_better; the newest run's direction is used"
        fields: dict[str, Any] = {"unit": unit_names[unit_code[last]], "higher_is_better": bool(hib[last]),
                                  "run_values": run_values,
                                  "run_spread": round_or_none(run_spread(known))}
        if pool_has_samples[p] and is_items[live[counts[live] > 0][-1]]:
            sampled = live[counts[live] > 0]
            sizes = counts[sampled]
            if len(sampled) > 1 and (sizes == sizes[0]).all():
                block = all_samples[offsets[sampled][:, None] + np.arange(sizes[0])]
                pooled = round_array(block.mean(axis=0))
                prov["pooling"] = f"item-wise mean over {len(sampled)} runs"
            else:
                pooled = round_array(np.concatenate([all_samples[o:o + k] for o, k in zip(offsets[sampled], sizes)]))
                prov["pooling"] = ("one run" if len(sampled) == 1
                                   else "concatenated (runs scored different numbers of items)")
            key = entry_labels[row_entry[last]] + (name,)
            est = mean_interval(pooled, seed=seed, key=key, draws=draws)
            prov["bootstrap"] = {"draws": draws, "seed": seed, "method": "percentile"}
            fields.update(value=round_sig(est.value, POINT_DIGITS), low=round_or_none(est.low),
                          high=round_or_none(est.high), estimator="mean",
                          interval="bootstrap", n=est.n, sample_kind="items", samples=pooled.tolist())
        elif pool_has_samples[p] and nested["replicates"][p] >= 2:
            k = int(nested["replicates"][p])
            prov["pooling"] = f"median of {k} per-process medians; t-interval over the processes" + (
                " (log scale)" if nested["log_scale"][p] else "")
            fields.update(value=round_sig(float(nested["value"][p]), POINT_DIGITS), low=float(nested["low"][p]),
                          high=float(nested["high"][p]), estimator="median", interval="t",
                          n=int(r_bounds[p + 1] - r_bounds[p]), sample_kind="rounds",
                          samples=r_sorted[r_bounds[p]:r_bounds[p + 1]].tolist(),
                          interval_scope=BETWEEN_PROCESSES, replicates=k,
                          unit_sizes=unit_sizes[unit_bounds[p]:unit_bounds[p + 1]].tolist())
        elif pool_has_samples[p]:
            prov["pooling"] = "rounds of one process"
            prov["coverage"] = round_or_none(float(rounds["coverage"][p]))
            fields.update(value=round_sig(float(rounds["value"][p]), POINT_DIGITS), low=float(rounds["low"][p]),
                          high=float(rounds["high"][p]), estimator="median", interval="quantile",
                          n=int(rounds["n"][p]), sample_kind="rounds",
                          samples=r_sorted[r_bounds[p]:r_bounds[p + 1]].tolist(),
                          interval_scope=WITHIN_ONE_PROCESS, interval_note=ONE_PROCESS_NOTE, replicates=1)
        elif by_units["replicates"][p] >= 2:
            k = int(by_units["replicates"][p])
            prov["pooling"] = f"median over {k} processes (one value each); t-interval over the processes" + (
                " (log scale)" if by_units["log_scale"][p] else "")
            fields.update(value=round_sig(float(by_units["value"][p]), POINT_DIGITS), low=float(by_units["low"][p]),
                          high=float(by_units["high"][p]), estimator="median", interval="t", n=k,
                          sample_kind="runs", samples=unit_value[value_bounds[p]:value_bounds[p + 1]].tolist(),
                          interval_scope=BETWEEN_PROCESSES, replicates=k, unit_sizes=[1] * k)
        else:
            value = float(by_units["value"][p]) if by_units["replicates"][p] == 1 else None
            fields.update(value=value, estimator="value", interval="none", n=int(by_units["replicates"][p]))
            if value is not None:
                fields.update(interval_scope=WITHIN_ONE_PROCESS, interval_note=ONE_PROCESS_NOTE, replicates=1)
        fields["provenance"] = prov
        estimates[int(row_entry[last])][name] = MetricEstimate.model_construct(**_estimate_defaults(fields))
    return Pooled(dict(estimates), points)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices start, start + 1, ..., start + length - 1 of each (start, length), back to back."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    return np.repeat(np.asarray(starts, dtype=np.int64) - (ends - lengths), lengths) + np.arange(total)


def _estimate_defaults(fields: dict[str, Any]) -> dict[str, Any]:
    base = {"low": None, "high": None, "estimator": "value", "interval": "none", "n": 0, "sample_kind": None,
            "samples": None, "run_values": [], "run_spread": None, "interval_scope": None, "interval_note": None,
            "replicates": None, "unit_sizes": None, "provenance": {}}
    base.update(fields)
    return base

