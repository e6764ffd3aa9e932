"""One LeaderboardEntry per entry: its pooled and derived metrics, one history point per run, and the
steps (changes) found in that history."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from frontierbench.formats.board import BoardDefinition
from frontierbench.aggregate.changes import detect_changes, quiet_series
from frontierbench.aggregate.history import HistoryCells, history_cells, run_level_series
from frontierbench.aggregate.history_log import pieces_of
from frontierbench.aggregate.derived import derive_metrics
from frontierbench.aggregate.generation import generation_figures
from frontierbench.aggregate.pooling import Pooled
from frontierbench.formats.history_table import history_point, history_text, points_text, run_facts, table_metrics
from frontierbench.formats.leaderboard import LeaderboardEntry, MetricEstimate
from frontierbench.aggregate.tidy import Tidy


@dataclass
class EntryFacts:
    """What an entry's cases say apart from its metrics: mostly its newest case's (rows are in run
    order), except the family and item count, which are its newest case's that has one."""

    name: str
    board: str
    hardware_class: str
    board_version: str
    family: str | None
    params: Any  # a dict (or its JSON text where a kept state was read back)
    device: str
    items: int | None
    energy_method: str  # of its newest case whose energy was pooled; "unavailable" if none
    nodeids: list[str]
    runs: list[int]  # the runs it has a case in, oldest first (indices into the runs)
    # The metrics of its history's table (formats/history_table.py): kept, so that a later run's
    # points are appended as rows under the same ones.
    history_metrics: list[str] | None = None


def entry_facts(tidy: Tidy, cells: HistoryCells | None = None) -> list[EntryFacts | None]:
    """Per entry id (None for an entry without a case). `cells`, where already made, give each
    entry's runs (history_cells pairs entries and runs the same way)."""
    cases = tidy.cases
    n_entries = len(tidy.entry_labels)
    entry = cases["entry_id"].to_numpy()
    last = _last_row(entry, np.ones(len(cases), bool), n_entries)
    last_ok = _last_row(entry, cases["energy_ok"].to_numpy(), n_entries)
    last_items = _last_row(entry, cases["items"].notna().to_numpy(), n_entries)
    last_family = _last_row(entry, cases["family"].notna().to_numpy(), n_entries)
    nodeids = _sorted_unique_per_entry(entry, cases["nodeid"], n_entries)
    if cells is not None:
        pair_entry, pair_run = cells.pair_entry, cells.pair_run
    else:
        pairs = np.sort(entry.astype(np.int64) * max(len(tidy.runs), 1) + cases["run"].to_numpy())
        pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if pairs.size else pairs  # (np.unique hashes: slower)
        pair_entry, pair_run = pairs // max(len(tidy.runs), 1), pairs % max(len(tidy.runs), 1)
    pair_bounds = np.searchsorted(pair_entry, np.arange(n_entries + 1)).tolist()
    pair_runs = pair_run.tolist()
    column = {c: cases[c].to_numpy() for c in ("board", "entry", "family", "device", "items", "energy_method",
                                               "board_version", "hardware_class")}
    facts: list[EntryFacts | None] = []
    for entry_id in range(n_entries):
        row = int(last[entry_id])
        if row < 0:
            facts.append(None)
            continue
        family = column["family"][last_family[entry_id]] if last_family[entry_id] >= 0 else None
        facts.append(EntryFacts(
            name=str(column["entry"][row]), board=str(column["board"][row]),
            hardware_class=str(column["hardware_class"][row]), board_version=str(column["board_version"][row]),
            family=str(family) if family is not None else None, params=tidy.params[row],
            device=str(column["device"][row]),
            items=int(column["items"][last_items[entry_id]]) if last_items[entry_id] >= 0 else None,
            energy_method=(str(column["energy_method"][last_ok[entry_id]]) if last_ok[entry_id] >= 0
                           else "unavailable"),
            nodeids=nodeids[entry_id], runs=pair_runs[pair_bounds[entry_id]:pair_bounds[entry_id + 1]]))
    return facts


def make_entry(facts: EntryFacts, estimates: dict[str, MetricEstimate], board: BoardDefinition,
               run_ids: list[str]) -> LeaderboardEntry:
    """The entry with its pooled and derived metrics; its history and changes are the caller's."""
    metrics = dict(estimates)
    metrics.update(derive_metrics(metrics, facts.items, board, facts.energy_method))
    metrics.update(generation_figures(metrics, board, facts.hardware_class))
    params = json.loads(facts.params) if isinstance(facts.params, str) else facts.params
    # Constructed, not validated again: every field comes from validated records (names, params,
    # devices) or is an estimate computed from them, and a thousand entries' estimates hold
    # millions of samples that validation would walk once more.
    return LeaderboardEntry.model_construct(
        name=facts.name, family=facts.family, params=params, device=facts.device, nodeids=facts.nodeids,
        runs=[run_ids[r] for r in facts.runs], metrics=dict(sorted(metrics.items())),
        energy_method=facts.energy_method, on_front=False, dominated_by=[], history=[], changes=[])


def build_entries(tidy: Tidy, pooled: Pooled, boards: dict[str, BoardDefinition],
                  parts: dict[str, Any] | None = None) -> dict[int, LeaderboardEntry]:
    """`parts`, when given, receives what aggregate.incremental keeps: each entry's facts, its
    history as JSON text, and its run-level series."""
    run_meta = [(run.record.run_id, run.record.started_at, run.git_commit) for run in tidy.runs]
    run_ids = [meta[0] for meta in run_meta]
    runs = run_facts(run_meta)  # as each leaderboard's inputs will say
    cells = history_cells(tidy, pooled.points)
    entry_pairs = np.searchsorted(cells.pair_entry, np.arange(len(tidy.entry_labels) + 1)).tolist()
    point_values = _point_values(cells)
    pair_runs = cells.pair_run.tolist()
    series = run_level_series(cells)
    quiet = quiet_series(series)

    entries: dict[int, LeaderboardEntry] = {}
    all_facts = entry_facts(tidy, cells)
    history_texts: list[bytes | None] = [None] * len(all_facts)
    for entry_id, facts in enumerate(all_facts):
        if facts is None:
            continue
        made = make_entry(facts, pooled.estimates.get(entry_id, {}), boards[facts.board], run_ids)
        # One point per run: up to a million of them, so built without per-object validation.
        make = history_point
        history = [make(*run_meta[pair_runs[pair]], facts.board_version, point_values[pair])
                   for pair in range(entry_pairs[entry_id], entry_pairs[entry_id + 1])]
        made.history = history
        made.changes = detect_changes(history, series.get(entry_id, {}), quiet=quiet.get(entry_id, set()))
        if parts is not None:
            facts.history_metrics = table_metrics(history)
            history_texts[entry_id] = history_text(history, runs, facts.board_version, facts.history_metrics)
            made.hold_history_json(history_texts[entry_id])
        entries[entry_id] = made
    if parts is not None:
        parts.update(facts=all_facts, history=[pieces_of(text) for text in history_texts], series=series)
    return entries


def point_texts(cells: HistoryCells, tidy: Tidy, metrics: list[list[str] | None]) -> list[bytes]:
    """Per entry id, the JSON text of its history points (one per run it has a case in) as they lie
    in its history's table (formats/history_table.py) under `metrics` (its table's, where it has
    one already; else its new points' own, and the text is then the whole table's but its closing
    brackets): what aggregate.incremental appends to a kept history. Each entry's metrics are set
    in `metrics`. Raises ValueError for a point with a metric its table does not have."""
    run_meta = [(run.record.run_id, run.record.started_at, run.git_commit) for run in tidy.runs]
    runs = run_facts(run_meta)
    values = _point_values(cells)
    versions = tidy.cases.drop_duplicates("entry_id").set_index("entry_id")["board_version"]
    points: list[list[Any]] = [[] for _ in range(len(tidy.entry_labels))]
    for pair, (entry_id, run) in enumerate(zip(cells.pair_entry.tolist(), cells.pair_run.tolist())):
        points[entry_id].append(history_point(*run_meta[run], str(versions[entry_id]), values[pair]))
    out: list[bytes] = []
    for entry_id, history in enumerate(points):
        if not history:
            out.append(b"")
            continue
        version = str(versions[entry_id])
        if metrics[entry_id] is None:
            metrics[entry_id] = table_metrics(history)
            out.append(history_text(history, runs, version, metrics[entry_id])[:-2])
            continue
        if not set(table_metrics(history)) <= set(metrics[entry_id]):
            raise ValueError(f"entry {tidy.entry_labels[entry_id][3]!r}: a new metric in its history")
        out.append(points_text(history, runs, version, metrics[entry_id]))
    return out


def _point_values(cells: HistoryCells) -> list[dict[str, float | None]]:
    """Each pair's {metric: value} (None where the run has no value). Pairs that have the same
    metrics (usually all of them) are built together from one table, not sliced pair by pair."""
    n_pairs = len(cells.pair_run)
    out: list[dict[str, float | None]] = [{} for _ in range(n_pairs)]
    if not cells.cell_pair.size:
        return out
    bounds = np.searchsorted(cells.cell_pair, np.arange(n_pairs + 1))
    if len(cells.metric_names) > 52:  # a signature must fit a double's mantissa: slice pair by pair
        names = np.asarray(cells.metric_names, dtype=object)[cells.cell_metric].tolist()
        values = [None if v != v else v for v in cells.cell_value.tolist()]
        return [dict(zip(names[a:b], values[a:b])) for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())]
    signature = np.bincount(cells.cell_pair, weights=np.exp2(cells.cell_metric), minlength=n_pairs)
    for sig in np.unique(signature[np.diff(bounds) > 0]):
        pairs = np.flatnonzero(signature == sig)
        width = int(bounds[pairs[0] + 1] - bounds[pairs[0]])
        cells_at = bounds[pairs][:, None] + np.arange(width)
        keys = [cells.metric_names[code] for code in cells.cell_metric[cells_at[0]].tolist()]
        block = cells.cell_value[cells_at]
        rows = block.tolist()
        if np.isnan(block).any():
            rows = [[None if v != v else v for v in row] for row in rows]
        for pair, row in zip(pairs.tolist(), rows):
            out[pair] = dict(zip(keys, row))
    return out


def _last_row(entry: np.ndarray, where: np.ndarray, n_entries: int) -> np.ndarray:
    """Per entry, the index of its last row where `where` holds (-1 if none)."""
    last = np.full(n_entries, -1, dtype=np.int64)
    rows = np.flatnonzero(where)
    np.maximum.at(last, entry[rows], rows)
    return last


def _sorted_unique_per_entry(entry: np.ndarray, values: pd.Series, n_entries: int) -> list[list[str]]:
    codes, uniques = pd.factorize(values, sort=True)
    known = codes >= 0  # a case without a nodeid adds none
    keys = np.unique(entry[known].astype(np.int64) * max(len(uniques), 1) + codes[known])
    names = np.asarray(uniques, dtype=object)[keys % max(len(uniques), 1)].tolist()
    bounds = np.searchsorted(keys // max(len(uniques), 1), np.arange(n_entries + 1)).tolist()
    return [[str(n) for n in names[bounds[e]:bounds[e + 1]]] for e in range(n_entries)]
