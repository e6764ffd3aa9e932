"""`frontierbench aggregate RUNS... -o leaderboards/`: run records -> tidy tables -> leaderboards.

The flow, one step per function:

1. `ingest.load_inputs`: validate every input (run records and pytest-benchmark JSON) first, so a
   bad file stops the command before anything is written.
2. `tidy_frames`: one row per case, i.e. per (board, entry, hardware class, board version, run),
   and one row per (case, metric); the samples of all metric rows lie back to back in one array.
3. `pool_metrics`: repeated runs of an entry are pooled (vectorised over all entries at once):
   - costs (per-round samples): rounds concatenated; median with an order-statistic 95% interval;
   - per-item quality: item-wise mean over runs (the same items were scored again, so repeating
     them is not more items), mean with a seeded bootstrap 95% interval;
   - values without samples: one run -> the value; several runs -> median over the runs.
   Each estimate keeps one point value per run (`run_values`) and their spread (`run_spread`).
4. `derive_metrics`: per-item costs, cost of pass, accuracy per watt, full-cycle energy
   (frontier.py's formulas), marked `estimator="derived"`.
5. `build_group`: per (hardware class, board version) only, the Pareto front, dominators,
   hypervolume against the board's reference point, counterfactual fronts, and reliability.

Decisions (see also docs in the module's functions):
- A case whose board has no board.toml is skipped with a warning naming the board (a suite may
  hold boards that this leaderboard directory does not publish); `--strict` makes it an error.
- An entry whose runs used different energy meters keeps only the runs with the best method
  (measured over estimated over unavailable) for its energy; the others are listed in provenance.
- A group whose entries' energy comes from different methods ("mixed") drops energy-based
  objectives from its frontier, with a note: estimated energy is never ranked against measured.
- Entries lacking a value for a frontier objective are left off the front, with a note.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
import time
import warnings as warnings_module
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from frontierbench import frontier
from frontierbench.boards import BoardDefinition, check_slug, load_boards
from frontierbench.ingest import LoadedRun, load_inputs
from frontierbench.leaderboard import (
    Group,
    HistoryPoint,
    InputRun,
    Leaderboard,
    LeaderboardEntry,
    MetricEstimate,
    save_leaderboard,
)
from frontierbench.pooling import (
    grouped_median_intervals,
    row_medians,
    mean_interval,
    round_array,
    round_floats,
    round_sig,
    run_spread_array,
)
from frontierbench.records import STANDARD_UNITS, Provenance, RecordError

COST_METRICS = frozenset(STANDARD_UNITS) | {"training_time", "training_energy"}
ENERGY_METRICS = frozenset({"energy", "carbon"})  # their provenance is the energy meter's
MEASURED_ENERGY = frozenset({"rapl", "nvml"})
MAX_NOTES = 50
# Point values are computed from the already-rounded samples; 12 digits drop float noise such as
# 0.010144875000000001 while staying within 1e-9 of a median recomputed from the stored samples.
POINT_DIGITS = 12


class AggregateWarning(UserWarning):
    """Something in the inputs was skipped; the message says what and why."""


Warn = Callable[[str], None]


def _default_warn(message: str) -> None:
    warnings_module.warn(message, AggregateWarning, stacklevel=3)


# --------------------------------------------------------------------------------------------
# 2. The tidy frames


@dataclass
class Tidy:
    runs: list[LoadedRun]
    cases: pd.DataFrame  # run, board, hardware_class, board_version, entry, family, device, nodeid, items, energy_method
    metrics: pd.DataFrame  # case, metric, value, unit, higher_is_better, kind, n, offset
    samples: np.ndarray  # metric row i owns samples[offset[i] : offset[i] + n[i]]
    provenance: list[Provenance]  # per metric row
    params: list[dict[str, Any]]  # per case row
    failures: list[dict[str, Any]] = field(default_factory=list)  # cases that did not pass
    entry_labels: list[tuple[str, ...]] = field(default_factory=list)  # per entry id: board, hw, version, entry


def sample_kind(name: str, provenance: Provenance) -> str:
    """"rounds" for costs (one sample per timed round), "items" for per-item quality scores.

    A meter may say so with provenance.sample_kind; the fixture marks quality with kind "quality";
    otherwise the standard cost names are rounds and any other metric with samples is per item.
    """
    extra = provenance.model_extra or {}
    declared = extra.get("sample_kind")
    if declared in ("rounds", "items"):
        return declared
    if extra.get("kind") == "quality":
        return "items"
    return "rounds" if name in COST_METRICS else "items"


def _board_versions(run: LoadedRun) -> dict[str, str]:
    versions = run.record.config.get("board_versions", {})
    if not isinstance(versions, dict):
        raise RecordError(f"{run.path}: field 'config.board_versions' must be an object of board -> version")
    return {str(k): str(v) for k, v in versions.items()}


def tidy_frames(runs: list[LoadedRun], boards: dict[str, BoardDefinition], *, warn: Warn = _default_warn,
                strict: bool = False) -> Tidy:
    cols: dict[str, list[Any]] = {k: [] for k in ("run", "board", "hardware_class", "board_version", "entry",
                                                   "family", "device", "nodeid", "items", "energy_method")}
    m_case: list[int] = []
    m_name: list[str] = []
    m_value: list[float] = []
    m_unit: list[str] = []
    m_hib: list[bool] = []
    m_kind: list[str] = []
    m_n: list[int] = []
    provenance: list[Provenance] = []
    params: list[dict[str, Any]] = []
    samples: list[float] = []
    failures: list[dict[str, Any]] = []
    missing_boards: Counter[str] = Counter()
    no_board = 0
    nan = float("nan")
    kinds: dict[tuple[str, str], str] = {}

    for r, run in enumerate(runs):
        record = run.record
        versions = _board_versions(run)
        run_hw = record.environment.hardware_class
        for index, case in enumerate(record.cases):
            board = case.board
            if board is None:
                no_board += 1
                continue
            try:
                check_slug(board)
            except ValueError as exc:
                raise RecordError(f"{run.path}: field 'cases.{index}.board': {exc}") from None
            definition = boards.get(board)
            if definition is None:
                missing_boards[board] += 1
                continue
            hardware_class = case.hardware_class or run_hw
            version = versions.get(board, definition.version)
            if case.outcome != "passed":
                failures.append({"board": board, "hardware_class": hardware_class, "board_version": version,
                                 "entry": case.entry, "run_id": record.run_id, "outcome": case.outcome,
                                 "error": (case.error or "").strip().splitlines()[-1:] or None})
                continue
            energy = case.metrics.get("energy")
            method = energy.provenance.method if energy is not None and energy.value is not None else "unavailable"
            row = len(params)
            cols["run"].append(r)
            cols["board"].append(board)
            cols["hardware_class"].append(hardware_class)
            cols["board_version"].append(version)
            cols["entry"].append(case.entry)
            cols["family"].append(case.family)
            cols["device"].append(case.device)
            cols["nodeid"].append(case.nodeid)
            cols["items"].append(case.items)
            cols["energy_method"].append(method)
            params.append(case.params)
            for name, metric in case.metrics.items():
                m_case.append(row)
                m_name.append(name)
                m_value.append(nan if metric.value is None else metric.value)
                m_unit.append(metric.unit)
                m_hib.append(metric.higher_is_better)
                prov = metric.provenance
                provenance.append(prov)
                if metric.samples:
                    samples.extend(metric.samples)
                    m_n.append(len(metric.samples))
                    key = (name, prov.method)
                    kind = kinds.get(key)
                    if kind is None:
                        kind = kinds[key] = sample_kind(name, prov)
                    m_kind.append(kind)
                else:
                    m_n.append(0)
                    m_kind.append("value")

    if no_board:
        warn(f"{no_board} case(s) name no board; skipped")
    for board, count in sorted(missing_boards.items()):
        message = (f"board {board!r} has no board.toml in the boards directory; "
                   f"its {count} case(s) are skipped")
        if strict:
            raise RecordError(message)
        warn(message)

    cases = pd.DataFrame(cols)
    cases["items"] = pd.array(cols["items"], dtype="Int64")
    n = np.asarray(m_n, dtype=np.int64)
    metrics = pd.DataFrame({
        "case": np.asarray(m_case, dtype=np.int64),
        "metric": pd.Categorical(m_name),
        "value": np.asarray(m_value, dtype=np.float64),
        "unit": m_unit,
        "higher_is_better": np.asarray(m_hib, dtype=bool),
        "kind": pd.Categorical(m_kind, categories=["rounds", "items", "value"]),
        "n": n,
        "offset": np.concatenate(([0], np.cumsum(n)[:-1])) if len(n) else n,
    })
    return Tidy(runs, cases, metrics, np.asarray(samples, dtype=np.float64), provenance, params, failures)


# --------------------------------------------------------------------------------------------
# 3. Pooling


GROUP_KEYS = ["board", "hardware_class", "board_version"]
ENTRY_KEYS = GROUP_KEYS + ["entry"]


def _energy_choice(cases: pd.DataFrame) -> np.ndarray:
    """Per case: does its energy come from the method its entry's energy is pooled from?"""
    rank = np.where(cases["energy_method"].isin(MEASURED_ENERGY), 0,
                    np.where(cases["energy_method"] == "estimated", 1, 2))
    counts = (pd.DataFrame({"entry_id": cases["entry_id"], "method": cases["energy_method"], "rank": rank})
              .groupby(["entry_id", "method", "rank"], sort=False).size().rename("count").reset_index())
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
    row_entry = cases["entry_id"].to_numpy()[m["case"].to_numpy()]
    row_run = cases["run"].to_numpy()[m["case"].to_numpy()]
    counts = m["n"].to_numpy()
    offsets = m["offset"].to_numpy()
    kinds = m["kind"].to_numpy()
    # Rounded once, here: every estimate below is computed from exactly the numbers written out,
    # so a reader recomputing a median from the stored samples gets the stored value.
    values = round_array(m["value"].to_numpy())
    # Round samples are written out as they are: round them here. Item scores are written only as
    # their item-wise means, which are rounded when pooled.
    all_samples = tidy.samples.copy()
    round_samples = np.repeat((kinds == "rounds") & (counts > 0), counts)
    all_samples[round_samples] = round_array(all_samples[round_samples])

    # Per-row point values: what each run says on its own (medians only where rounds are).
    sample_row = np.repeat(np.arange(n_rows), counts)
    medians = row_medians(all_samples, offsets, counts, (kinds == "rounds") & (counts > 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.bincount(sample_row, weights=all_samples, minlength=n_rows) / counts
    points = np.where(counts == 0, values, np.where(kinds == "items", means, medians))

    # Energy from a method other than the entry's chosen one is left out of its pool.
    energy_ok = tidy.cases["energy_ok"].to_numpy()[m["case"].to_numpy()]
    excluded = m["metric"].isin(ENERGY_METRICS).to_numpy() & ~energy_ok
    pool_frame = pd.DataFrame({"entry": row_entry, "metric": m["metric"]})
    pool_id = pool_frame.groupby(["entry", "metric"], sort=True, observed=True).ngroup().to_numpy()
    n_pools = int(pool_id.max()) + 1 if n_rows else 0

    used = ~excluded
    sampled_rows = used & (counts > 0)
    rounds_rows = sampled_rows & (kinds == "rounds")
    pool_has_samples = np.bincount(pool_id[sampled_rows], minlength=n_pools) > 0

    # Rounds: every round of every run, one median per pool (one sort for all pools).
    take = np.repeat(rounds_rows, counts)
    r_samples = all_samples[take]
    r_pool = np.repeat(pool_id, counts)[take]
    rounds = grouped_median_intervals(r_samples, r_pool, n_pools)
    r_order = np.argsort(r_pool, kind="stable")  # run order kept inside each pool
    r_sorted = r_samples[r_order]
    r_bounds = np.concatenate(([0], np.cumsum(np.bincount(r_pool, minlength=n_pools))))

    # Values without samples: several runs -> median over runs.
    value_rows = used & (counts == 0) & ~np.isnan(values)
    by_runs = grouped_median_intervals(values[value_rows], pool_id[value_rows], n_pools)

    # Rows of each pool, in run order (rows were built run by run).
    row_order = np.argsort(pool_id, kind="stable")
    row_bounds = np.concatenate(([0], np.cumsum(np.bincount(pool_id, minlength=n_pools))))

    metric_names = m["metric"].astype(str).to_numpy()
    units = m["unit"].to_numpy()
    hib = m["higher_is_better"].to_numpy()
    run_ids = [run.record.run_id for run in tidy.runs]
    entry_labels = tidy.entry_labels
    estimates: dict[int, dict[str, MetricEstimate]] = defaultdict(dict)

    rounded_points = round_array(points)
    for p in range(n_pools):
        rows = row_order[row_bounds[p]:row_bounds[p + 1]]
        last = rows[-1]
        name = metric_names[last]
        live = rows[used[rows]]
        known = rounded_points[live]
        known = known[~np.isnan(known)]
        run_values = known.tolist()
        prov = tidy.provenance[last].model_dump(mode="json")
        prov["runs"] = len(set(row_run[live].tolist()))
        if excluded[rows].any():
            prov["excluded_runs"] = sorted({run_ids[i] for i in row_run[rows[excluded[rows]]]})
            prov["excluded_because"] = "energy measured by a different method than this entry's"
        if len(set(hib[rows].tolist())) > 1:
            prov["warning"] = "runs disagree on higher_is_better; the newest run's direction is used"
        fields: dict[str, Any] = {"unit": str(units[last]), "higher_is_better": bool(hib[last]),
                                  "run_values": run_values,
                                  "run_spread": _r(run_spread_array(known))}
        if pool_has_samples[p] and kinds[live[counts[live] > 0][-1]] == "items":
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
            fields.update(value=round_sig(est.value, POINT_DIGITS), low=_r(est.low), high=_r(est.high), estimator="mean",
                          interval="bootstrap", n=est.n, sample_kind="items", samples=pooled.tolist())
        elif pool_has_samples[p]:
            prov["pooling"] = "rounds of all runs concatenated"
            prov["coverage"] = _r(float(rounds["coverage"][p]))
            fields.update(value=round_sig(float(rounds["value"][p]), POINT_DIGITS), low=float(rounds["low"][p]),
                          high=float(rounds["high"][p]), estimator="median", interval="quantile",
                          n=int(rounds["n"][p]), sample_kind="rounds",
                          samples=r_sorted[r_bounds[p]:r_bounds[p + 1]].tolist())
        elif by_runs["n"][p] >= 2:
            prov["pooling"] = "median over runs (no samples recorded)"
            prov["coverage"] = _r(float(by_runs["coverage"][p]))
            fields.update(value=round_sig(float(by_runs["value"][p]), POINT_DIGITS), low=float(by_runs["low"][p]),
                          high=float(by_runs["high"][p]), estimator="median", interval="quantile",
                          n=int(by_runs["n"][p]), sample_kind="runs")
        else:
            value = float(by_runs["value"][p]) if by_runs["n"][p] == 1 else None
            fields.update(value=value, estimator="value", interval="none", n=int(by_runs["n"][p]))
        fields["provenance"] = prov
        estimates[int(row_entry[last])][name] = MetricEstimate.model_construct(**_estimate_defaults(fields))
    return Pooled(dict(estimates), points)


def _estimate_defaults(fields: dict[str, Any]) -> dict[str, Any]:
    base = {"low": None, "high": None, "estimator": "value", "interval": "none", "n": 0, "sample_kind": None,
            "samples": None, "run_values": [], "run_spread": None, "provenance": {}}
    base.update(fields)
    return base


def _r(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return round_sig(float(value))


# --------------------------------------------------------------------------------------------
# 4. Derived metrics


def _per_item(estimate: MetricEstimate, items: int, unit: str, name: str) -> MetricEstimate:
    scale = 1.0 / items
    return MetricEstimate(
        value=_r(estimate.value * scale), low=_r(estimate.low * scale) if estimate.low is not None else None,
        high=_r(estimate.high * scale) if estimate.high is not None else None, unit=unit,
        higher_is_better=estimate.higher_is_better, estimator="derived", interval=estimate.interval,
        n=estimate.n, sample_kind=estimate.sample_kind,
        run_values=round_array(np.asarray(estimate.run_values) * scale).tolist(), run_spread=estimate.run_spread,
        provenance={"method": "derived", "formula": f"{name} / items", "items": items,
                    "interval_from": f"{name} (exact: a constant scale)",
                    **({"energy_method": estimate.provenance.get("method")} if name in ENERGY_METRICS else {})})


def _derived(value: float | None, unit: str, higher_is_better: bool, formula: str, **extra: Any) -> MetricEstimate | None:
    if value is None:
        return None
    return MetricEstimate(value=_r(value), unit=unit, higher_is_better=higher_is_better, estimator="derived",
                          provenance={"method": "derived", "formula": formula, **extra})


def quality_metric(metrics: dict[str, MetricEstimate], board: BoardDefinition) -> str | None:
    """The quality figure that cost-of-pass divides by: "accuracy", else the board's first
    higher-is-better objective that is not a cost."""
    if "accuracy" in metrics:
        return "accuracy"
    for objective in board.objectives:
        if objective.direction == "max" and objective.metric not in COST_METRICS and objective.metric in metrics:
            return objective.metric
    return None


def derive_metrics(metrics: dict[str, MetricEstimate], items: int | None, board: BoardDefinition,
                   energy_method: str) -> dict[str, MetricEstimate]:
    """Per-item costs, cost of pass, accuracy per watt and full-cycle energy for one entry."""
    out: dict[str, MetricEstimate] = {}

    def value(name: str) -> float | None:
        estimate = metrics.get(name) or out.get(name)
        return None if estimate is None else estimate.value

    energy_note = {"energy_method": energy_method}
    if items:
        for name, unit in (("wall_time", "s"), ("energy", "J"), ("carbon", "gCO2e")):
            if name in metrics and metrics[name].value is not None:
                out[f"{name}_per_item"] = _per_item(metrics[name], items, unit, name)
    quality = quality_metric(metrics, board)
    if quality is not None:
        for cost, unit in (("wall_time_per_item", "s"), ("energy_per_item", "J")):
            result = frontier.cost_per_correct(value(cost), value(quality))
            name = cost.replace("_per_item", "_per_correct")
            extra = energy_note if cost.startswith("energy") else {}
            derived = _derived(result, unit, False, f"{cost} / {quality}", quality=quality, **extra)
            if derived is not None:
                out[name] = derived
        derived = _derived(frontier.accuracy_per_watt(value(quality), value("energy"), value("wall_time")),
                           f"{metrics[quality].unit or quality}/W", True,
                           f"{quality} / (energy / wall_time)", quality=quality, **energy_note)
        if derived is not None:
            out[f"{quality}_per_watt"] = derived
    training = metrics.get("training_energy")
    if training is not None and value("energy_per_item") is not None:
        for n, result in frontier.full_cycle_energies(training.value, value("energy_per_item"),
                                                      board.usage_intensities).items():
            derived = _derived(result, "J", False, f"training_energy + {n} * energy_per_item",
                               usage_intensity=n, training_energy_method=training.provenance.get("method"),
                               **energy_note)
            if derived is not None:
                out[f"full_cycle_energy_{n}"] = derived
    return out


def energy_based(name: str, estimate: MetricEstimate) -> bool:
    return name in ENERGY_METRICS or name == "training_energy" or "energy_method" in estimate.provenance


# --------------------------------------------------------------------------------------------
# 5. Groups: frontier, dominators, hypervolume, counterfactuals, reliability


def group_energy_method(entries: list[LeaderboardEntry]) -> str:
    methods = {e.energy_method for e in entries
               if e.metrics.get("energy") is not None and e.metrics["energy"].value is not None}
    if not methods:
        return "unavailable"
    return methods.pop() if len(methods) == 1 else "mixed"


def build_group(board: BoardDefinition, hardware_class: str, board_version: str,
                entries: list[LeaderboardEntry], environment: dict[str, Any], notes: list[str], *,
                draws: int, seed: int, reliability: bool = True) -> Group:
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
                   or o.metric in ENERGY_METRICS]
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
    if len(ranked):
        on_front = frontier.pareto_front(values, maximize)
        for e, on, doms in zip(ranked, on_front, frontier.dominators(values, maximize)):
            e.on_front = bool(on)
            e.dominated_by = sorted(ranked[i].name for i in doms)
        group.frontier = sorted(e.name for e, on in zip(ranked, on_front) if on)
        reference = [board.reference_point[mt] for mt in metrics]
        group.hypervolume = _r(frontier.hypervolume(values[on_front], maximize, reference))
        fronts = frontier.counterfactual_fronts(values, maximize, [e.family for e in ranked])
        group.counterfactual_frontiers = {family: sorted(ranked[i].name for i in idx)
                                          for family, idx in sorted(fronts.items())}
    if len(objectives) != len(board.objectives):
        group.notes.append(f"frontier objectives here: {metrics}")
    if reliability:
        group.reliability = assess_reliability(group, board, objectives, draws=draws, seed=seed)
    if len(group.notes) > MAX_NOTES:
        extra = len(group.notes) - MAX_NOTES
        group.notes = group.notes[:MAX_NOTES] + [f"... and {extra} more notes"]
    return group


def _value(entry: LeaderboardEntry, metric: str) -> float | None:
    estimate = entry.metrics.get(metric)
    return None if estimate is None else estimate.value


def assess_reliability(group: Group, board: BoardDefinition, objectives: list, *, draws: int, seed: int):
    """The reliability report (reliability.py), against the objectives this group ranks on."""
    try:
        reliability = importlib.import_module("frontierbench.reliability")
    except ModuleNotFoundError as exc:
        if exc.name != "frontierbench.reliability":
            raise
        group.notes.append("reliability checks not available (frontierbench.reliability is not installed)")
        return None
    if board.primary not in [o.metric for o in objectives]:
        group.notes.append(f"primary objective {board.primary!r} is not ranked in this group; "
                           f"no reliability report")
        return None
    effective = board.model_copy(update={"objectives": objectives})
    report = reliability.assess_group(group, effective, draws=draws, seed=seed)
    if report is None:
        return None
    return type(report).model_validate(round_floats(report.model_dump(mode="json")))


# --------------------------------------------------------------------------------------------
# The whole pipeline


def aggregate_runs(runs: list[LoadedRun], boards: dict[str, BoardDefinition], *, draws: int = 1000,
                   seed: int = 0, reliability: bool = True, strict: bool = False,
                   warn: Warn = _default_warn, timings: dict[str, float] | None = None) -> dict[str, Leaderboard]:
    """Leaderboards (by board name) from loaded runs, sorted in time order (see ingest.load_inputs).

    `timings`, when given, receives the seconds spent in each stage (for the benchmark).
    """
    clock = _Stopwatch(timings)
    tidy = tidy_frames(runs, boards, warn=warn, strict=strict)
    clock("tidy_frames")
    return aggregate_tidy(tidy, boards, draws=draws, seed=seed, reliability=reliability, timings=timings)


def aggregate_tidy(tidy: Tidy, boards: dict[str, BoardDefinition], *, draws: int = 1000, seed: int = 0,
                   reliability: bool = True, timings: dict[str, float] | None = None) -> dict[str, Leaderboard]:
    """The vectorised part: tidy frames -> pooled estimates -> entries -> groups -> leaderboards."""
    # Millions of small acyclic objects (history points, sample lists): the cyclic collector
    # would rescan them again and again for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _aggregate_tidy(tidy, boards, draws=draws, seed=seed, reliability=reliability, timings=timings)
    finally:
        if collecting:
            gc.enable()


def _aggregate_tidy(tidy: Tidy, boards: dict[str, BoardDefinition], *, draws: int, seed: int, reliability: bool,
                    timings: dict[str, float] | None) -> dict[str, Leaderboard]:
    clock = _Stopwatch(timings)
    cases = tidy.cases
    if cases.empty:
        return {}
    cases["entry_id"] = cases.groupby(ENTRY_KEYS, sort=True).ngroup()
    cases["energy_ok"] = _energy_choice(cases)
    labels = cases.drop_duplicates("entry_id").sort_values("entry_id")
    tidy.entry_labels = [tuple(str(x) for x in row) for row in labels[ENTRY_KEYS].itertuples(index=False)]
    clock("entry_keys")
    pooled = pool_metrics(tidy, draws=draws, seed=seed)
    clock("pool_metrics")
    entries = build_entries(tidy, pooled, boards)
    clock("build_entries")
    failures_by_group: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for failure in tidy.failures:
        key = (failure["board"], failure["hardware_class"], failure["board_version"])
        error = f": {failure['error'][0]}" if failure["error"] else ""
        failures_by_group[key].append(f"entry {failure['entry']!r} {failure['outcome']} in run "
                                      f"{failure['run_id']}{error}")

    leaderboards: dict[str, Leaderboard] = {}
    group_rows = cases.groupby(GROUP_KEYS, sort=True)
    by_board: dict[str, list[Group]] = defaultdict(list)
    board_runs: dict[str, set[int]] = defaultdict(set)
    for (board_name, hardware_class, version), rows in group_rows:
        board = boards[board_name]
        entry_ids = sorted(set(rows["entry_id"].tolist()))
        newest = tidy.runs[int(rows["run"].max())].record.environment.model_dump(mode="json")
        board_runs[board_name].update(rows["run"].tolist())
        group = build_group(board, hardware_class, version, [entries[i] for i in entry_ids], newest,
                            failures_by_group.get((board_name, hardware_class, version), []),
                            draws=draws, seed=seed, reliability=reliability)
        by_board[board_name].append(group)
    clock("groups")

    for board_name, groups in sorted(by_board.items()):
        board = boards[board_name]
        used = [tidy.runs[i] for i in sorted(board_runs[board_name])]
        newest = max((run.record.finished_at or run.record.started_at) for run in used)
        leaderboards[board_name] = Leaderboard(
            board=board.name, title=board.title, description=board.description,
            objectives=board.objectives, primary=board.primary, reference_point=board.reference_point,
            top_k=board.top_k, generated_at=newest,
            inputs=[InputRun(path=run.path, sha256=run.sha256, run_id=run.record.run_id,
                             started_at=run.record.started_at, status=run.record.status, format=run.format,
                             git_commit=run.git_commit) for run in used],
            groups=groups)
    clock("leaderboards")
    return leaderboards


class _Stopwatch:
    """Seconds per stage: wall clock under the stage's name, this process's CPU time under "<name> cpu"."""

    def __init__(self, timings: dict[str, float] | None):
        self.timings = timings
        self.last = (time.perf_counter(), time.process_time())

    def __call__(self, stage: str) -> None:
        now = (time.perf_counter(), time.process_time())
        if self.timings is not None:
            self.timings[stage] = self.timings.get(stage, 0.0) + now[0] - self.last[0]
            self.timings[f"{stage} cpu"] = self.timings.get(f"{stage} cpu", 0.0) + now[1] - self.last[1]
        self.last = now


def build_entries(tidy: Tidy, pooled: Pooled, boards: dict[str, BoardDefinition]) -> dict[int, LeaderboardEntry]:
    cases, m = tidy.cases, tidy.metrics
    run_meta = [(run.record.run_id, run.record.started_at, run.git_commit) for run in tidy.runs]
    # History: one point per (entry, run), from the metric rows of its cases (plain lists: 1M rows).
    names = m["metric"].astype(str).tolist()
    points = [None if v != v else v for v in round_array(pooled.points).tolist()]
    bounds = np.concatenate(([0], np.cumsum(np.bincount(m["case"].to_numpy(), minlength=len(cases))))).tolist()
    history: dict[tuple[int, int], dict[str, float | None]] = {}
    for row, (entry_id, run) in enumerate(zip(cases["entry_id"].tolist(), cases["run"].tolist())):
        a, b = bounds[row], bounds[row + 1]
        values = dict(zip(names[a:b], points[a:b]))
        known = history.get((entry_id, run))
        if known is None:
            history[(entry_id, run)] = values
        else:  # the same entry twice in one run: the later case wins
            known.update(values)

    entries: dict[int, LeaderboardEntry] = {}
    columns = {c: cases[c].tolist() for c in ("board", "entry", "family", "device", "nodeid", "items",
                                             "energy_method", "energy_ok", "run", "board_version")}
    for entry_id, rows in cases.groupby("entry_id", sort=True).indices.items():
        rows = rows.tolist()
        last = rows[-1]
        board = boards[columns["board"][last]]
        metrics = dict(pooled.estimates.get(int(entry_id), {}))
        ok_methods = [columns["energy_method"][r] for r in rows if columns["energy_ok"][r]]
        energy_method = ok_methods[-1] if ok_methods else "unavailable"
        items_known = [columns["items"][r] for r in rows if columns["items"][r] is not pd.NA
                       and columns["items"][r] is not None]
        items = int(items_known[-1]) if items_known else None
        metrics.update(derive_metrics(metrics, items, board, energy_method))
        families = [columns["family"][r] for r in rows if columns["family"][r] is not None]
        run_order = sorted({columns["run"][r] for r in rows})
        version = str(columns["board_version"][last])
        entries[int(entry_id)] = LeaderboardEntry.model_validate({
            "name": str(columns["entry"][last]),
            "family": str(families[-1]) if families else None,
            "params": tidy.params[last],
            "device": str(columns["device"][last]),
            "nodeids": sorted({columns["nodeid"][r] for r in rows}),
            "runs": [run_meta[r][0] for r in run_order],
            "metrics": dict(sorted(metrics.items())),
            "energy_method": energy_method,
            "history": [],
        })
        # One point per run: up to a million of them, so built without per-object validation.
        entries[int(entry_id)].history = [
            history_point(run_meta[r][0], run_meta[r][1], run_meta[r][2], version, history[(int(entry_id), r)])
            for r in run_order]
    return entries


_HISTORY_FIELDS = frozenset(HistoryPoint.model_fields)


def _history_point_fast(run_id: str, started_at: str, git_commit: str | None, board_version: str,
                        values: dict[str, float | None]) -> HistoryPoint:
    # What model_construct does, without its per-field default handling (40x faster). The inputs
    # are already typed correctly; `_check_history_point` proves the result equals validation's.
    point = HistoryPoint.__new__(HistoryPoint)
    object.__setattr__(point, "__dict__", {"run_id": run_id, "started_at": started_at, "git_commit": git_commit,
                                           "board_version": board_version, "values": values})
    object.__setattr__(point, "__pydantic_fields_set__", set(_HISTORY_FIELDS))
    object.__setattr__(point, "__pydantic_extra__", {})
    object.__setattr__(point, "__pydantic_private__", None)
    return point


def _check_history_point() -> Callable[..., HistoryPoint]:
    args = ("r", "2024-01-01T00:00:00", None, "1", {"a": 1.5, "b": None})
    try:
        fast = _history_point_fast(*args)
        slow = HistoryPoint(run_id=args[0], started_at=args[1], git_commit=args[2], board_version=args[3],
                            values=args[4])
        if fast.model_dump(mode="json") == slow.model_dump(mode="json") and fast == slow:
            return _history_point_fast
    except Exception:  # a pydantic whose internals differ: fall back to validation
        pass
    return lambda run_id, started_at, git_commit, board_version, values: HistoryPoint(
        run_id=run_id, started_at=started_at, git_commit=git_commit, board_version=board_version, values=values)


history_point = _check_history_point()


def aggregate(inputs: list[str | Path], boards: dict[str, BoardDefinition], *, draws: int = 1000, seed: int = 0,
              default_board: str | None = None, reliability: bool = True, strict: bool = False,
              warn: Warn = _default_warn) -> dict[str, Leaderboard]:
    """Read and validate every input, then build one Leaderboard per board that has cases.

    Raises RecordError (naming the file and the field) for any bad input; nothing is written here.
    """
    if default_board is not None:
        try:
            check_slug(default_board)
        except ValueError as exc:
            raise RecordError(f"--default-board: {exc}") from None
    objectives = {name: {o.metric: o.direction == "max" for o in board.objectives} for name, board in boards.items()}
    runs, load_warnings = load_inputs(inputs, default_board=default_board, board_objectives=objectives)
    for message in load_warnings:
        warn(message)
    return aggregate_runs(runs, boards, draws=draws, seed=seed, reliability=reliability, strict=strict, warn=warn)


def leaderboard_path(out_dir: str | Path, board: str) -> Path:
    return Path(out_dir) / check_slug(board) / "leaderboard.json"


def write_leaderboards(leaderboards: dict[str, Leaderboard], out_dir: str | Path) -> list[Path]:
    """Write each leaderboard atomically; paths are checked before the first write."""
    targets = [(leaderboard_path(out_dir, name), board) for name, board in sorted(leaderboards.items())]
    return [save_leaderboard(board, path) for path, board in targets]


# --------------------------------------------------------------------------------------------
# CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUNS",
                        help="run record files, pytest-benchmark JSON files, or directories of them")
    parser.add_argument("-o", "--output", default="leaderboards", help="where leaderboards/<board>/ are written")
    parser.add_argument("--boards", default=None,
                        help="directory holding <board>/board.toml (default: the output directory)")
    parser.add_argument("--draws", type=int, default=1000, help="bootstrap draws (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed for every bootstrap (default 0)")
    parser.add_argument("--default-board", default=None,
                        help="board for pytest-benchmark results whose extra_info names none")
    parser.add_argument("--strict", action="store_true",
                        help="a case whose board has no board.toml is an error, not a warning")
    parser.add_argument("--no-reliability", action="store_true", help="skip the reliability checks")


def main(args: argparse.Namespace) -> int:
    boards_dir = Path(args.boards if args.boards is not None else args.output)
    boards = load_boards(boards_dir)
    if not boards:
        raise RecordError(f"{boards_dir}: no <board>/board.toml found; pass --boards")
    if args.draws < 1:
        raise RecordError(f"--draws must be at least 1, got {args.draws}")

    def warn(message: str) -> None:
        print(f"frontierbench aggregate: warning: {message}", file=sys.stderr)

    leaderboards = aggregate(args.runs, boards, draws=args.draws, seed=args.seed,
                             default_board=args.default_board, reliability=not args.no_reliability,
                             strict=args.strict, warn=warn)
    if not leaderboards:
        raise RecordError("no case in the inputs belongs to a board with a board.toml; nothing written")
    for path in write_leaderboards(leaderboards, args.output):
        print(path.as_posix())
    return 0
