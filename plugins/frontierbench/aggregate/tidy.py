"""Step 2 of `frontierbench aggregate`: run records -> tidy frames.

One row per case, i.e. per (board, entry, hardware class, board version, run), and one row per
(case, metric); the samples of all metric rows lie back to back in one array. Each run's rows are
built on their own first (run_rows, independent of the board definitions, so aggregate.cache can
keep them per input file), then joined and filtered by the boards (tidy_frames).
"""

from __future__ import annotations

import json
import warnings as warnings_module
from collections import Counter
from itertools import chain
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from frontierbench.formats.board import BoardDefinition, check_slug
from frontierbench.aggregate.ingest import LoadedRun
from frontierbench.formats import metrics as registry
from frontierbench.formats.run import Provenance, RecordError
from frontierbench.stats.rounding import round_array


class AggregateWarning(UserWarning):
    """Something in the inputs was skipped; the message says what and why."""


Warn = Callable[[str], None]


def default_warn(message: str) -> None:
    warnings_module.warn(message, AggregateWarning, stacklevel=3)


GROUP_KEYS = ["board", "hardware_class", "board_version"]
ENTRY_KEYS = GROUP_KEYS + ["entry"]


@dataclass
class Tidy:
    runs: list[LoadedRun]
    cases: pd.DataFrame  # run, board, hardware_class, board_version, entry, family, device, nodeid, items,
    # energy_method, process (-1: the run's only process)
    metrics: pd.DataFrame  # case, metric, value, unit, higher_is_better, kind, n, offset
    samples: np.ndarray  # metric row i owns samples[offset[i] : offset[i] + n[i]]; round samples rounded
    provenance: Sequence[Provenance]  # per metric row (a Lazy list: parsed when read)
    params: Sequence[dict[str, Any]]  # per case row (likewise)
    failures: list[dict[str, Any]] = field(default_factory=list)  # cases that did not pass
    entry_labels: list[tuple[str, ...]] = field(default_factory=list)  # per entry id: board, hw, version, entry


def sample_kind(name: str, provenance: Provenance) -> str:
    """"rounds" for costs (one sample per timed round), "items" for per-item quality scores: what
    the case declared, else what the metric registry says (formats/metrics.sample_kind)."""
    return registry.sample_kind(name, provenance.model_extra)


def _board_versions(run: LoadedRun) -> dict[str, str]:
    versions = run.record.config.get("board_versions", {})
    if not isinstance(versions, dict):
        raise RecordError(f"{run.path}: field 'config.board_versions' must be an object of board -> version")
    return {str(k): str(v) for k, v in versions.items()}


@dataclass
class Coded:
    """A column of few distinct strings: per row an index into `names` (Arrow's and pandas' dictionary
    encoding). A million metric rows then cost an int32 array, not a million string references."""

    codes: np.ndarray
    names: list[str]

    @classmethod
    def of(cls, values: Any) -> Coded:
        if isinstance(values, Coded):
            return values
        index: dict[str, int] = {}
        codes = np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.int32, count=len(values))
        return cls(codes, list(index))


def join_coded(columns: list[Coded]) -> pd.Categorical:
    """One categorical from the columns of many runs: each run's codes mapped onto the union of names
    (sorted; a None name is a missing value)."""
    names = sorted({name for column in columns for name in column.names if name is not None})
    position: dict[Any, int] = {name: i for i, name in enumerate(names)}
    position[None] = -1
    codes = [np.asarray([position[n] for n in column.names], dtype=np.int32)[column.codes] if len(column.codes)
             else np.zeros(0, np.int32) for column in columns]
    return pd.Categorical.from_codes(np.concatenate(codes) if codes else np.zeros(0, np.int32), names)


@dataclass
class RunRows:
    """One run's cases as rows, before any board definition is consulted (so they can be cached
    per input file: see aggregate.cache). Cases without a board are only counted."""

    # CASE_COLUMNS: STRING_COLUMNS as Coded ("version": the record's board version, or None),
    # "items" as float (NaN: not declared), "process" as int (-1: the run's only process)
    cases: dict[str, Any]
    params: list[Any]  # per case: a dict, or its JSON text (from the cache)
    # case (index in this run), metric, value, unit, higher_is_better, kind, n: lists as built from a
    # record, numpy arrays and Coded strings as read from the cache
    metrics: dict[str, Any]
    provenance: Coded  # per metric row: its JSON text
    samples: np.ndarray
    failures: list[dict[str, Any]]  # cases that did not pass ("board_version": the record's, or None)
    no_board: int = 0


CASE_COLUMNS = ("board", "hardware_class", "version", "entry", "family", "device", "nodeid", "items",
                "energy_method", "process")
STRING_COLUMNS = ("board", "hardware_class", "version", "entry", "family", "device", "nodeid", "energy_method")
METRIC_COLUMNS = ("case", "metric", "value", "unit", "higher_is_better", "kind", "n")


class Lazy(Sequence):
    """Per row, one of a few items that may still be JSON text, parsed (and kept) when first read: a
    million cached rows pay only for the few provenance and params objects aggregate actually reads.
    `codes[i]` is the item of row i (every row its own item when codes is None)."""

    def __init__(self, items: list[Any], parse: Callable[[str], Any], codes: np.ndarray | None = None):
        self.items = items
        self.parse = parse
        self.codes = codes

    def __len__(self) -> int:
        return len(self.items) if self.codes is None else len(self.codes)

    def __getitem__(self, index):  # type: ignore[override]
        if self.codes is not None:
            index = int(self.codes[index])
        item = self.items[index]
        if isinstance(item, str):
            item = self.items[index] = self.parse(item)
        return item


def run_rows(run: LoadedRun) -> RunRows:
    record = run.record
    versions = _board_versions(run)
    run_hw = record.environment.hardware_class
    cols: dict[str, list[Any]] = {k: [] for k in CASE_COLUMNS}
    mcols: dict[str, list[Any]] = {k: [] for k in METRIC_COLUMNS}
    params: list[Any] = []
    provenance: list[Any] = []
    samples: list[float] = []
    failures: list[dict[str, Any]] = []
    no_board = 0
    nan = float("nan")
    kinds: dict[tuple[str, str], str] = {}
    for index, case in enumerate(record.cases):
        board = case.board
        if board is None:
            no_board += 1
            continue
        try:
            check_slug(board)
        except ValueError as exc:
            raise RecordError(f"{run.path}: field 'cases.{index}.board': {exc}") from None
        hardware_class = case.hardware_class or run_hw
        version = versions.get(board)
        if case.outcome != "passed":
            failures.append({"board": board, "hardware_class": hardware_class, "board_version": version,
                             "entry": case.entry, "run_id": record.run_id, "outcome": case.outcome,
                             "error": (case.error or "").strip().splitlines()[-1:] or None})
            continue
        energy = case.metrics.get("energy")
        method = energy.provenance.method if energy is not None and energy.value is not None else "unavailable"
        row = len(params)
        for key, value in (("board", board), ("hardware_class", hardware_class), ("version", version),
                           ("entry", case.entry), ("family", case.family), ("device", case.device),
                           ("nodeid", case.nodeid), ("items", case.items), ("energy_method", method),
                           ("process", -1 if case.process is None else case.process)):
            cols[key].append(value)
        params.append(case.params)
        for name, metric in case.metrics.items():
            prov = metric.provenance
            provenance.append(prov)
            mcols["case"].append(row)
            mcols["metric"].append(name)
            mcols["value"].append(nan if metric.value is None else metric.value)
            mcols["unit"].append(metric.unit)
            mcols["higher_is_better"].append(metric.higher_is_better)
            if metric.samples:
                samples.extend(metric.samples)
                mcols["n"].append(len(metric.samples))
                key = (name, prov.method)
                kind = kinds.get(key)
                if kind is None:
                    kind = kinds[key] = sample_kind(name, prov)
                mcols["kind"].append(kind)
            else:
                mcols["n"].append(0)
                mcols["kind"].append("value")
    # Rounded once, here (and so in the cache): every estimate is computed from exactly the numbers
    # a leaderboard writes out, so a reader recomputing a median from the stored samples gets the
    # stored value. Item scores are written only as their item-wise means, rounded when pooled.
    mcols["value"] = round_array(np.asarray(mcols["value"], dtype=np.float64))
    coded: dict[str, Any] = {key: Coded.of(cols[key]) for key in STRING_COLUMNS}
    coded["items"] = np.asarray([nan if n is None else n for n in cols["items"]], dtype=np.float64)
    coded["process"] = np.asarray(cols["process"], dtype=np.int64)
    sample_values = np.asarray(samples, dtype=np.float64)
    rounds = np.repeat(np.asarray(mcols["kind"]) == "rounds", mcols["n"]) if samples else np.zeros(0, bool)
    sample_values[rounds] = round_array(sample_values[rounds])
    # Provenance as its JSON text, one copy per distinct text: four million Provenance objects kept
    # for a million cases were gigabytes, and pooling reads only one per pool (tidy.Lazy parses it).
    texts = Coded.of([prov.model_dump_json() for prov in provenance])
    return RunRows(coded, params, mcols, texts, sample_values, failures, no_board)


def _with_default_versions(version: pd.Categorical, board: pd.Categorical,
                           boards: dict[str, BoardDefinition]) -> pd.Categorical:
    """Each case's board version: the record's, else its board definition's (None: neither)."""
    defaults = [boards[name].version if name in boards else None for name in board.categories]
    names = sorted(set(version.categories) | {d for d in defaults if d is not None})
    position = {name: i for i, name in enumerate(names)}
    recorded = np.asarray([position[name] for name in version.categories] + [-1], dtype=np.int32)[version.codes]
    default = np.asarray([position.get(d, -1) if d is not None else -1 for d in defaults] + [-1],
                         dtype=np.int32)[board.codes]
    return pd.Categorical.from_codes(np.where(version.codes >= 0, recorded, default), names)


def tidy_frames(runs: list[LoadedRun], boards: dict[str, BoardDefinition], *, warn: Warn = default_warn,
                strict: bool = False) -> Tidy:
    """The tidy frames of all runs: each run's rows (cached ones as they are, see aggregate.cache),
    then only the cases whose board has a definition, with its version where the record has none."""
    per_run = [run.rows if run.rows is not None else run_rows(run) for run in runs]
    no_board = sum(rows.no_board for rows in per_run)
    if no_board:
        warn(f"{no_board} case(s) name no board; skipped")

    run_index = np.repeat(np.arange(len(per_run)), [len(rows.params) for rows in per_run])
    strings = {key: join_coded([rows.cases[key] for rows in per_run]) for key in STRING_COLUMNS}
    board_names = list(strings["board"].categories)
    board_counts = np.bincount(strings["board"].codes, minlength=len(board_names))
    # Skipped cases of a board without a definition count whether they passed or not.
    missing_boards = Counter({board: int(n) for board, n in zip(board_names, board_counts) if board not in boards})
    missing_boards.update(f["board"] for rows in per_run for f in rows.failures if f["board"] not in boards)
    for board, count in sorted(missing_boards.items()):
        message = (f"board {board!r} has no board.toml in the boards directory; "
                   f"its {count} case(s) are skipped")
        if strict:
            raise RecordError(message)
        warn(message)
    defined = np.asarray([board in boards for board in board_names] + [False], dtype=bool)
    keep_case = defined[strings["board"].codes]
    kept = np.flatnonzero(keep_case)
    strings["board_version"] = _with_default_versions(strings.pop("version"), strings["board"], boards)
    numbers = {key: np.concatenate([rows.cases[key] for rows in per_run]) if per_run else np.zeros(0)
               for key in ("items", "process")}
    # Strings as categoricals: a million rows of a few hundred distinct names each.
    cases = pd.DataFrame({
        "run": run_index[kept],
        **{key: strings[key][kept] for key in ("board", "hardware_class", "board_version", "entry", "family",
                                               "device", "nodeid")},
        "items": pd.array(numbers["items"][kept], dtype="Int64"),
        "energy_method": strings["energy_method"][kept]})
    cases["process"] = numbers["process"][kept].astype(np.int64)
    params = list(chain.from_iterable(rows.params for rows in per_run))

    # Metric rows: their case numbers become global, and those of skipped cases go.
    case_base = np.concatenate(([0], np.cumsum([len(rows.params) for rows in per_run])))
    m_case = np.concatenate([np.asarray(rows.metrics["case"], dtype=np.int64) + case_base[r]
                             for r, rows in enumerate(per_run)]) if per_run else np.zeros(0, np.int64)

    def numbers(key: str, dtype: Any) -> np.ndarray:
        return (np.concatenate([np.asarray(rows.metrics[key], dtype=dtype) for rows in per_run]) if per_run
                else np.zeros(0, dtype))

    n_all = numbers("n", np.int64)
    values = numbers("value", np.float64)
    higher = numbers("higher_is_better", bool)
    strings = {key: join_coded([Coded.of(rows.metrics[key]) for rows in per_run]) for key in ("metric", "unit", "kind")}
    samples_all = np.concatenate([rows.samples for rows in per_run]) if per_run else np.zeros(0)
    prov_items: list[Any] = []
    prov_codes = []
    for rows in per_run:
        prov_codes.append(rows.provenance.codes.astype(np.int64) + len(prov_items))
        prov_items.extend(rows.provenance.names)
    prov_code = np.concatenate(prov_codes).astype(np.int64) if prov_codes else np.zeros(0, np.int64)
    keep_metric = keep_case[m_case]
    renumber = np.cumsum(keep_case) - 1
    if not keep_metric.all():
        rows_kept = np.flatnonzero(keep_metric)
        samples_all = samples_all[np.repeat(keep_metric, n_all)]
        m_case, n_all, values, higher = m_case[rows_kept], n_all[rows_kept], values[rows_kept], higher[rows_kept]
        strings = {key: column[rows_kept] for key, column in strings.items()}
        prov_code = prov_code[rows_kept]
        params = [params[i] for i in kept]
    metrics = pd.DataFrame({
        "case": renumber[m_case] if m_case.size else m_case,
        "metric": strings["metric"].remove_unused_categories(),
        "value": values,
        "unit": strings["unit"],
        "higher_is_better": higher,
        "kind": strings["kind"].set_categories(["rounds", "items", "value"]),
        "n": n_all,
        "offset": np.concatenate(([0], np.cumsum(n_all)[:-1])) if len(n_all) else n_all,
    })
    failures = [dict(f, board_version=f["board_version"] if f["board_version"] is not None
                     else boards[f["board"]].version)
                for rows in per_run for f in rows.failures if f["board"] in boards]
    return Tidy(runs, cases, metrics, samples_all.astype(np.float64, copy=False),
                Lazy(prov_items, Provenance.model_validate_json, prov_code), Lazy(params, json.loads), failures)
