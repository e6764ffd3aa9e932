"""One finished case -> the record's case: energy and carbon converted, plain JSON, checked.

Imported when the first metered case is set up: pydantic and the board models cost a pytest
session without metered cases nothing.

This runs when each case finishes, so that the journal holds cases exactly as the record will.
A value the record cannot hold is refused here, for that case alone, with a message naming the
case and the field, instead of costing the whole run its record at the end of the session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from pydantic import ValidationError

from frontierbench.capture import generation
from frontierbench.capture.cases import printable
from frontierbench.capture.environment import cpu_model, gpu_hardware_class, logical_cpus
from frontierbench.capture.meters.carbon import (CarbonConfig, EnergyEstimator, GridIntensity, LookupCache,
                                                 resolve_intensity)
from frontierbench.capture.meters.energy import EnergyWindow
from frontierbench.formats.board import check_slug, tomllib
from frontierbench.formats.journal import UnrecordableValue, plain_json
from frontierbench.formats.run import Case


class CaseRefused(ValueError):
    """The case cannot be recorded as it is; the message names the case and the field."""


class CaseRecorder:
    """Completes and checks the cases of one run. Energy conversion needs codecarbon's answers
    (read from a cache file, asked of codecarbon on a miss): that happens once, at the first case
    that needs it, and its provenance goes to the run's config through `on_config`."""

    def __init__(self, *, rootpath: Path, carbon: CarbonConfig, boards_dir: Path | None,
                 hardware_class: str, on_config: Callable[[dict[str, Any]], None]):
        self.cache = LookupCache(Path(rootpath) / ".frontierbench" / "codecarbon-cache.json")
        self.carbon = carbon
        self.boards_dir = boards_dir
        self.hardware_class = hardware_class
        self.on_config = on_config
        self._estimator: EnergyEstimator | None = None
        self._intensity: GridIntensity | None = None
        self._intensity_error: str | None = None
        self._intensity_asked = False
        self.board_versions: dict[str, str] = {}
        self.seen: dict[tuple[Any, ...], str] = {}  # (board, hardware class, entry) -> nodeid

    # -- energy and carbon -----------------------------------------------------------------
    def complete(self, case: dict[str, Any]) -> dict[str, Any]:
        """Hardware class, energy (from the case's window) and carbon, in place."""
        window_fields = case.pop("energy_window", None)
        gpu_name = case.pop("gpu_name", None)
        case["hardware_class"] = gpu_hardware_class(gpu_name) if gpu_name else self.hardware_class
        if window_fields is None:
            return case
        window = EnergyWindow(**window_fields)
        if window.method == "estimated":
            if self._estimator is None:
                self._estimator = EnergyEstimator(cpu_model(), logical_cpus(), self.cache)
            self._estimator.complete(window)
        intensity = self._grid_intensity()
        if generation.is_generation_window(window):  # energy per request and per output token
            case["metrics"].update(generation.energy_metrics(window))
            joules, samples = case["metrics"]["energy"]["value"], None
        else:
            wall_time = case["metrics"].get("wall_time", {}).get("value")
            joules = None if wall_time is None else window.per_call_joules(wall_time)
            samples = window.per_call_samples(wall_time)  # per round, where the counter allowed it
            case["metrics"]["energy"] = {"value": joules, "unit": "J", "higher_is_better": False,
                                         "samples": samples, "provenance": window.provenance()}
        carbon_samples = None
        if joules is None or intensity is None:
            carbon, provenance = None, {"method": "unavailable", "covers": None, "energy_method": window.method,
                                        "reason": self._intensity_error or "no energy figure"}
        else:
            carbon = intensity.carbon_g(joules)
            carbon_samples = None if samples is None else [intensity.carbon_g(j) for j in samples]
            provenance = {"method": "energy x grid intensity", "covers": None, "energy_method": window.method,
                          "grid": intensity.provenance}
        case["metrics"]["carbon"] = {"value": carbon, "unit": "gCO2e", "higher_is_better": False,
                                     "samples": carbon_samples, "provenance": provenance}
        return case

    def _grid_intensity(self) -> GridIntensity | None:
        if not self._intensity_asked:
            self._intensity_asked = True
            try:
                self._intensity = resolve_intensity(self.carbon, self.cache)
            except Exception as exc:  # a broken carbon table must not cost the case its energy figure
                self._intensity_error = f"{type(exc).__name__}: {exc}"
            self.on_config({"grid_intensity": self._intensity.provenance if self._intensity
                            else self._intensity_error})
        return self._intensity

    # -- checks ----------------------------------------------------------------------------
    def check(self, case: dict[str, Any]) -> dict[str, Any]:
        """The case as plain JSON, valid for the record, or CaseRefused naming case and field."""
        nodeid = printable(case.get("nodeid"))
        try:
            plain = {key: plain_json(value, key) for key, value in case.items()}
        except UnrecordableValue as exc:
            raise CaseRefused(f"{nodeid}: cannot be recorded: {exc}") from None
        try:
            Case.model_validate(plain)
        except ValidationError as exc:
            problems = "; ".join(f"field {'.'.join(str(part) for part in item['loc'])!r}: {item['msg']}"
                                 for item in exc.errors()[:3])
            raise CaseRefused(f"{nodeid}: cannot be recorded: {problems}") from None
        board = plain.get("board")
        if board is not None:
            try:
                check_slug(board)
            except ValueError as exc:
                raise CaseRefused(f"{nodeid}: cannot be recorded: field 'board': {exc}") from None
        return plain

    def check_unique(self, case: dict[str, Any]) -> None:
        """Two cases of one run may not be one entry: aggregate would average them silently."""
        board = case.get("board")
        if board is None:
            return
        other = self.seen.get((board, case.get("hardware_class"), case["entry"]))
        if other is not None and other != case["nodeid"]:
            raise CaseRefused(f"{printable(case['nodeid'])}: entry {case['entry']!r} of board {board!r} is "
                              f"already recorded by {other}; two cases of one run cannot be one entry "
                              f"(give each its own name with frontier.entry())")

    def accepted(self, case: dict[str, Any]) -> None:
        """Remember a recorded case (for the duplicate check) and its board's version."""
        board = case.get("board")
        if board is None:
            return
        self.seen.setdefault((board, case.get("hardware_class"), case["entry"]), case["nodeid"])
        if board not in self.board_versions and self.boards_dir is not None:
            version = board_version(self.boards_dir, board)
            if version is not None:
                self.board_versions[board] = version
                self.on_config({"board_versions": dict(self.board_versions)})


def board_version(boards_dir: Path, board: str) -> str | None:
    """The version of a board's definition at run time, so aggregation groups exactly."""
    path = Path(boards_dir) / board / "board.toml"
    if not path.is_file():
        return None
    try:
        return str(tomllib.loads(path.read_text())["version"])
    except (KeyError, ValueError, OSError):
        return None


def refused_case(case: dict[str, Any], message: str) -> dict[str, Any]:
    """What is recorded for a refused case: failed, with the message, and only the names that
    can be recorded (its figures are dropped, since one of them may be the bad value)."""
    board = case.get("board")
    try:
        board = check_slug(board) if board is not None else None
    except ValueError:
        board = None
    return {"nodeid": printable(case.get("nodeid")), "entry": printable(case.get("entry")), "board": board,
            "params": {}, "device": "cpu", "hardware_class": case.get("hardware_class"),
            "outcome": "failed", "duration": case.get("duration"), "error": printable(message)[:4000],
            "metrics": {}, **({"process": case["process"]} if case.get("process") is not None else {})}
