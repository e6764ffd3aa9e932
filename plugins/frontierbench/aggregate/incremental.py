"""Adding new runs to a kept aggregate instead of aggregating a whole history again.

A history grows by runs that are newer than all the others. For such a run, each pool's units
(aggregate.pool_units), each entry's facts, history and run-level series, and each group's runs
and failures are the kept ones with the new run's appended. So `aggregate --cache DIR` keeps them
(aggregate.kept_state), and the next aggregate reads only its new files, appends their rows to
what was kept, and recomputes the estimates, changes and fronts from there: the same steps as a
full aggregate, on the same numbers, so the same bytes (tests/test_incremental.py checks this).

Anything else is aggregated in full, which is always right: a run older than the newest kept one,
a changed, removed or renamed input, other boards, options or code, a board without a board.toml,
an entry whose energy now comes from a different meter, or a pool whose item scores could not be
summed in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from frontierbench.aggregate.entries import EntryFacts, entry_facts, make_entry, point_texts
from frontierbench.aggregate.changes import detect_changes, quiet_series
from frontierbench.aggregate.history import history_cells, run_level_series
from frontierbench.aggregate.cache import RowsLoader
from frontierbench.aggregate.ingest import LoadedRun, discover, display_path, load_inputs
from frontierbench.aggregate.history_log import joined_text
from frontierbench.aggregate.kept_state import KeptState, Series
from frontierbench.aggregate.assemble import (GroupInputs, RunInfo, assemble_leaderboards, failures_by_group,
                                             group_inputs, reports_of)
from frontierbench.aggregate.pool_units import ITEMS, NO_SAMPLES, PoolUnits, Segments, pool_units, row_points
from frontierbench.aggregate.pooling import energy_choice, pooled_estimates
from frontierbench.aggregate.tidy import ENTRY_KEYS, Warn, tidy_frames
from frontierbench.formats.bulk import Stopwatch
from frontierbench.formats.board import BoardDefinition
from frontierbench.formats.run import RecordError
from frontierbench.formats.leaderboard import Leaderboard


class CannotExtend(Exception):
    """Why the kept state cannot be extended by these runs: they are aggregated in full instead."""


class NothingNew(CannotExtend):
    """The inputs are the kept runs, unchanged: the kept state stays as it is."""


def run_order(run: RunInfo | LoadedRun) -> tuple[str, str, str]:
    """ingest.load_inputs' time order."""
    if isinstance(run, RunInfo):
        return (run.started_at, run.run_id, run.sha256)
    return (run.record.started_at, run.record.run_id, run.sha256)


def extend(kept: KeptState, new_runs: list[LoadedRun], boards: dict[str, BoardDefinition], *, draws: int,
           seed: int, reliability: bool, warn: Warn, strict: bool,
           previous: dict[Any, Any] | None = None,
           timings: dict[str, float] | None = None) -> tuple[dict[str, Leaderboard], KeptState]:
    """The leaderboards of the kept runs and `new_runs`, and the state to keep for next time.
    `timings`, when given, receives the seconds of each step (for the benchmark)."""
    clock = Stopwatch(timings)
    if kept.runs and min(run_order(run) for run in new_runs) <= run_order(kept.runs[-1]):
        raise CannotExtend("a new run is not newer than every kept run")
    tidy = tidy_frames(new_runs, boards, warn=warn, strict=strict)
    for run in new_runs:
        run.rows = None
    cases = tidy.cases
    if cases.empty:
        raise CannotExtend("no passed case in the new runs")
    cases["entry_id"] = cases.groupby(ENTRY_KEYS, sort=True, observed=True).ngroup()
    cases["energy_ok"] = energy_choice(cases)
    labels = cases.drop_duplicates("entry_id").sort_values("entry_id")
    tidy.entry_labels = [tuple(str(x) for x in row) for row in labels[ENTRY_KEYS].itertuples(index=False)]
    known = {label: i for i, label in enumerate(kept.labels)}
    chosen = [kept.facts[known[label]].energy_method if label in known else None for label in tidy.entry_labels]
    for entry_id, method in zip(cases["entry_id"].tolist(), cases["energy_method"].astype(str).tolist()):
        if chosen[entry_id] is not None and method != chosen[entry_id]:
            raise CannotExtend(f"entry {tidy.entry_labels[entry_id][3]!r}: its energy is now measured by {method}")
    new_facts = entry_facts(tidy)

    merged_labels = sorted(set(kept.labels) | set(tidy.entry_labels))
    position = {label: i for i, label in enumerate(merged_labels)}
    old_ids = np.asarray([position[label] for label in kept.labels], np.int64)
    new_ids = np.asarray([position[label] for label in tidy.entry_labels], np.int64)
    first_run = len(kept.runs)
    runs = kept.runs + [RunInfo.of(run) for run in tidy.runs]

    clock("new runs' rows")
    points = row_points(tidy)
    units = append_pool_units(kept.units, old_ids, pool_units(tidy, points, sum_items=False), new_ids)
    facts: list[EntryFacts | None] = [None] * len(merged_labels)
    history: list[list[Any]] = [[] for _ in merged_labels]  # pieces of JSON text (history_log.joined_text)
    series: Series = {}
    log = kept.history_log
    chunks: list[list[list[int]]] = [[] for _ in merged_labels]
    added: list[bytes | None] = [None] * len(merged_labels)
    for old, facts_old in enumerate(kept.facts):
        facts[old_ids[old]] = facts_old
        history[old_ids[old]] = kept.history[old]
        if log is not None:
            chunks[old_ids[old]] = log.chunks[old]
        series[int(old_ids[old])] = kept.series.get(old, {})
    clock("appending units")
    cells = history_cells(tidy, points)
    new_series = run_level_series(cells)
    table_metrics = [facts[merged].history_metrics if facts[merged] is not None else None
                     for merged in new_ids.tolist()]
    try:
        texts = point_texts(cells, tidy, table_metrics)
    except ValueError as exc:  # its rows, written under other metrics, would all change
        raise CannotExtend(str(exc)) from None
    for new, facts_new in enumerate(new_facts):
        if facts_new is None:
            continue
        merged = int(new_ids[new])
        facts_new = replace(facts_new, runs=[first_run + r for r in facts_new.runs])
        before = facts[merged]
        length = len(before.runs) if before is not None else 0
        facts_new.history_metrics = table_metrics[new]
        facts[merged] = facts_new if before is None else _appended_facts(before, facts_new)
        added[merged] = texts[new]  # a piece of its own: pieces are joined with commas
        history[merged] = history[merged] + [added[merged]]
        series[merged] = _appended_series(series.get(merged, {}), new_series.get(new, {}), length)

    clock("appending histories")
    estimates = pooled_estimates(units, merged_labels, draws=draws, seed=seed, hold_arrays=True)
    clock("estimates")
    run_ids = [run.run_id for run in runs]
    quiet = quiet_series(series)
    entries = {}
    for entry_id, entry_facts_ in enumerate(facts):
        if entry_facts_ is None:
            continue
        made = make_entry(entry_facts_, estimates.get(entry_id, {}), boards[entry_facts_.board], run_ids)
        made.changes = detect_changes(_RunPoints(runs, entry_facts_.runs), series.get(entry_id, {}),
                                      quiet=quiet.get(entry_id, set()))
        made.hold_history_json(joined_text(history[entry_id]))
        entries[entry_id] = made

    clock("entries and changes")
    tidy.cases["entry_id"] = new_ids[tidy.cases["entry_id"].to_numpy()]
    tidy.cases["run"] = tidy.cases["run"].to_numpy() + first_run
    failures = dict(kept.failures)
    for key, notes in failures_by_group(tidy).items():
        failures[key] = failures.get(key, []) + notes
    groups = _appended_groups(kept.groups, old_ids, group_inputs(tidy), failures)
    reports = dict(kept.reports)
    reports.update(previous or {})
    leaderboards = assemble_leaderboards(groups, entries, boards, runs, draws=draws, seed=seed,
                                         reliability=reliability, previous=reports)
    clock("groups")
    state = KeptState(key=kept.key, runs=runs, labels=merged_labels, facts=[f for f in facts if f is not None],
                      units=units, history=history, series=series, groups=groups, failures=failures,
                      reports=reports_of(leaderboards),
                      history_log=replace(log, chunks=chunks) if log is not None else None, history_added=added)
    if len(state.facts) != len(merged_labels):  # every label came from a case
        raise CannotExtend("an entry without a case")
    return leaderboards, state


class _RunPoints(Sequence):
    """An entry's history points as detect_changes reads them (run id, commit, time), without the points."""

    @dataclass
    class Point:
        run_id: str
        git_commit: str | None
        started_at: str

    def __init__(self, runs: list[RunInfo], indices: list[int]):
        self.runs, self.indices = runs, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i):  # type: ignore[override]
        run = self.runs[self.indices[i]]
        return self.Point(run.run_id, run.git_commit, run.started_at)


def _appended_facts(before: EntryFacts, after: EntryFacts) -> EntryFacts:
    return replace(after, family=after.family if after.family is not None else before.family,
                   items=after.items if after.items is not None else before.items,
                   nodeids=sorted(set(before.nodeids) | set(after.nodeids)), runs=before.runs + after.runs)


def _appended_series(before: dict[str, tuple[np.ndarray, np.ndarray]],
                     after: dict[str, tuple[np.ndarray, np.ndarray]], shift: int) -> dict[str, Any]:
    merged = dict(before)
    for metric, (positions, values) in after.items():
        if metric in merged:
            old_positions, old_values = merged[metric]
            merged[metric] = (np.concatenate([old_positions, positions + shift]),
                              np.concatenate([old_values, values]))
        else:
            merged[metric] = (positions + shift, values)
    return dict(sorted(merged.items()))


def _appended_groups(before: list[GroupInputs], old_ids: np.ndarray, after: list[GroupInputs],
                     failures: dict[Any, list[str]]) -> list[GroupInputs]:
    merged = {group.key: replace(group, entries=sorted(int(old_ids[e]) for e in group.entries)) for group in before}
    for group in after:
        old = merged.get(group.key)
        if old is not None:
            group = replace(old, entries=sorted(set(old.entries) | set(group.entries)), runs=old.runs + group.runs)
        merged[group.key] = group
    # Every group's failed cases, the new runs' too (also in groups they have no passed case in).
    return [replace(merged[key], failures=failures.get(key, [])) for key in sorted(merged)]


def append_pool_units(old: PoolUnits, old_entry_ids: np.ndarray, new: PoolUnits,
                      new_entry_ids: np.ndarray) -> PoolUnits:
    """The units of the old runs' pools with a newer run's appended (entry ids renumbered into the
    merged entries: old_entry_ids[e] is old entry e's new id). Raises CannotExtend where the
    result would not be the units pool_units gives over all runs."""
    old_keys = list(zip(old_entry_ids[old.entry].tolist(), old.metric))
    new_keys = list(zip(new_entry_ids[new.entry].tolist(), new.metric))
    keys = sorted(set(old_keys) | set(new_keys))
    index = {key: i for i, key in enumerate(keys)}
    old_at = np.asarray([index[key] for key in old_keys], np.int64)
    new_at = np.asarray([index[key] for key in new_keys], np.int64)
    n = len(keys)
    in_old = np.full(n, -1, np.int64)
    in_old[old_at] = np.arange(len(old_keys))
    in_new = np.full(n, -1, np.int64)
    in_new[new_at] = np.arange(len(new_keys))
    both = (in_old >= 0) & (in_new >= 0)
    a, b = in_old[both], in_new[both]

    if (old.mixed_kinds[a] | new.mixed_kinds[b]).any() or (
            (old.sampled_kind[a] != new.sampled_kind[b]) & (old.sampled_kind[a] != NO_SAMPLES)
            & (new.sampled_kind[b] != NO_SAMPLES)).any():
        raise CannotExtend("a metric's samples changed kind")
    if any(old.excluded_runs[i] for i in a) and any(new.excluded_runs[i] for i in b):
        raise CannotExtend("energy exclusions on both sides")

    def take(old_values: Any, new_values: Any, default: Any) -> list[Any]:
        out = [default] * n
        for i, at in enumerate(old_at.tolist()):
            out[at] = old_values[i]
        for i, at in enumerate(new_at.tolist()):
            out[at] = new_values[i]  # the newest row's say
        return out

    def newest(old_values: np.ndarray, new_values: np.ndarray) -> np.ndarray:
        out = np.zeros(n, dtype=np.result_type(old_values, new_values))
        out[old_at] = old_values
        out[new_at] = new_values
        return out

    def summed(old_values: np.ndarray, new_values: np.ndarray) -> np.ndarray:
        out = np.zeros(n, dtype=np.result_type(old_values, new_values))
        out[old_at] += old_values
        out[new_at] += new_values
        return out

    directions = np.zeros(n, np.int8)
    directions[old_at] |= old.directions
    directions[new_at] |= new.directions
    sampled_kind = newest(old.sampled_kind, new.sampled_kind)
    keep = both & (new.sampled_kind[np.maximum(in_new, 0)] == NO_SAMPLES)
    sampled_kind[keep] = old.sampled_kind[in_old[keep]]
    excluded: list[list[str]] = [[] for _ in range(n)]
    for i, at in enumerate(old_at.tolist()):
        excluded[at] = list(old.excluded_runs[i])
    for i, at in enumerate(new_at.tolist()):
        if new.excluded_runs[i]:
            excluded[at] = sorted(set(excluded[at]) | set(new.excluded_runs[i]))
    items, item_rows, item_equal = _appended_items(old, new, in_old, in_new, n)
    return PoolUnits(
        entry=np.asarray([key[0] for key in keys], np.int64), metric=[key[1] for key in keys],
        provenance=take(old.provenance, new.provenance, None), unit=take(old.unit, new.unit, ""),
        higher_is_better=newest(old.higher_is_better, new.higher_is_better), directions=directions,
        runs=summed(old.runs, new.runs), excluded_runs=excluded, sampled_kind=sampled_kind,
        mixed_kinds=summed(old.mixed_kinds.astype(np.int8), new.mixed_kinds.astype(np.int8)) > 0,
        run_values=_appended(old.run_values, in_old, new.run_values, in_new),
        unit_medians=_appended(old.unit_medians, in_old, new.unit_medians, in_new),
        unit_sizes=_appended(Segments(old.unit_sizes, old.unit_medians.bounds), in_old,
                             Segments(new.unit_sizes, new.unit_medians.bounds), in_new).values,
        samples=_appended(old.samples, in_old, new.samples, in_new),
        unit_values=_appended(old.unit_values, in_old, new.unit_values, in_new),
        items=items, item_rows=item_rows, item_equal=item_equal)


def _appended(old: Segments, in_old: np.ndarray, new: Segments, in_new: np.ndarray) -> Segments:
    """Per merged pool, its old segment then its new one (in_old/in_new: the pool's index on each
    side, -1 where it has none). Copied slice by slice: a few thousand pools, millions of values."""
    old_bounds, new_bounds = old.bounds.tolist(), new.bounds.tolist()
    pieces, sizes = [], []
    for i, j in zip(in_old.tolist(), in_new.tolist()):
        size = 0
        if i >= 0:
            pieces.append(old.values[old_bounds[i]:old_bounds[i + 1]])
            size += old_bounds[i + 1] - old_bounds[i]
        if j >= 0:
            pieces.append(new.values[new_bounds[j]:new_bounds[j + 1]])
            size += new_bounds[j + 1] - new_bounds[j]
        sizes.append(size)
    dtype = np.result_type(old.values, new.values)
    values = np.concatenate(pieces).astype(dtype, copy=False) if pieces else np.zeros(0, dtype)
    return Segments(values, np.concatenate(([0], np.cumsum(sizes, dtype=np.int64))).astype(np.int64))


def _appended_items(old: PoolUnits, new: PoolUnits, in_old: np.ndarray, in_new: np.ndarray,
                    n: int) -> tuple[Segments, np.ndarray, np.ndarray]:
    """Item sums continue in the order pool_units adds the rows in (row after row, oldest first),
    so the new rows (kept one after another: pool_units without sum_items) are added to the kept
    sum one by one; where that order cannot be had, nothing is appended."""
    parts, rows, equal = [], np.zeros(n, np.int64), np.ones(n, bool)
    for p in range(n):
        i, j = int(in_old[p]), int(in_new[p])
        old_rows = int(old.item_rows[i]) if i >= 0 else 0
        new_rows = int(new.item_rows[j]) if j >= 0 else 0
        old_part = old.items.of(i) if old_rows else np.zeros(0)
        new_part = new.items.of(j) if new_rows else np.zeros(0)
        rows[p] = old_rows + new_rows
        new_equal = bool(new.item_equal[j]) if new_rows else True
        if not old_rows:
            equal[p] = new_equal
            if new_equal and new_rows > 1:  # as pool_units sums them
                new_part = new_part.reshape(new_rows, -1).sum(axis=0)
            parts.append(new_part)
            continue
        if not new_rows:
            equal[p] = bool(old.item_equal[i])
            parts.append(old_part)
            continue
        if new.sampled_kind[j] != ITEMS:
            raise CannotExtend("item scores and rounds in one pool")
        size = old_part.size if old.item_equal[i] else -1
        if new_equal and new_part.size == new_rows * size:
            if size == 1 and rows[p] > 2:
                raise CannotExtend("one-item scores: numpy sums many of them pairwise")
            parts.append(np.add.reduce(np.vstack([old_part[None, :], new_part.reshape(new_rows, size)]), axis=0))
        elif old_rows == 1 or not old.item_equal[i]:  # the old rows are kept one after another
            equal[p] = False
            parts.append(np.concatenate([old_part, new_part]))
        else:
            raise CannotExtend("a run scored a different number of items than the kept sum")
    sizes = np.asarray([part.size for part in parts], np.int64)
    values = np.concatenate(parts) if parts else np.zeros(0)
    return Segments(values, np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)), rows, equal

def new_runs(inputs: list[str | Path], kept: KeptState, loader: RowsLoader, *, default_board: str | None,
             board_objectives: dict[str, dict[str, bool]], skip_invalid: bool) -> tuple[list[LoadedRun], list[str]]:
    """The inputs that the kept state does not hold, loaded and validated (ingest.load_inputs); every
    kept input must still be there, unchanged, under its path. Their hashes come from the cache's
    memo (aggregate.file_hashes), so the kept inputs are neither read nor hashed again."""
    if loader.hashes is None:
        raise CannotExtend("no cache")
    warnings: list[str] = []
    kept_paths = {run.sha256: run.path for run in kept.runs}
    found: set[str] = set()
    fresh: list[Path] = []
    for path in discover(list(inputs)):  # journals were recovered first (pipeline.aggregate_into)
        try:
            sha = loader.hashes.sha256(path)
        except (OSError, RecordError):  # unreadable: the full aggregate says so, or skips it (--skip-invalid)
            raise CannotExtend(f"{display_path(path)}: cannot be read") from None
        if sha in kept_paths:
            if kept_paths[sha] != display_path(path) or sha in found:
                raise CannotExtend(f"{display_path(path)}: a kept input under another name")
            found.add(sha)
        else:
            fresh.append(path)
    if len(found) != len(kept.runs):
        raise CannotExtend("a kept input is gone or changed")
    if not fresh:
        raise NothingNew("no new input")
    runs, load_warnings = load_inputs(fresh, default_board=default_board, board_objectives=board_objectives,
                                      skip_invalid=skip_invalid, load=loader)
    kept_ids = {run.run_id for run in kept.runs}
    if any(run.record.run_id in kept_ids for run in runs):
        raise CannotExtend("a run id is already kept")  # the full aggregate names both files
    if not runs:
        raise CannotExtend("no new run")
    for run in runs:
        named = set(run.rows.cases["board"].names) if run.rows is not None else {c.board for c in run.record.cases}
        if not named <= set(loader.defined_boards) | {None}:
            raise CannotExtend("a board without a board.toml")  # inferred from all the runs' cases
    return runs, warnings + load_warnings
