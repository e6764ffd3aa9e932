"""The leaderboard: one versioned JSON per board (schema "frontierbench.leaderboard/2").

A leaderboard holds one *group* per (hardware class, board version): results from different
groups are never ranked together. Each group carries its entries' metric estimates (with their
samples, so the reliability checks and the site can resample and draw them), its Pareto front,
hypervolume, derived metrics and the reliability report.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Iterable, Iterator, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, PrivateAttr, Tag, ValidationError, model_validator

from frontierbench.formats.atomic import write_bytes_atomic
from frontierbench.formats.bulk import paused_gc
from frontierbench.formats.versioned import (
    Migration,
    RecordError,
    describe_validation_error,
    load_validated,
    migrate,
    read_json,
    schema_name,
    schema_version,
)
from frontierbench.formats.reliability import ReliabilityReport
from frontierbench.formats.values import (
    COST_UNITS,
    Count,
    Flag,
    JsonObject,
    NonNegative,
    Number,
    OpenModel,
    PositiveCount,
    Samples,
    Timestamp,
    check_cost,
)
from frontierbench.formats.names import check_slug

# numpy, orjson and formats/samples_sidecar are imported where a leaderboard is read or written:
# the plugin imports this module (board.toml's Objective) in every pytest session, and stays light.
SIDECAR_FIELD = "samples_sidecar"

LEADERBOARD_SCHEMA_NAME = "frontierbench.leaderboard"
LEADERBOARD_SCHEMA_VERSION = 2
LEADERBOARD_SCHEMA = f"{LEADERBOARD_SCHEMA_NAME}/{LEADERBOARD_SCHEMA_VERSION}"
# 2 adds the table form of a history (formats/history_table.py); a schema 1 file is a valid 2 as it is.
LEADERBOARD_MIGRATIONS: dict[int, Migration] = {1: lambda data: data}


class Objective(BaseModel):
    """One axis of the frontier, as defined in board.toml."""

    model_config = ConfigDict(extra="forbid")

    metric: str
    direction: Literal["min", "max"]
    margin: NonNegative = 0.0  # the practical margin for the delta-front
    margin_kind: Literal["relative", "absolute"] = "relative"
    label: str | None = None
    unit: str | None = None
    log_scale: Flag = False


class Held:
    """A private copy of what a model's fields already say, in another form (an array, JSON text):
    never part of the model's equality (equal to anything, None included)."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = None  # type: ignore[assignment]


class MetricEstimate(OpenModel):
    """A pooled metric: point estimate, 95% interval, samples and where they came from."""

    value: Number | None
    low: Number | None = None
    high: Number | None = None
    unit: str
    higher_is_better: Flag
    estimator: Literal["median", "mean", "value", "derived"] = "value"
    # quantile: order statistics; bootstrap: resampled items; t: Student t over processes;
    # regression: t interval of a fitted coefficient; propagated: carried through arithmetic from
    # the inputs' intervals
    interval: Literal["quantile", "bootstrap", "t", "regression", "propagated", "none"] = "none"
    n: Count = 0
    sample_kind: Literal["rounds", "items", "runs"] | None = None
    samples: Samples | None = None
    # One point value per case of each input run, in run order: one per run, or one per process when
    # a run has several (the history's point for that run is their median: aggregate/history.py).
    run_values: list[Number] = Field(default_factory=list)
    run_spread: NonNegative | None = None  # (max - min) / |median| of run_values, when >= 2 runs
    # What the interval of a cost covers (stats/nested.py): "between processes" when it was computed
    # from two or more processes or runs (the unit of replication), "within one process" when only
    # one was measured, so run-to-run variation is not in it; `interval_note` then says so in words.
    interval_scope: Literal["between processes", "within one process"] | None = None
    interval_note: str | None = None
    replicates: Count | None = None  # processes or runs behind the estimate
    unit_sizes: list[Count] | None = None  # samples per process, in the order of `samples`
    provenance: JsonObject = Field(default_factory=dict)

    def samples_for_sidecar(self) -> Any:
        """The samples as save_leaderboard packs them: a FloatArray's array (formats/float_array.py)
        as it is, a list as it is."""
        from frontierbench.formats.float_array import FloatArray

        return self.samples.array if isinstance(self.samples, FloatArray) else self.samples

    @model_validator(mode="after")
    def _costs_not_negative(self) -> MetricEstimate:
        if not self.higher_is_better and self.unit in COST_UNITS:
            check_cost(self.unit, (("value", self.value), ("low", self.low), ("high", self.high),
                                   ("samples", self.samples), ("run_values", self.run_values)))
        return self


class HistoryPoint(OpenModel):
    run_id: str
    started_at: Timestamp
    git_commit: str | None = None
    board_version: str | None = None
    values: dict[str, Number | None] = Field(default_factory=dict)


class HistoryTable(BaseModel):
    """An entry's history as written from schema 2 on (formats/history_table.py): one row per point,
    `[run_id, its value of each of metrics]`, where the point says nothing else (its run's start time
    and commit are the leaderboard input's, its board version its group's); any other point whole,
    as an object. Read back, it is the list of points again. Each point is checked there, so that a
    bad one is named by its own path."""

    model_config = ConfigDict(extra="forbid")

    metrics: list[str]
    points: list[Any]  # rows or HistoryPoints (leaderboard_json_schema says which)


def _history_form(value: Any) -> str:
    return "(as a table)" if isinstance(value, (dict, HistoryTable)) else "(as points)"


# A list of points (schema 1, and any hand-made leaderboard), or a table (what schema 2 writes).
History = Annotated[Annotated[list[HistoryPoint], Tag("(as points)")] | Annotated[HistoryTable, Tag("(as a table)")],
                    Discriminator(_history_form)]


class Change(OpenModel):
    """A step in an entry's history: the metric moved to a new level at `run_id` (the first run
    after the step) and stayed there. `ratio` is after / before, `low`/`high` its 95% interval."""

    metric: str
    run_id: str
    git_commit: str | None = None
    started_at: Timestamp
    ratio: Number
    low: Number
    high: Number


class LeaderboardEntry(OpenModel):
    name: str
    family: str | None = None
    params: JsonObject = Field(default_factory=dict)
    device: str = "cpu"
    nodeids: list[str] = Field(default_factory=list)
    runs: list[str] = Field(default_factory=list)
    metrics: dict[str, MetricEstimate] = Field(default_factory=dict)
    energy_method: str = "unavailable"
    on_front: Flag = False
    dominated_by: list[str] = Field(default_factory=list)
    # One point per run, oldest first. A file may hold it as a HistoryTable; the Leaderboard it is
    # read in turns that back into the list of points (its inputs say each row's run).
    history: History = Field(default_factory=list)
    changes: list[Change] = Field(default_factory=list)  # steps found in the history, oldest first
    # The history as the JSON text it is written as, where already made (history_text): an entry
    # that aggregate.incremental extended holds only this, and `history` stays empty.
    _history_json: Held | None = PrivateAttr(default=None)

    def history_json(self) -> bytes | None:
        return self._history_json.value if self._history_json is not None else None

    def hold_history_json(self, text: bytes) -> None:
        self._history_json = Held(text)


class InputRun(OpenModel):
    path: str
    sha256: str
    run_id: str
    started_at: Timestamp
    status: str
    format: Literal["frontierbench", "pytest-benchmark"] = "frontierbench"
    git_commit: str | None = None


class Group(OpenModel):
    """The entries that may be ranked together: one hardware class, one board version."""

    hardware_class: str
    board_version: str
    environment: JsonObject = Field(default_factory=dict)  # fingerprint of the newest run
    energy_method: str = "unavailable"  # one method for the whole group, or "mixed"
    entries: list[LeaderboardEntry] = Field(default_factory=list)
    frontier: list[str] = Field(default_factory=list)
    hypervolume: Number | None = None
    counterfactual_frontiers: dict[str, list[str]] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    reliability: ReliabilityReport | None = None
    # Fingerprint of everything the reliability report depends on (aggregate/reuse.py).
    inputs_sha256: str | None = None


class Leaderboard(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: str = Field(LEADERBOARD_SCHEMA, alias="schema")
    board: str
    title: str
    description: str = ""
    objectives: list[Objective]
    primary: str
    reference_point: dict[str, Number]
    top_k: PositiveCount = 3
    generated_at: Timestamp | None = None  # taken from the newest input run, never the wall clock
    # True when no board.toml defined the board: objectives inferred from the metrics found, and no
    # hypervolume (it needs a fixed reference point). Written only when true.
    inferred: Flag = False
    inputs: list[InputRun] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)
    # Where the estimates' samples are when they are not inline (formats/samples_sidecar.py): the
    # file next to this one, its sha256, how many values. Written only when there is one.
    samples_sidecar: JsonObject | None = None

    @model_validator(mode="after")
    def _history_points(self) -> Leaderboard:
        """Each history written as a table, as its list of points again."""
        from frontierbench.formats.history_table import expanded, input_facts

        runs = None
        for g, group in enumerate(self.groups):
            for e, entry in enumerate(group.entries):
                if isinstance(entry.history, HistoryTable):
                    runs = input_facts(self.inputs) if runs is None else runs
                    entry.history = expanded(entry.history, runs, group.board_version,
                                             f"groups.{g}.entries.{e}.history")
        return self

    @model_validator(mode="after")
    def _consistent(self) -> Leaderboard:
        """What every reader relies on: a safe board slug (it names folders), a primary among at
        least one objective (no objective twice), unique entry names per group and one group per (hardware
        class, board version)."""
        problems = []
        try:
            check_slug(self.board)
        except ValueError as exc:
            problems.append(("board", str(exc)))
        metrics = [o.metric for o in self.objectives]
        if not metrics:
            problems.append(("objectives", "a board needs at least one objective (one gives a ranking, "
                                           "two or more a frontier)"))
        elif len(set(metrics)) != len(metrics):
            problems.append(("objectives", f"an objective appears twice in {metrics}"))
        if self.primary not in metrics:
            problems.append(("primary", f"{self.primary!r} is not one of the objectives {metrics}"))
        seen = set()
        for g, group in enumerate(self.groups):
            names = [e.name for e in group.entries]
            if len(set(names)) != len(names):
                duplicate = next(n for n in names if names.count(n) > 1)
                problems.append((f"groups.{g}.entries", f"entry {duplicate!r} appears twice"))
            key = (group.hardware_class, group.board_version)
            if key in seen:
                problem = f"hardware class {key[0]!r} and board version {key[1]!r} appear in two groups"
                problems.append((f"groups.{g}", problem))
            seen.add(key)
        if problems:  # the first; the others may follow from it
            where, what = problems[0]
            raise ValueError(f"field '{where}': {what}")
        return self

    def to_json_dict(self) -> dict[str, Any]:
        """What save_leaderboard writes, as plain JSON values (samples inline)."""
        import orjson

        from frontierbench.formats.history_table import history_value, input_facts

        data = self.model_dump(mode="json", by_alias=True)
        runs = input_facts(self.inputs)
        for group_data, group in zip(data["groups"], self.groups):
            for entry_data, entry in zip(group_data["entries"], group.entries):
                held = entry.history_json()
                entry_data["history"] = (orjson.loads(held) if held is not None
                                         else history_value(entry.history, runs, group.board_version))
        if not self.inferred:
            del data["inferred"]  # leaderboards of defined boards keep their exact bytes
        if self.samples_sidecar is None:
            del data[SIDECAR_FIELD]
        return data

    def estimates(self) -> Iterator[MetricEstimate]:
        for group in self.groups:
            for entry in group.entries:
                yield from entry.metrics.values()


def parse_leaderboard(data: Any, source: str = "<leaderboard>") -> Leaderboard:
    version = schema_version(data, expected_name=LEADERBOARD_SCHEMA_NAME, source=source)
    data = migrate(data, version=version, current=LEADERBOARD_SCHEMA_VERSION,
                   migrations=LEADERBOARD_MIGRATIONS, name=LEADERBOARD_SCHEMA_NAME, source=source)
    try:
        return Leaderboard.model_validate(data)
    except ValidationError as exc:
        raise RecordError(describe_validation_error(exc, source)) from exc


def load_leaderboard(path: str | Path) -> Leaderboard:
    with paused_gc():  # a history's leaderboard: a million history points
        board = load_validated(path, Leaderboard, LEADERBOARD_SCHEMA, parse_leaderboard)
        return with_samples(board, Path(path))


def with_samples(board: Leaderboard, path: Path) -> Leaderboard:
    """The leaderboard read from `path` with its samples back in place, if they are in a sidecar
    (`samples_sidecar` still names it, for a copy of the file: the site publishes both)."""
    from frontierbench.formats.samples_sidecar import RANGE_FIELD, attach_samples, read_sidecar

    if board.samples_sidecar is None:
        if any(RANGE_FIELD in (estimate.model_extra or {}) for estimate in board.estimates()):
            raise RecordError(f"{path}: field '{RANGE_FIELD}': an estimate's samples are in a sidecar, but the "
                              f"leaderboard names none in '{SIDECAR_FIELD}'")
        return board
    # Beside the file as given, else beside the file a symbolic link points to.
    folder = path.parent
    if path.is_symlink() and not (folder / str(board.samples_sidecar.get("file", ""))).exists():
        folder = path.resolve().parent
    values = read_sidecar(folder, board.samples_sidecar, str(path))
    attach_samples(board.estimates(), values, str(path))
    return board


def find_leaderboards(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; a directory contributes every *.json below it whose schema is a leaderboard
    (so a folder that also holds run records or board.toml files can be named as it is)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            before = len(found)
            for candidate in sorted(path.rglob("*.json")):
                if schema_name(read_json(candidate)) == LEADERBOARD_SCHEMA_NAME:
                    found.append(candidate)
            if len(found) == before:
                raise RecordError(f"{path}: no leaderboard JSON (schema {LEADERBOARD_SCHEMA_NAME}/N) found in it")
        elif path.exists():
            found.append(path)
        else:
            raise RecordError(f"{path}: cannot read: no such file or directory")
    return found


def save_leaderboard(board: Leaderboard, path: str | Path) -> Path:
    """Write the leaderboard atomically, and a large one's samples beside it (samples_sidecar).

    Sorted keys, compact: the same leaderboard always gives the same bytes. orjson, because the
    standard encoder takes seconds on a history's leaderboard; it writes a NaN as null where the
    standard one refuses it, so non-finite numbers are refused here first.
    """
    with paused_gc():  # a history's leaderboard: a million history points become dicts
        return _save(board, Path(path))


def _save(board: Leaderboard, path: Path) -> Path:
    import orjson

    from frontierbench.formats.samples_sidecar import (
        pack_samples,
        remove_stale_sidecars,
        sidecar_prefix,
        use_sidecar,
        write_sidecar,
    )

    prefix = sidecar_prefix(path)
    sidecar = use_sidecar(estimate.samples for estimate in board.estimates())
    if not sidecar:
        _list_sample_arrays(board)
    data = _json_dict(board, without_samples=sidecar)
    data.pop(SIDECAR_FIELD, None)  # where a loaded copy's samples came from: decided anew here
    _refuse_non_finite(data)
    raw = None
    if sidecar:  # first the samples (a new name), then the file naming them, then the old ones
        raw = pack_samples(data, _estimate_pairs(data, board), prefix)
        write_sidecar(path.parent, data, raw)
    write_bytes_atomic(path, orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE
                                          | orjson.OPT_SERIALIZE_NUMPY))
    remove_stale_sidecars(path.parent, prefix, data[SIDECAR_FIELD]["file"] if raw else None)
    return path


def _list_sample_arrays(board: Leaderboard) -> None:
    """Samples held as arrays, listed for a leaderboard that keeps them inline. (aggregate holds
    them so only where a sidecar is certain; this keeps any other leaderboard writable.)"""
    from frontierbench.formats.float_array import FloatArray

    for estimate in board.estimates():
        if isinstance(estimate.samples, FloatArray):
            estimate.samples = estimate.samples.tolist()


def _json_dict(board: Leaderboard, *, without_samples: bool) -> dict[str, Any]:
    """board.to_json_dict(), built faster and smaller: histories (up to a million points) are written
    as tables (formats/history_table.py), and samples bound for a sidecar are not converted at all."""
    import orjson

    from frontierbench.formats.float_array import FloatArray
    from frontierbench.formats.history_table import history_text, input_facts

    # Run values (a thousand per estimate in a history) and each entry's run ids are put in as the
    # lists of floats and strings they are, not serialised one by one; samples bound for a sidecar
    # are left out.
    entry_exclude: dict[str, Any] = {"history": True, "runs": True,
                                     "metrics": {"__all__": {"samples", "run_values"} if without_samples
                                                 else {"run_values"}}}
    data = board.model_dump(mode="json", by_alias=True,
                            exclude={"groups": {"__all__": {"entries": {"__all__": entry_exclude}}}})
    if not board.inferred:
        del data["inferred"]
    if board.samples_sidecar is None:
        del data[SIDECAR_FIELD]
    runs = input_facts(board.inputs)
    for group_data, group in zip(data["groups"], board.groups):
        for entry_data, entry in zip(group_data["entries"], group.entries):
            held = entry.history_json()
            entry_data["history"] = orjson.Fragment(
                held if held is not None else history_text(entry.history, runs, group.board_version))
            entry_data["runs"] = entry.runs
            for name, estimate in entry.metrics.items():
                values = estimate.run_values
                entry_data["metrics"][name]["run_values"] = values.array if isinstance(values, FloatArray) else values
    return data


def _estimate_pairs(data: dict[str, Any], board: Leaderboard) -> Iterator[tuple[dict[str, Any], list[float] | None]]:
    for group_data, group in zip(data["groups"], board.groups):
        for entry_data, entry in zip(group_data["entries"], group.entries):
            for name, estimate in entry.metrics.items():
                yield entry_data["metrics"][name], estimate.samples_for_sidecar()


def _refuse_non_finite(data: dict[str, Any]) -> None:
    """Every number a leaderboard computes (estimates, fronts, reliability) must be finite. History
    points are left out: each is one run's own value, already refused where it entered if not."""
    import numpy as np

    def bad(value: Any) -> list[Any] | None:
        """The path to value's first non-finite number, innermost first (built only for that one:
        a history's leaderboard holds a hundred thousand numbers outside its lists)."""
        kind = type(value)
        if kind is float:
            return None if math.isfinite(value) else []
        if kind is np.ndarray:  # a FloatArray's values
            finite = np.isfinite(value)
            return None if finite.all() else [int(np.argmin(finite))]
        if isinstance(value, np.floating):  # orjson writes numpy's numbers too, a NaN as null
            return None if np.isfinite(value) else []
        if kind is dict:
            for key, item in value.items():
                kind = type(item)
                if kind is float:
                    if not math.isfinite(item):
                        return [key]
                elif kind is dict or kind is list or kind is np.ndarray or isinstance(item, np.floating):
                    path = bad(item)
                    if path is not None:
                        return path + [key]
            return None
        if kind is list and value:
            first = type(value[0])
            if (first is str or first is int) and set(map(type, value)) == {first}:  # names, sizes
                return None
            if first is float and len(value) > 8:  # samples, run values: at once
                try:
                    if math.isfinite(sum(value)):  # a NaN or an infinity makes the sum one
                        return None
                    if np.isfinite(np.asarray(value, dtype=np.float64)).all():  # the sum overflowed
                        return None
                except (TypeError, ValueError):  # not all numbers: item by item below
                    pass
            for index, item in enumerate(value):
                path = bad(item)
                if path is not None:
                    return path + [index]
        return None

    def check(value: Any, where: str) -> None:
        path = bad(value)
        if path is not None:
            found: Any = value
            for step in reversed(path):
                found = found[step]
            field = ".".join([where, *map(str, reversed(path))])
            raise ValueError(f"field '{field}' is {found}, which JSON cannot hold")

    for g, group in enumerate(data["groups"]):
        for key, value in group.items():
            if key != "entries":
                check(value, f"groups.{g}.{key}")
        for e, entry in enumerate(group["entries"]):
            for key, value in entry.items():
                if key not in _NAME_LISTS:
                    check(value, f"groups.{g}.entries.{e}.{key}")


# An entry's fields that hold no computed number: its history (see above), and lists of names
# (a run id per run: a million strings in a history's leaderboard).
_NAME_LISTS = frozenset({"history", "runs", "nodeids", "dominated_by"})


def leaderboard_json_schema() -> dict[str, Any]:
    schema = Leaderboard.model_json_schema(by_alias=True)
    # A table's points are checked by formats/history_table.py, one by one; the schema says what it takes.
    schema["$defs"]["HistoryTable"]["properties"]["points"]["items"] = {"anyOf": [
        {"$ref": "#/$defs/HistoryPoint"},
        {"type": "array", "minItems": 1, "prefixItems": [{"type": "string"}],
         "items": {"anyOf": [{"type": "number"}, {"type": "null"}]}}]}
    schema["$id"] = LEADERBOARD_SCHEMA
    schema["title"] = "frontierbench leaderboard"
    return schema
