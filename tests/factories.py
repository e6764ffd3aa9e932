"""Synthetic run records and boards, built with the real pydantic models.

Valid by construction; every random draw comes from a seeded generator, so the same arguments
always give the same record. Shared with other test modules: keep the signatures stable.

    board = board_definition("toy")
    write_board(tmp_path / "leaderboards", board)
    record = run_record([case("fp32", wall_time=[0.010, 0.011], accuracy=[1, 0, 1])], run_id="r1")
    save_run(record, tmp_path / "runs" / "r1.json")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import numpy as np

from frontierbench.formats.board import BoardDefinition
from frontierbench.formats.leaderboard import Objective
from frontierbench.formats.run import Case, Environment, Metric, Provenance, RunRecord

HARDWARE = "cpu-x86_64-test-cpu-4t"

DEFAULT_OBJECTIVES = [
    Objective(metric="accuracy", direction="max", margin=0.005, margin_kind="absolute"),
    Objective(metric="wall_time", direction="min", margin=0.01),
    Objective(metric="energy", direction="min", margin=0.02),
]
DEFAULT_REFERENCE = {"accuracy": 0.0, "wall_time": 1.0, "energy": 100.0}


def board_definition(name: str = "toy", *, version: str = "1", objectives: list[Objective] | None = None,
                     reference_point: dict[str, float] | None = None, primary: str | None = None,
                     usage_intensities: list[int] | None = None) -> BoardDefinition:
    objectives = objectives or DEFAULT_OBJECTIVES
    return BoardDefinition(
        name=name, title=f"{name} board", version=version, objectives=objectives,
        primary=primary or objectives[0].metric,
        reference_point=reference_point or {o.metric: DEFAULT_REFERENCE.get(o.metric, 1e9) for o in objectives},
        usage_intensities=usage_intensities or [1_000, 1_000_000])


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def board_toml(board: BoardDefinition) -> str:
    lines = []
    data = board.model_dump()
    for key in ("name", "title", "description", "version", "primary", "top_k", "usage_intensities"):
        lines.append(f"{key} = {_toml_value(data[key])}")
    lines.append("")
    lines.append("[reference_point]")
    lines.extend(f"{key} = {_toml_value(float(v))}" for key, v in data["reference_point"].items())
    for objective in data["objectives"]:
        lines.append("")
        lines.append("[[objectives]]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in objective.items() if v is not None)
    return "\n".join(lines) + "\n"


def write_board(root: str | Path, board: BoardDefinition) -> Path:
    """Write root/<board>/board.toml."""
    path = Path(root) / board.name / "board.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(board_toml(board), encoding="utf-8")
    return path


def metric(value: float | None, *, unit: str = "", higher_is_better: bool = False,
           samples: Iterable[float] | None = None, method: str = "synthetic", **provenance: Any) -> Metric:
    samples = None if samples is None else [float(s) for s in samples]
    if value is None and samples:
        value = float(np.median(samples)) if provenance.get("kind") != "quality" else float(np.mean(samples))
    return Metric(value=value, unit=unit, higher_is_better=higher_is_better, samples=samples,
                  provenance=Provenance(method=method, **provenance))


def case(entry: str, *, board: str | None = "toy", family: str | None = None,
         wall_time: float | Iterable[float] | None = None, accuracy: float | Iterable[float] | None = None,
         energy: float | None = None, energy_method: str = "rapl", items: int | None = None,
         training_energy: float | None = None, hardware_class: str | None = None, outcome: str = "passed",
         params: dict[str, Any] | None = None, extra: dict[str, Metric] | None = None, nodeid: str | None = None,
         error: str | None = None) -> Case:
    """One case; list arguments become samples (rounds for wall_time, items for accuracy)."""
    metrics: dict[str, Metric] = {}
    if wall_time is not None:
        if isinstance(wall_time, (int, float)):
            metrics["wall_time"] = metric(float(wall_time), unit="s", method="pytest-benchmark")
        else:
            metrics["wall_time"] = metric(None, unit="s", samples=wall_time, method="pytest-benchmark")
    if accuracy is not None:
        if isinstance(accuracy, (int, float)):
            metrics["accuracy"] = metric(float(accuracy), higher_is_better=True, method="reported-by-case",
                                         kind="quality")
        else:
            metrics["accuracy"] = metric(None, higher_is_better=True, samples=accuracy,
                                         method="reported-by-case", kind="quality")
    if energy is not None or energy_method == "unavailable":
        metrics["energy"] = metric(energy if energy_method != "unavailable" else None, unit="J",
                                   method=energy_method)
    if training_energy is not None:
        metrics["training_energy"] = metric(training_energy, unit="J", method="estimated", kind="training")
    metrics.update(extra or {})
    return Case(nodeid=nodeid or f"suite/test_{board}.py::test_case[{entry}]", board=board, entry=entry,
                family=family, params=params or {}, outcome=outcome, hardware_class=hardware_class,
                items=items, metrics=metrics, error=error)


def run_record(cases: list[Case], *, run_id: str = "run-1", started_at: str = "2024-01-01T00:00:00+00:00",
               finished_at: str | None = None, hardware_class: str = HARDWARE,
               board_versions: dict[str, str] | None = None, git_commit: str | None = "0" * 40,
               status: str = "complete") -> RunRecord:
    config: dict[str, Any] = {}
    if board_versions is not None:
        config["board_versions"] = board_versions
    return RunRecord(run_id=run_id, started_at=started_at, finished_at=finished_at or started_at, status=status,
                     environment=Environment(hardware_class=hardware_class,
                                             git={"commit": git_commit, "dirty": False}),
                     config=config, cases=cases)


def random_cases(entries: list[str], *, seed: int, board: str = "toy", rounds: int = 10, items: int = 200,
                 time_scale: dict[str, float] | None = None, accuracy: dict[str, float] | None = None,
                 energy_method: str = "rapl", families: dict[str, str] | None = None) -> list[Case]:
    """Cases with lognormal round timings and Bernoulli per-item scores, seeded."""
    rng = np.random.default_rng(seed)
    out = []
    for i, name in enumerate(entries):
        scale = (time_scale or {}).get(name, 0.01 * (i + 1))
        p = (accuracy or {}).get(name, 0.6 + 0.3 * i / max(1, len(entries)))
        out.append(case(name, board=board, family=(families or {}).get(name),
                        wall_time=scale * rng.lognormal(0.0, 0.05, rounds),
                        accuracy=(rng.random(items) < p).astype(float), energy=scale * 50.0,
                        energy_method=energy_method, items=32))
    return out


def replicated_runs(true_medians: dict[str, float], *, seed: int, runs: int = 4, processes: int | None = None,
                    rounds: int = 20, between_cv: float = 0.05, within_cv: float = 0.01, board: str = "toy",
                    slowdown: dict[str, float] | None = None, run_prefix: str = "run") -> list[RunRecord]:
    """A known hierarchy: every (run, process) draws its own speed factor (lognormal, `between_cv`),
    and every round varies around it (lognormal, `within_cv`). The true median of an entry's
    wall time is its `true_medians` value (times `slowdown`). With `processes`, each run holds
    one case per process, marked with its `process` index (the worker-process mode)."""
    rng = np.random.default_rng(seed)
    records = []
    for r in range(runs):
        cases = []
        for p in range(processes or 1):
            for name, median in true_medians.items():
                scale = median * (slowdown or {}).get(name, 1.0) * rng.lognormal(0.0, between_cv)
                made = case(name, board=board, wall_time=scale * rng.lognormal(0.0, within_cv, rounds),
                            accuracy=[1.0, 0.0, 1.0, 1.0], energy=1.0)
                if processes is not None:
                    made.process = p
                cases.append(made)
        records.append(run_record(cases, run_id=f"{run_prefix}-{seed}-{r}",
                                  started_at=f"2024-01-{r + 1:02d}T00:00:00+00:00"))
    return records
