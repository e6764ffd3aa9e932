"""Step 2 of `frontierbench aggregate`: run records -> tidy frames.

One row per case, i.e. per (board, entry, hardware class, board version, run), and one row per
(case, metric); the samples of all metric rows lie back to back in one array.
"""

from __future__ import annotations

import warnings as warnings_module
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from frontierbench.formats.board import BoardDefinition, check_slug
from frontierbench.aggregate.ingest import LoadedRun
from frontierbench.formats import metrics as registry
from frontierbench.formats.run import Provenance, RecordError


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
    samples: np.ndarray  # metric row i owns samples[offset[i] : offset[i] + n[i]]
    provenance: list[Provenance]  # per metric row
    params: list[dict[str, Any]]  # per case row
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


def tidy_frames(runs: list[LoadedRun], boards: dict[str, BoardDefinition], *, warn: Warn = default_warn,
                strict: bool = False) -> Tidy:
    cols: dict[str, list[Any]] = {k: [] for k in ("run", "board", "hardware_class", "board_version", "entry",
                                                   "family", "device", "nodeid", "items", "energy_method",
                                                   "process")}
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
            cols["process"].append(-1 if case.process is None else case.process)
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
    cases["process"] = np.asarray(cols["process"], dtype=np.int64)
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
