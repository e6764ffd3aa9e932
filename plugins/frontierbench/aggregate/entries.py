"""One LeaderboardEntry per entry: its pooled and derived metrics, one history point per run, and the
steps (changes) found in that history."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from frontierbench.formats.board import BoardDefinition
from frontierbench.aggregate.changes import detect_changes
from frontierbench.aggregate.derived import derive_metrics
from frontierbench.aggregate.generation import generation_figures
from frontierbench.aggregate.pooling import Pooled
from frontierbench.formats.leaderboard import HistoryPoint, LeaderboardEntry
from frontierbench.stats.rounding import round_array
from frontierbench.aggregate.tidy import Tidy


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
        metrics.update(generation_figures(metrics, board, tidy.entry_labels[int(entry_id)][1]))
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
        entries[int(entry_id)].changes = detect_changes(entries[int(entry_id)].history)
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
