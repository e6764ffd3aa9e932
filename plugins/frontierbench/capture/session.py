"""The session object: collects finished cases, converts energy once, writes the run record."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from frontierbench import __version__
from frontierbench.formats.atomic import write_json_atomic
from frontierbench.capture.meters.carbon import (
    CarbonConfig,
    EnergyEstimator,
    GridIntensity,
    LookupCache,
    resolve_intensity,
)
from frontierbench.capture.environment import collect_environment, cpu_model, gpu_hardware_class, logical_cpus
from frontierbench.capture.meters.energy import EnergyWindow



def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FrontierSession:
    def __init__(self, config: Any, *, out_dir: Path, quick: bool, seed: int, carbon: CarbonConfig,
                 boards_dir: Path | None, write: bool):
        self.config = config
        self.out_dir = out_dir
        self.quick = quick
        self.seed = seed
        self.carbon = carbon
        self.boards_dir = boards_dir
        self.write = write
        self.started_at = utc_now()
        self.run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]
        self.cases: dict[str, dict[str, Any]] = {}
        self.running: dict[str, Any] = {}  # CaseResults set up but not yet reported (Ctrl-C)
        self.record: dict[str, Any] | None = None  # the run record as written
        self.record_path: Path | None = None
        self.xdist_refused = 0
        self.intensity: GridIntensity | None = None
        self.intensity_error: str | None = None

    def add_case(self, case: dict[str, Any]) -> None:
        self.running.pop(case["nodeid"], None)
        self.config.hook.pytest_frontier_case(config=self.config, case=case)
        self.cases[case["nodeid"]] = case

    # -- the end of the session -----------------------------------------------------------
    def finish(self, interrupted: bool) -> dict[str, Any]:
        for nodeid, case in self.running.items():  # a case cut off by Ctrl-C is kept, as failed
            self.cases[nodeid] = case.to_case_dict(
                "failed", None, "interrupted (KeyboardInterrupt) before the case finished")
        self.running.clear()
        environment = collect_environment(Path(str(self.config.rootpath)),
                                          {"seed": self.seed, "policy": "random, numpy and torch reseeded per case"})
        self.config.hook.pytest_frontier_environment(config=self.config, environment=environment)
        intensity = self._convert_energy(environment)
        cases = [self._finish_case(case, environment) for case in self.cases.values()]
        record = {
            "schema": "frontierbench.run/1", "run_id": self.run_id, "started_at": self.started_at,
            "finished_at": utc_now(), "status": "interrupted" if interrupted else "complete",
            "environment": environment, "cases": cases,
            "config": {"profile": "quick" if self.quick else "full", "seed": self.seed,
                       "carbon": self.carbon.describe(),
                       "grid_intensity": intensity.provenance if intensity else self.intensity_error,
                       "board_versions": self._board_versions(cases),
                       "frontierbench": __version__,
                       "invocation": list(self.config.invocation_params.args)},
        }
        if self.config.hook.pytest_frontier_record.get_hookimpls():
            self.config.hook.pytest_frontier_record(config=self.config, record=record)
            self._validate(record)  # a plugin changed it: check before writing
        self.record = record
        if self.write:
            self.record_path = write_json_atomic(self.out_dir / f"{self.run_id}.json", record)
        return record

    def _validate(self, record: dict[str, Any]) -> None:
        """Validate with the pydantic models; keep an invalid record beside the error, never lose it.

        Records this module builds are valid by construction (metric() checks every value, and
        the tests validate them against the published schema), so this runs only when a plugin's
        pytest_frontier_record hook has changed the record: it saves importing pydantic (0.14 s)
        in every session.
        """
        from frontierbench.formats.run import RecordError, parse_run

        try:
            parse_run(record, source=f"run {self.run_id}")
        except RecordError:
            if self.write:
                write_json_atomic(self.out_dir / f"{self.run_id}.invalid.json", record)
            raise

    def _convert_energy(self, environment: dict[str, Any]) -> GridIntensity | None:
        """Complete every estimated window and resolve the grid intensity: once per session."""
        for case in self.cases.values():
            if case.get("energy_window"):
                case["_window"] = EnergyWindow(**case["energy_window"])
        windows = [case["_window"] for case in self.cases.values() if "_window" in case]
        if not windows:
            return None
        cache = LookupCache(Path(str(self.config.rootpath)) / ".frontierbench" / "codecarbon-cache.json")
        if any(window.method == "estimated" for window in windows):
            estimator = EnergyEstimator(cpu_model(), logical_cpus(), cache)
            for window in windows:
                estimator.complete(window)
        try:
            self.intensity = resolve_intensity(self.carbon, cache)
        except Exception as exc:  # a broken carbon table must not cost the run its record
            self.intensity = None
            self.intensity_error = f"{type(exc).__name__}: {exc}"
        return self.intensity

    def _finish_case(self, case: dict[str, Any], environment: dict[str, Any]) -> dict[str, Any]:
        window: EnergyWindow | None = case.pop("_window", None)
        case.pop("energy_window", None)
        gpu_name = case.pop("gpu_name", None)
        case["hardware_class"] = gpu_hardware_class(gpu_name) if gpu_name else environment["hardware_class"]
        if window is not None:
            wall_time = case["metrics"].get("wall_time", {}).get("value")
            joules = None if wall_time is None else window.per_call_joules(wall_time)
            samples = window.per_call_samples(wall_time)  # per round, where the counter allowed it
            case["metrics"]["energy"] = {"value": joules, "unit": "J", "higher_is_better": False,
                                         "samples": samples, "provenance": window.provenance()}
            if joules is None or self.intensity is None:
                carbon, provenance = None, {"method": "unavailable", "covers": None, "energy_method": window.method,
                                            "reason": self.intensity_error or "no energy figure"}
            else:
                carbon = self.intensity.carbon_g(joules)
                carbon_samples = None if samples is None else [self.intensity.carbon_g(j) for j in samples]
                provenance = {"method": "energy x grid intensity", "covers": None, "energy_method": window.method,
                              "grid": self.intensity.provenance}
            case["metrics"]["carbon"] = {"value": carbon, "unit": "gCO2e", "higher_is_better": False,
                                         "samples": carbon_samples if carbon is not None else None,
                                         "provenance": provenance}
        return case

    def _board_versions(self, cases: list[dict[str, Any]]) -> dict[str, str]:
        """The version of each board's definition at run time, so aggregation groups exactly."""
        versions: dict[str, str] = {}
        if self.boards_dir is None:
            return versions
        for board in sorted({c["board"] for c in cases if c.get("board")}):
            path = self.boards_dir / board / "board.toml"
            if path.is_file():
                from frontierbench.formats.board import tomllib

                try:
                    versions[board] = str(tomllib.loads(path.read_text())["version"])
                except (KeyError, ValueError, OSError):
                    continue
        return versions
