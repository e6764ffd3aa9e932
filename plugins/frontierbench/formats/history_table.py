"""An entry's history as a leaderboard writes it (schema 2): a table, not a list of objects.

A history's leaderboard holds a million points. As objects, each repeats its run's id, start time
and 40-character commit, its board version and every metric's name: about 200 bytes a point, four
fifths of a 280 MB file written again for every run added. Most of that is already in the
leaderboard: the run's start time and commit are in `inputs`, the board version is the group's.

So a point is written as a row, `[run_id, value of each metric]`, under the entry's `metrics`,
when it says nothing else: its run is one of the leaderboard's inputs (first listed, for a run id
given twice) with that start time and commit, its board version is its group's, it has no other
field, and it has a value (or null) for exactly those metrics. Any other point is written whole, as
the object it is (schema 1's form), in its place among the rows. Reading a table back gives the
same list of points, so readers see `history` as before; an empty history stays `[]`.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Mapping

from pydantic import ValidationError

from frontierbench.formats.leaderboard import HistoryPoint, HistoryTable
from frontierbench.formats.values import LARGEST, describe_problems

RunFacts = Mapping[str, tuple[str, "str | None"]]  # run id -> (started_at, git_commit)

_FIELDS = tuple(HistoryPoint.model_fields)


class _EveryField(frozenset):
    """The fields set of every point made here: all of them, in one set shared by a million points
    (a set each was 200 MB). Assigning a field adds nothing new, so it works; a new extra field
    would have to change the shared set, and is refused."""

    def add(self, name: str) -> None:
        if name not in self:
            raise TypeError(f"a history point read from a table takes no new field ({name!r})")

    def update(self, names: Iterable[str]) -> None:  # what model_copy(update=...) calls
        for name in names:
            self.add(name)


_SET_FIELDS = _EveryField(HistoryPoint.model_fields)


def run_facts(runs: Iterable[tuple[str, str, str | None]]) -> dict[str, tuple[str, str | None]]:
    """Run id -> (started_at, git_commit), from (run_id, started_at, git_commit) of the leaderboard's
    inputs in their order: the first listed where a run id is given twice."""
    facts: dict[str, tuple[str, str | None]] = {}
    for run_id, started_at, git_commit in runs:
        facts.setdefault(run_id, (started_at, git_commit))
    return facts


def input_facts(inputs: Iterable[Any]) -> dict[str, tuple[str, str | None]]:
    """run_facts of a leaderboard's `inputs` (InputRun models)."""
    return run_facts((run.run_id, run.started_at, run.git_commit) for run in inputs)


def table_metrics(history: list[HistoryPoint]) -> list[str]:
    """The metrics of an entry's table: every metric its points have a value (or null) for, sorted."""
    names: set[str] = set()
    for point in history:
        names.update(point.values)
    return sorted(names)


def point_json(point: HistoryPoint) -> dict[str, Any]:
    """A point written whole. Its fields are plain JSON already (strings, a dict of floats or None):
    what model_dump gives, as tests/test_samples_sidecar.py checks against it."""
    fields = point.__dict__
    data = {name: fields[name] for name in _FIELDS}
    extra = point.__pydantic_extra__
    return {**data, **extra} if extra else data


def table_points(history: list[HistoryPoint], runs: RunFacts, board_version: str,
                 metrics: list[str]) -> list[Any]:
    """Each point as the table holds it: a row where it says nothing else, else the whole point."""
    out: list[Any] = []
    names = set(metrics)
    for point in history:
        fields = point.__dict__
        run = runs.get(fields["run_id"])
        values = fields["values"]
        if (run is not None and run[0] == fields["started_at"] and run[1] == fields["git_commit"]
                and fields["board_version"] == board_version and not point.__pydantic_extra__
                and len(values) == len(names) and names.issuperset(values)):
            out.append([fields["run_id"], *[values[name] for name in metrics]])
        else:
            out.append(point_json(point))
    return out


def history_value(history: list[HistoryPoint], runs: RunFacts, board_version: str,
                  metrics: list[str] | None = None) -> list[Any] | dict[str, Any]:
    """An entry's history as the JSON value a leaderboard holds: a table, or [] for no point."""
    if not history:
        return []
    metrics = table_metrics(history) if metrics is None else metrics
    return {"metrics": metrics, "points": table_points(history, runs, board_version, metrics)}


def history_text(history: list[HistoryPoint], runs: RunFacts, board_version: str,
                 metrics: list[str] | None = None) -> bytes:
    """An entry's history as the JSON text save_leaderboard writes for it (sorted keys, compact)."""
    import orjson

    return orjson.dumps(history_value(history, runs, board_version, metrics), option=orjson.OPT_SORT_KEYS)


def points_text(history: list[HistoryPoint], runs: RunFacts, board_version: str, metrics: list[str]) -> bytes:
    """The text of these points as they lie, comma-separated, inside a table with `metrics`: what
    aggregate.incremental appends to a kept history."""
    import orjson

    return orjson.dumps(table_points(history, runs, board_version, metrics), option=orjson.OPT_SORT_KEYS)[1:-1]


def expanded(table: HistoryTable, runs: RunFacts, board_version: str, where: str) -> list[HistoryPoint]:
    """The points of a table read back. Raises ValueError naming the field of a row that is not
    [a run id among the inputs, then one number or null per metric]."""
    if table.metrics != sorted(set(table.metrics)):  # a name twice would move values to other metrics
        raise ValueError(f"field '{where}.metrics': must be metric names, sorted, each once, got "
                         f"{table.metrics!r:.200}")
    width = len(table.metrics) + 1
    out: list[HistoryPoint] = []
    for i, row in enumerate(table.points):
        if type(row) is list and len(row) == width and type(row[0]) is str and all(map(_is_value, row[1:])):
            run = runs.get(row[0])
            if run is None:
                raise ValueError(f"field '{where}.points.{i}': its run id is not one of the leaderboard's inputs, "
                                 f"got {row!r:.200}")
            values = dict(zip(table.metrics, [float(v) if type(v) is int else v for v in row[1:]]))
            out.append(history_point(row[0], run[0], run[1], board_version, values))
        elif isinstance(row, dict):
            try:
                out.append(HistoryPoint.model_validate(row))
            except ValidationError as exc:
                field, problem = describe_problems(exc.errors())[0]
                raise ValueError(f"field '{where}.points.{i}.{field}': {problem}") from None
        else:
            raise ValueError(f"field '{where}.points.{i}': a row must be [run id, then a finite number or null "
                             f"for each of {table.metrics}], or a whole point, got {row!r:.200}")
    return out


def _is_value(value: Any) -> bool:
    """A row's value: a finite number within the bound every number has (formats/values.py), or null."""
    kind = type(value)
    return value is None or ((kind is float or kind is int) and math.isfinite(value) and abs(value) <= LARGEST)


def _history_point_fast(run_id: str, started_at: str, git_commit: str | None, board_version: str,
                        values: dict[str, float | None]) -> HistoryPoint:
    # What model_construct does, without its per-field default handling (40x faster). The inputs
    # are already typed correctly; `_check_history_point` proves the result equals validation's.
    point = HistoryPoint.__new__(HistoryPoint)
    object.__setattr__(point, "__dict__", {"run_id": run_id, "started_at": started_at, "git_commit": git_commit,
                                           "board_version": board_version, "values": values,
                                           "__pydantic_extra__": {}})
    object.__setattr__(point, "__pydantic_fields_set__", _SET_FIELDS)
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


# A point from fields that are already valid (a validated row, or a run's own record).
history_point = _check_history_point()
