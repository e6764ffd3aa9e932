"""Reading aggregate's inputs: frontierbench run records and pytest-benchmark `--benchmark-json` files.

Every input becomes a validated RunRecord plus where it came from (path as given, sha256, format).
A pytest-benchmark file is recognised by its keys ("machine_info", "benchmarks") and mapped to
cases: one case per benchmark, wall_time samples from stats.data when saved, else the median alone.
Its energy is unavailable: pytest-benchmark does not measure it. The board is extra_info["board"],
else --default-board, else the benchmark's module ("tests/test_sort.py::test_x" -> "sort"); numeric
extra_info values are kept as metrics (formats.inference.extra_info_metrics).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, ValidationError

from frontierbench.formats.inference import board_from_nodeid, extra_info_metrics
from frontierbench.formats.journal import JOURNAL_SUFFIX, find_journals, is_locked, recover_journal
from frontierbench.formats.metrics import STANDARD
from frontierbench.formats.names import slugify
from frontierbench.formats.leaderboard import LEADERBOARD_SCHEMA_NAME
from frontierbench.formats.run import RUN_SCHEMA, RunRecord, parse_run
from frontierbench.formats.versioned import (
    PYTEST_BENCHMARK,
    RecordError,
    decode_json,
    describe_validation_error,
    file_kind,
    read_bytes,
    validate_current,
)
from frontierbench.formats.values import NonNegative, PositiveCount


@dataclass
class LoadedRun:
    path: str  # as given, or relative to the current directory
    sha256: str
    format: str  # "frontierbench" | "pytest-benchmark"
    record: RunRecord
    warnings: list[str] = field(default_factory=list)
    rows: Any = None  # tidy.RunRows when read from the cache (record then holds no cases)

    @property
    def git_commit(self) -> str | None:
        return git_commit_of(self.record.environment.model_dump())


def display_path(path: Path) -> str:
    """A path that does not depend on where the inputs happen to live: relative to cwd when inside it."""
    path = Path(path)
    if path.is_absolute():
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return path.as_posix()
    return path.as_posix()


def git_commit_of(environment: dict[str, Any]) -> str | None:
    git = environment.get("git")
    if isinstance(git, dict):
        for key in ("commit", "id", "sha"):
            if isinstance(git.get(key), str):
                return git[key]
    for key in ("git_commit", "commit"):
        if isinstance(environment.get(key), str):
            return environment[key]
    return None


def recover_journals(paths: list[str | Path], warnings: list[str]) -> list[str | Path]:
    """A journal left by a run that died becomes its record (status "crashed") before reading: in
    the given directories, and in place of a journal given by name. A live run's is left alone."""
    given: list[str | Path] = []
    for path in map(Path, paths):
        is_journal = path.name.endswith(JOURNAL_SUFFIX)
        for journal in find_journals(path) if path.is_dir() else [path] if is_journal else []:
            if is_locked(journal):
                warnings.append(f"{display_path(journal)}: a run still in progress; skipped")
                continue
            try:
                recovered = recover_journal(journal)
            except OSError as exc:
                raise RecordError(f"{display_path(journal)}: cannot write the record recovered from this journal "
                                  f"({exc.strerror or exc}); run `frontierbench recover` where it can") from exc
            warnings.append(f"{display_path(journal)}: the journal of a run that died; recovered as "
                            f"{display_path(recovered.record_path)} (status crashed)")
            if is_journal:
                given.append(recovered.record_path)
        if not is_journal:
            given.append(path)
    return given


def discover(paths: list[str | Path]) -> list[Path]:
    """Files as given, and every *.json below the given directories, sorted, without repeats."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.json") if p.is_file()))
        elif path.exists():
            found.append(path)
        else:
            raise RecordError(f"{path}: no such file or directory")
    seen: set[Path] = set()
    unique = []
    for path in found:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


# --- pytest-benchmark -------------------------------------------------------------------------


class _PBStats(BaseModel):
    model_config = ConfigDict(extra="allow")
    median: NonNegative
    rounds: PositiveCount
    min: NonNegative | None = None
    max: NonNegative | None = None
    iqr: NonNegative | None = None
    iterations: PositiveCount = 1
    data: list[NonNegative] | None = None


class _PBBenchmark(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    fullname: str
    group: str | None = None
    params: dict[str, Any] | None = None
    extra_info: dict[str, Any] = {}
    stats: _PBStats


class _PBFile(BaseModel):
    model_config = ConfigDict(extra="allow")
    machine_info: dict[str, Any]
    commit_info: dict[str, Any] = {}
    benchmarks: list[_PBBenchmark]
    datetime: str | None = None
    version: str | None = None


def hardware_class_from_machine_info(info: dict[str, Any]) -> str:
    """The same form as environment.cpu_hardware_class: "cpu-<arch>-<cpu model>-<logical cpus>t"."""
    cpu = info.get("cpu") if isinstance(info.get("cpu"), dict) else {}
    brand = cpu.get("brand_raw") or cpu.get("brand") or info.get("processor") or "unknown-cpu"
    machine = str(info.get("machine") or cpu.get("arch") or "unknown").lower()
    count = cpu.get("count")
    threads = f"-{count}t" if isinstance(count, int) else ""
    return f"cpu-{machine}-{slugify(str(brand))}{threads}"


def from_pytest_benchmark(data: dict[str, Any], *, source: str, sha256: str,
                          default_board: str | None = None,
                          board_objectives: dict[str, dict[str, bool]] | None = None
                          ) -> tuple[RunRecord, list[str]]:
    """Map a pytest-benchmark JSON file to a RunRecord (one case per benchmark).

    The board comes from extra_info["board"], else `default_board`, else the module. Numeric
    extra_info values are imported as metrics, with the board's direction when the board has an
    objective of that name (see formats.inference.extra_info_metrics).
    """
    try:
        parsed = _PBFile.model_validate(data)
    except ValidationError as exc:
        raise RecordError(describe_validation_error(exc, f"{source}: pytest-benchmark JSON")
                          .replace("this _PBFile", "this file")) from exc
    warnings = []
    machine = parsed.machine_info
    commit = parsed.commit_info or {}
    timestamp = parsed.datetime or commit.get("time") or "1970-01-01T00:00:00"
    cases = []
    for index, bench in enumerate(parsed.benchmarks):
        extra = bench.extra_info or {}
        board = extra.get("board") or default_board or board_from_nodeid(bench.fullname)
        stats = bench.stats
        if not (stats.median >= 0 and stats.median != float("inf")):
            raise RecordError(f"{source}: field 'benchmarks.{index}.stats.median': must be a finite "
                              f"time, got {stats.median!r}")
        samples = [float(x) for x in stats.data] if stats.data else None
        provenance = {"method": "pytest-benchmark", "covers": "one call, per round",
                      "rounds": stats.rounds, "iterations": stats.iterations}
        if samples is None:
            provenance["summary_only"] = True
        metrics: dict[str, Any] = {
            "wall_time": {"value": float(stats.median), "unit": STANDARD["wall_time"].unit, "higher_is_better": False,
                          "samples": samples, "provenance": provenance},
            "energy": {"value": None, "unit": STANDARD["energy"].unit, "higher_is_better": False,
                       "provenance": {"method": "unavailable",
                                      "reason": "pytest-benchmark does not measure energy"}},
        }
        directions = (board_objectives or {}).get(str(board), {})
        for name, metric in extra_info_metrics(extra, directions).items():
            metrics.setdefault(name, metric)
        cases.append({
            "nodeid": bench.fullname,
            "board": board,
            "entry": str(extra.get("entry") or bench.name),
            "family": extra.get("family") or bench.group,
            "params": bench.params or {},
            "outcome": "passed",
            "items": extra.get("items") if isinstance(extra.get("items"), int) else None,
            "metrics": metrics,
        })
    record = {
        "schema": RUN_SCHEMA,
        "run_id": f"pytest-benchmark-{sha256[:12]}",
        "started_at": timestamp,
        "finished_at": timestamp,
        "status": "complete",
        "environment": {
            "hardware_class": hardware_class_from_machine_info(machine),
            "machine_info": machine,
            "git": {"commit": commit.get("id"), "dirty": commit.get("dirty"), "branch": commit.get("branch")},
            "source_format": f"pytest-benchmark {parsed.version or '?'}",
        },
        "config": {},
        "cases": cases,
    }
    return parse_run(record, source=source), warnings


# --- everything -------------------------------------------------------------------------------


def load_input(path: Path, *, default_board: str | None = None,
               board_objectives: dict[str, dict[str, bool]] | None = None) -> LoadedRun | None:
    """One input file; None for a leaderboard found while walking a directory."""
    raw = read_bytes(path)
    source = display_path(path)
    sha = hashlib.sha256(raw).hexdigest()
    record = validate_current(raw, RunRecord, RUN_SCHEMA)
    if record is not None:  # the common case: a current run record
        return LoadedRun(source, sha, "frontierbench", record)
    data = decode_json(raw, source)
    kind = file_kind(data)
    if kind == PYTEST_BENCHMARK:
        record, warnings = from_pytest_benchmark(data, source=source, sha256=sha,
                                                 default_board=default_board,
                                                 board_objectives=board_objectives)
        return LoadedRun(source, sha, "pytest-benchmark", record, warnings)
    if kind == LEADERBOARD_SCHEMA_NAME:
        return None
    return LoadedRun(source, sha, "frontierbench", parse_run(data, source=source))


def load_inputs(paths: list[str | Path], *, default_board: str | None = None,
                board_objectives: dict[str, dict[str, bool]] | None = None, skip_invalid: bool = False,
                load: Callable[..., LoadedRun | None] | None = None) -> tuple[list[LoadedRun], list[str]]:
    """Load and validate every input; runs come back in time order (started_at, run_id, sha256),
    so the result does not depend on the order the paths were given in.

    With `skip_invalid` (publishing a long history), a file that cannot be read, is corrupt or
    comes from a future schema is named in a warning and left out instead of stopping everything.
    Two files with one run id and different content stay an error: which one counts is not ours
    to guess. `load` replaces load_input (aggregate.cache.rows_loader).
    """
    load = load or load_input
    warnings: list[str] = []
    paths = recover_journals(paths, warnings)
    runs: dict[str, LoadedRun] = {}
    by_id: dict[str, LoadedRun] = {}
    explicit = {Path(p).resolve() for p in paths if not Path(p).is_dir()}
    for path in discover(paths):
        try:
            loaded = load(path, default_board=default_board, board_objectives=board_objectives)
        except RecordError as exc:
            if not skip_invalid:
                raise
            warnings.append(f"{exc}; skipped (--skip-invalid)")
            continue
        if loaded is None:
            if path.resolve() in explicit:
                raise RecordError(f"{display_path(path)}: field 'schema': this is a leaderboard, "
                                  f"not a run record; aggregate reads run records")
            warnings.append(f"{display_path(path)}: a leaderboard, not a run record; skipped")
            continue
        warnings.extend(loaded.warnings)
        if loaded.sha256 in runs:
            warnings.append(f"{loaded.path}: same content as {runs[loaded.sha256].path}; read once")
            continue
        other = by_id.get(loaded.record.run_id)
        if other is not None:
            raise RecordError(f"{loaded.path}: field 'run_id': {loaded.record.run_id!r} is also the run id "
                              f"of {other.path}, with different content; refusing to count one run twice")
        runs[loaded.sha256] = loaded
        by_id[loaded.record.run_id] = loaded
    ordered = sorted(runs.values(), key=lambda r: (r.record.started_at, r.record.run_id, r.sha256))
    return ordered, warnings
