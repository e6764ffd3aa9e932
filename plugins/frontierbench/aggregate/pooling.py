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

from frontierbench.formats.leaderboard import MetricEstimate
from frontierbench.aggregate.pool_units import (HIGHER, ITEMS, LOWER, ROUNDS, PoolUnits, index_ranges, pool_units,
                                               row_points)
from frontierbench.formats.run import Provenance
from frontierbench.formats.float_array import FloatArray
from frontierbench.formats import samples_sidecar
from frontierbench.stats.bootstrap import mean_interval
from frontierbench.stats.grouped import grouped_median_intervals, run_spread
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
    units: PoolUnits  # what the estimates were computed from (aggregate.incremental keeps them)


def pool_metrics(tidy: Tidy, *, draws: int, seed: int, hold_arrays: bool = False) -> Pooled:
    points = row_points(tidy)
    units = pool_units(tidy, points)
    return Pooled(pooled_estimates(units, tidy.entry_labels, draws=draws, seed=seed, hold_arrays=hold_arrays),
                  points, units)


def pooled_estimates(units: PoolUnits, entry_labels: list[tuple[str, ...]], *, draws: int, seed: int,
                     hold_arrays: bool = False) -> dict[int, dict[str, MetricEstimate]]:
    """Each pool's estimate from its units (see the module's docstring for the rules). With
    `hold_arrays` (leaderboards written at once, never handed out), run values, and the timed rounds
    of a board certain to keep its samples in a sidecar, are held as arrays (formats/float_array.py),
    not listed."""
    n_pools = units.n_pools
    unit_pool = np.repeat(np.arange(n_pools), units.unit_medians.sizes())
    nested = unit_intervals(units.unit_medians.values, unit_pool, n_pools)
    by_units = unit_intervals(units.unit_values.values, np.repeat(np.arange(n_pools), units.unit_values.sizes()),
                              n_pools)
    unit_bounds = units.unit_medians.bounds
    # One unit: the rounds' own order-statistic interval, labelled within one process.
    single = (nested["replicates"] == 1) & (units.sampled_kind == ROUNDS)
    sample_sizes = units.samples.sizes()
    single_samples = units.samples.values[index_ranges(units.samples.bounds[:-1][single], sample_sizes[single])]
    rounds = grouped_median_intervals(single_samples, np.repeat(np.flatnonzero(single), sample_sizes[single]),
                                      n_pools)
    arrays = _in_sidecar(units, entry_labels) if hold_arrays else np.zeros(n_pools, bool)
    estimates: dict[int, dict[str, MetricEstimate]] = defaultdict(dict)
    for p in range(n_pools):
        name = units.metric[p]
        known = units.run_values.of(p)
        prov = as_provenance(units.provenance[p]).model_dump(mode="json")
        prov["runs"] = int(units.runs[p])
        if units.excluded_runs[p]:
            prov["excluded_runs"] = list(units.excluded_runs[p])
            prov["excluded_because"] = "energy measured by a different method than this entry's"
        if units.directions[p] == HIGHER | LOWER:
            prov["warning"] = "runs disagree on higher_is_better; the newest run's direction is used"
        fields: dict[str, Any] = {"unit": units.unit[p], "higher_is_better": bool(units.higher_is_better[p]),
                                  "run_values": FloatArray(known) if hold_arrays else known.tolist(),
                                  "run_spread": round_or_none(run_spread(known))}
        kind = units.sampled_kind[p]
        if kind == ITEMS:
            k = int(units.item_rows[p])
            if k > 1 and units.item_equal[p]:
                pooled = round_array(units.items.of(p) / k)
                prov["pooling"] = f"item-wise mean over {k} runs"
            else:
                pooled = round_array(units.items.of(p))
                prov["pooling"] = "one run" if k == 1 else "concatenated (runs scored different numbers of items)"
            key = entry_labels[int(units.entry[p])] + (name,)
            est = mean_interval(pooled, seed=seed, key=key, draws=draws)
            prov["bootstrap"] = {"draws": draws, "seed": seed, "method": "percentile"}
            fields.update(value=round_sig(est.value, POINT_DIGITS), low=round_or_none(est.low),
                          high=round_or_none(est.high), estimator="mean",
                          interval="bootstrap", n=est.n, sample_kind="items", samples=pooled.tolist())
        elif kind == ROUNDS and nested["replicates"][p] >= 2:
            k = int(nested["replicates"][p])
            prov["pooling"] = f"median of {k} per-process medians; t-interval over the processes" + (
                " (log scale)" if nested["log_scale"][p] else "")
            fields.update(value=round_sig(float(nested["value"][p]), POINT_DIGITS), low=float(nested["low"][p]),
                          high=float(nested["high"][p]), estimator="median", interval="t",
                          n=int(sample_sizes[p]), sample_kind="rounds", samples=_samples(units, p, arrays[p]),
                          interval_scope=BETWEEN_PROCESSES, replicates=k,
                          unit_sizes=units.unit_sizes[unit_bounds[p]:unit_bounds[p + 1]].tolist())
        elif kind == ROUNDS:
            prov["pooling"] = "rounds of one process"
            prov["coverage"] = round_or_none(float(rounds["coverage"][p]))
            fields.update(value=round_sig(float(rounds["value"][p]), POINT_DIGITS), low=float(rounds["low"][p]),
                          high=float(rounds["high"][p]), estimator="median", interval="quantile",
                          n=int(rounds["n"][p]), sample_kind="rounds", samples=_samples(units, p, arrays[p]),
                          interval_scope=WITHIN_ONE_PROCESS, interval_note=ONE_PROCESS_NOTE, replicates=1)
        elif by_units["replicates"][p] >= 2:
            k = int(by_units["replicates"][p])
            prov["pooling"] = f"median over {k} processes (one value each); t-interval over the processes" + (
                " (log scale)" if by_units["log_scale"][p] else "")
            fields.update(value=round_sig(float(by_units["value"][p]), POINT_DIGITS), low=float(by_units["low"][p]),
                          high=float(by_units["high"][p]), estimator="median", interval="t", n=k,
                          sample_kind="runs", samples=units.unit_values.of(p).tolist(),
                          interval_scope=BETWEEN_PROCESSES, replicates=k, unit_sizes=[1] * k)
        else:
            value = float(by_units["value"][p]) if by_units["replicates"][p] == 1 else None
            fields.update(value=value, estimator="value", interval="none", n=int(by_units["replicates"][p]))
            if value is not None:
                fields.update(interval_scope=WITHIN_ONE_PROCESS, interval_note=ONE_PROCESS_NOTE, replicates=1)
        fields["provenance"] = prov
        estimates[int(units.entry[p])][name] = MetricEstimate.model_construct(**_estimate_defaults(fields))
    return dict(estimates)


def _samples(units: PoolUnits, p: int, as_array: bool) -> list[float] | FloatArray:
    values = units.samples.of(p)
    return FloatArray(values) if as_array else values.tolist()


def _in_sidecar(units: PoolUnits, entry_labels: list[tuple[str, ...]]) -> np.ndarray:
    """Per pool: is its leaderboard (its board's) certain to keep its samples in a sidecar? So when
    its boards' timed rounds alone reach SIDECAR_MIN_SAMPLES. Those pools' samples are held as
    arrays (formats/float_array.py) instead of being listed as ten million Python floats."""
    board_of_pool = np.asarray([label[0] for label in entry_labels], dtype=object)[units.entry]
    rounds = units.sampled_kind == ROUNDS
    sizes = units.samples.sizes()
    totals: dict[str, int] = defaultdict(int)
    for board, size in zip(board_of_pool[rounds].tolist(), sizes[rounds].tolist()):
        totals[board] += size
    certain = {board for board, total in totals.items() if total >= samples_sidecar.SIDECAR_MIN_SAMPLES}
    return rounds & np.isin(board_of_pool, list(certain)) if certain else np.zeros(units.n_pools, bool)


def as_provenance(value: Provenance | str) -> Provenance:
    """A pool's provenance: kept as the object, or as its JSON text where a kept state was read back."""
    return Provenance.model_validate_json(value) if isinstance(value, str) else value


def _estimate_defaults(fields: dict[str, Any]) -> dict[str, Any]:
    base = {"low": None, "high": None, "estimator": "value", "interval": "none", "n": 0, "sample_kind": None,
            "samples": None, "run_values": [], "run_spread": None, "interval_scope": None, "interval_note": None,
            "replicates": None, "unit_sizes": None, "provenance": {}}
    base.update(fields)
    return base

