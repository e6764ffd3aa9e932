"""`frontierbench aggregate RUNS... -o leaderboards/`: run records -> tidy tables -> leaderboards.

The flow, one step per function:

1. `ingest.load_inputs`: validate every input (run records and pytest-benchmark JSON) first, so a
   bad file stops the command before anything is written.
2. `tidy.tidy_frames`: one row per case, i.e. per (board, entry, hardware class, board version, run),
   and one row per (case, metric); the samples of all metric rows lie back to back in one array.
3. `pooling.pool_metrics`: repeated runs of an entry are pooled (vectorised over all entries at once).
   The unit of replication is the (run, process) pair (stats/nested.py):
   - costs (per-round samples), two or more processes or runs: the median of the per-process
     medians, with a Student-t 95% interval over the processes (log scale), scope "between processes";
   - costs, one process: the median of its rounds with the order-statistic interval, scope
     "within one process" and the note that run-to-run variation was not measured;
   - per-item quality: item-wise mean over runs (the same items were scored again, so repeating
     them is not more items), mean with a seeded bootstrap 95% interval;
   - values without samples: one process -> the value; several -> their median and t-interval.
   Each estimate keeps one point value per case (`run_values`) and their spread (`run_spread`).
4. `derived.derive_metrics` (per entry, called by `entries.build_entries`): per-item costs, cost
   of pass, accuracy per watt, full-cycle energy (stats/pareto.py's formulas), marked
   `estimator="derived"`.
5. `groups.build_group`: per (hardware class, board version) only, the Pareto front, dominators,
   hypervolume against the board's reference point, counterfactual fronts, and reliability.

Decisions (see also docs in these modules' functions):
- A case whose board has no board.toml gets an inferred board (formats.inference: quality up,
  time, memory and energy down; no hypervolume); `--strict` makes a missing board.toml an error
  that names the input file and the field.
- An entry whose runs used different energy meters keeps only the runs with the best method
  (measured over estimated over unavailable) for its energy; the others are listed in provenance.
- A group whose entries' energy comes from different methods ("mixed") drops energy-based
  objectives from its frontier, with a note: estimated energy is never ranked against measured.
- Entries lacking a value for a frontier objective are left off the front, with a note.
"""

from __future__ import annotations

from typing import Any
from collections import defaultdict
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from frontierbench.formats.board import BoardDefinition, check_slug
from frontierbench.formats.bulk import Stopwatch, paused_gc
from frontierbench.formats.inference import inferred_board_data
from frontierbench.aggregate.cache import RowsLoader, rows_loader
from frontierbench.aggregate.reuse import GroupKey, previous_reports
from frontierbench.aggregate.assemble import RunInfo, assemble_leaderboards, failures_by_group, group_inputs, reports_of
from frontierbench.aggregate.entries import build_entries
from frontierbench.aggregate.pooling import energy_choice, pool_metrics
from frontierbench.aggregate.incremental import CannotExtend, NothingNew, extend, new_runs
from frontierbench.aggregate.ingest import LoadedRun, load_inputs, recover_journals
from frontierbench.aggregate.kept_state import KeptState, kept_state_lock, load_state, save_state, state_key
from frontierbench.formats.leaderboard import Leaderboard, save_leaderboard
from frontierbench.formats.run import RecordError
from frontierbench.formats.values import describe_problems
from frontierbench.aggregate.tidy import ENTRY_KEYS, Tidy, Warn, default_warn, tidy_frames
from frontierbench.aggregate.tidy import AggregateWarning as AggregateWarning  # raised through `warn`


# --------------------------------------------------------------------------------------------
# The whole pipeline


def aggregate_runs(runs: list[LoadedRun], boards: dict[str, BoardDefinition], *, draws: int = 1000,
                   seed: int = 0, reliability: bool = True, strict: bool = False,
                   warn: Warn = default_warn, timings: dict[str, float] | None = None,
                   previous: dict[GroupKey, Any] | None = None) -> dict[str, Leaderboard]:
    """Leaderboards (by board name) from loaded runs, sorted in time order (see ingest.load_inputs).

    `timings`, when given, receives the seconds spent in each stage (for the benchmark).
    """
    clock = Stopwatch(timings)
    tidy = tidy_frames(runs, boards, warn=warn, strict=strict)
    clock("tidy_frames")
    return aggregate_tidy(tidy, boards, draws=draws, seed=seed, reliability=reliability, timings=timings,
                          previous=previous)


def aggregate_tidy(tidy: Tidy, boards: dict[str, BoardDefinition], *, draws: int = 1000, seed: int = 0,
                   reliability: bool = True, timings: dict[str, float] | None = None,
                   previous: dict[GroupKey, Any] | None = None,
                   release_samples: bool = False, parts: dict[str, Any] | None = None) -> dict[str, Leaderboard]:
    """The vectorised part: tidy frames -> pooled estimates -> entries -> groups -> leaderboards.

    `release_samples`: the caller will not read `tidy.samples` again, so they are let go once pooled
    (a million-row history's are hundreds of megabytes; the estimates keep what they need).
    `parts`, when given, receives what aggregate.kept_state keeps for adding the next run."""
    with paused_gc():  # millions of small acyclic objects: history points, sample lists
        return _aggregate_tidy(tidy, boards, draws=draws, seed=seed, reliability=reliability, timings=timings,
                               previous=previous or {}, release_samples=release_samples, parts=parts)


def _aggregate_tidy(tidy: Tidy, boards: dict[str, BoardDefinition], *, draws: int, seed: int, reliability: bool,
                    timings: dict[str, float] | None, previous: dict[GroupKey, Any],
                    release_samples: bool, parts: dict[str, Any] | None = None) -> dict[str, Leaderboard]:
    clock = Stopwatch(timings)
    cases = tidy.cases
    if cases.empty:
        return {}
    cases["entry_id"] = cases.groupby(ENTRY_KEYS, sort=True, observed=True).ngroup()
    cases["energy_ok"] = energy_choice(cases)
    labels = cases.drop_duplicates("entry_id").sort_values("entry_id")
    tidy.entry_labels = [tuple(str(x) for x in row) for row in labels[ENTRY_KEYS].itertuples(index=False)]
    clock("entry_keys")
    pooled = pool_metrics(tidy, draws=draws, seed=seed, hold_arrays=parts is not None)
    if release_samples:
        tidy.samples = np.zeros(0)  # not a slice: a view would keep the whole array alive
    clock("pool_metrics")
    entries = build_entries(tidy, pooled, boards, parts=parts)
    clock("build_entries")
    groups = group_inputs(tidy)
    runs = [RunInfo.of(run) for run in tidy.runs]
    leaderboards = assemble_leaderboards(groups, entries, boards, runs, draws=draws, seed=seed,
                                         reliability=reliability, previous=previous)
    clock("groups")
    if parts is not None:  # what aggregate.incremental keeps to add the next run to
        parts.update(units=pooled.units, labels=tidy.entry_labels, groups=groups, runs=runs,
                     failures=failures_by_group(tidy), reports=reports_of(leaderboards))
    return leaderboards


def aggregate(inputs: list[str | Path], boards: dict[str, BoardDefinition], *, draws: int = 1000, seed: int = 0,
              default_board: str | None = None, reliability: bool = True, strict: bool = False,
              warn: Warn = default_warn, skip_invalid: bool = False,
              cache: str | Path | None = None, reuse_from: list[str | Path] | None = None) -> dict[str, Leaderboard]:
    """Read and validate every input, then build one Leaderboard per board that has cases.

    `cache`: a folder where each record's tidy rows are kept by sha256 (aggregate.cache), so a
    history is parsed once and each later aggregate reads only its new files. `reuse_from`:
    previous leaderboards whose groups' reliability reports are kept where their inputs did not
    change (aggregate.reuse). (aggregate_into, what the command runs, also extends a kept state.)

    Raises RecordError (naming the file and the field) for any bad input; nothing is written here.
    """
    _check_default_board(default_board)
    loader = rows_loader(cache, set(boards), warn)
    previous = previous_reports(reuse_from, warn) if reuse_from else None
    return _aggregate_in_full(inputs, boards, loader, draws=draws, seed=seed, default_board=default_board,
                              reliability=reliability, strict=strict, warn=warn, skip_invalid=skip_invalid,
                              previous=previous)


def aggregate_into(inputs: list[str | Path], boards: dict[str, BoardDefinition], out_dir: str | Path, *,
                   draws: int = 1000, seed: int = 0, default_board: str | None = None, reliability: bool = True,
                   strict: bool = False, warn: Warn = default_warn, skip_invalid: bool = False,
                   cache: str | Path | None = None, reuse_from: list[str | Path] | None = None,
                   timings: dict[str, float] | None = None) -> list[Path]:
    """`frontierbench aggregate`: aggregate and write the leaderboards to `out_dir`; the paths written.

    With a `cache`, this aggregate's state is kept there too (aggregate.kept_state), and the next
    one, when its only new inputs are runs newer than all kept ones, extends it instead of
    aggregating everything again (aggregate.incremental): the same bytes, in a fraction of the time.
    The leaderboards never leave this function: an extended entry holds its history only as JSON
    text. `timings` receives the seconds of each step of an extension (for the benchmark).

    Raises RecordError for any bad input, and when no board has a passed case; nothing is written then.
    """
    _check_default_board(default_board)
    warnings: list[str] = []
    inputs = recover_journals(list(inputs), warnings)  # once, before either path reads the inputs
    for message in warnings:
        warn(message)
    options: dict[str, Any] = dict(draws=draws, seed=seed, reliability=reliability, strict=strict,
                                   default_board=default_board)
    if cache is None:
        return _written(aggregate(inputs, boards, warn=warn, skip_invalid=skip_invalid, reuse_from=reuse_from,
                                  **options), out_dir, inputs)
    loader = rows_loader(cache, set(boards), warn)
    previous = previous_reports(reuse_from, warn) if reuse_from else None
    key = state_key(boards={name: board.model_dump(mode="json") for name, board in sorted(boards.items())},
                    **options)
    with kept_state_lock(Path(cache)):
        kept = load_state(Path(cache), key)
        unchanged = False
        if kept is not None:
            try:
                # No collection while extending: a history's millions of live objects would be walked
                # again and again for the little cyclic garbage it makes. They are let go inside the
                # pause (when _extend_into returns), so the collection after it walks only what is left.
                with paused_gc():
                    return _extend_into(kept, inputs, boards, out_dir, Path(cache), loader, draws=draws, seed=seed,
                                        default_board=default_board, reliability=reliability, strict=strict,
                                        warn=warn, skip_invalid=skip_invalid, previous=previous, timings=timings)
            except NothingNew:  # the kept state holds exactly these runs: aggregated in full, not kept again,
                unchanged = True  # with its groups' reliability reports (their inputs are the same)
                previous = {**kept.reports, **(previous or {})}
            except CannotExtend:
                pass  # aggregated in full below
            kept = None  # let its memory maps go
        parts: dict[str, Any] | None = None if unchanged else {}
        leaderboards = _aggregate_in_full(inputs, boards, loader, warn=warn, skip_invalid=skip_invalid,
                                          previous=previous, parts=parts, **options)
        written = _written(leaderboards, out_dir, inputs)
        if parts and key is not None:  # (none where a board was inferred: its definition is not in the key)
            _keep(Path(cache), KeptState(key=key, **parts), loader, warn, reused=previous is not None)
        return written


def _extend_into(kept: KeptState, inputs: list[str | Path], boards: dict[str, BoardDefinition], out_dir: str | Path,
                 cache: Path, loader: RowsLoader, *, draws: int, seed: int, default_board: str | None,
                 reliability: bool, strict: bool, warn: Warn, skip_invalid: bool,
                 previous: dict[GroupKey, Any] | None, timings: dict[str, float] | None) -> list[Path]:
    """Extend the kept state by the new runs among `inputs`, write the leaderboards and keep the next
    state. Raises CannotExtend or NothingNew (aggregate.incremental) before anything is written."""
    runs, load_warnings = new_runs(inputs, kept, loader, default_board=default_board,
                                   board_objectives=_objectives(boards), skip_invalid=skip_invalid)
    leaderboards, state = extend(kept, runs, boards, draws=draws, seed=seed, reliability=reliability, warn=warn,
                                 strict=strict, previous=previous, timings=timings)
    for message in load_warnings:
        warn(message)
    written = _written(leaderboards, out_dir, inputs)
    loader.save()
    _keep(cache, state, loader, warn, reused=previous is not None)
    return written


def _aggregate_in_full(inputs: list[str | Path], boards: dict[str, BoardDefinition], loader: RowsLoader, *,
                       draws: int, seed: int, default_board: str | None, reliability: bool, strict: bool, warn: Warn,
                       skip_invalid: bool, previous: dict[GroupKey, Any] | None,
                       parts: dict[str, Any] | None = None) -> dict[str, Leaderboard]:
    runs: list[LoadedRun] = []
    try:
        with paused_gc():
            runs, load_warnings = load_inputs(inputs, default_board=default_board, board_objectives=_objectives(boards),
                                              skip_invalid=skip_invalid, load=loader)
        loader.save()
        for message in load_warnings:
            warn(message)
        defined = boards
        boards = with_inferred_boards(runs, boards, strict=strict, warn=warn)
        tidy = tidy_frames(runs, boards, warn=warn, strict=strict)
        for run in runs:  # its rows now live in the tidy frames; this also closes the cache files' memory maps
            run.rows = None
        return aggregate_tidy(tidy, boards, draws=draws, seed=seed, reliability=reliability, previous=previous,
                              release_samples=True, parts=parts if boards == defined else None)
    except ValidationError as exc:
        # Every input value is finite and bounded, but a product or quotient of them (a hypervolume,
        # energy per correct answer) can still overflow: say so, naming the inputs.
        names = ", ".join(run.path for run in runs[:3]) + (f" and {len(runs) - 3} more" if len(runs) > 3 else "")
        where, message = describe_problems(exc.errors())[0]
        raise RecordError(f"{names}: aggregating gives a {exc.title} whose field '{where}' is refused ({message}): "
                          f"the inputs' values, or a board.toml reference_point, are too large or too small "
                          f"to compute with") from None


def _check_default_board(default_board: str | None) -> None:
    if default_board is not None:
        try:
            check_slug(default_board)
        except ValueError as exc:
            raise RecordError(f"--default-board: {exc}") from None


def _objectives(boards: dict[str, BoardDefinition]) -> dict[str, dict[str, bool]]:
    return {name: {o.metric: o.direction == "max" for o in board.objectives} for name, board in boards.items()}


def _written(leaderboards: dict[str, Leaderboard], out_dir: str | Path, inputs: list[str | Path]) -> list[Path]:
    if not leaderboards:
        raise RecordError(f"{', '.join(map(str, inputs))}: no passed case with a board and a metric to rank on; "
                          f"nothing written")
    return write_leaderboards(leaderboards, out_dir)


def _keep(directory: Path, state: KeptState, loader: RowsLoader, warn: Warn, *, reused: bool) -> None:
    if not loader.writable:  # a cache that cannot be written was said once
        return
    if reused:  # reports taken from --reuse-reliability files are not carried into later aggregates
        state.reports = {}
    try:
        save_state(directory, state)
    except (OSError, TypeError, ValueError) as exc:  # the leaderboards are written; the next one is slower
        reason = getattr(exc, "strerror", None) or exc
        warn(f"--cache {directory}: cannot keep this aggregate's state there ({reason}); the next aggregate "
             f"computes everything again")


def with_inferred_boards(runs: list[LoadedRun], boards: dict[str, BoardDefinition], *, strict: bool = False,
                         warn: Warn = default_warn) -> dict[str, BoardDefinition]:
    """`boards` plus an inferred definition for every board the cases name that has no board.toml.

    With `strict`, such a board is an error naming the first input file and case that use it.
    """
    cases_by_board: dict[str, list] = defaultdict(list)
    first_use: dict[str, str] = {}
    for run in runs:
        for index, case in enumerate(run.record.cases):
            if case.board is None or case.board in boards:
                continue
            try:
                check_slug(case.board)
            except ValueError as exc:
                raise RecordError(f"{run.path}: field 'cases.{index}.board': {exc}") from None
            cases_by_board[case.board].append(case)
            first_use.setdefault(case.board, f"{run.path}: field 'cases.{index}.board'")
    if strict and first_use:
        name = sorted(first_use)[0]
        raise RecordError(f"{first_use[name]}: board {name!r} has no board.toml in the boards directory "
                          f"(--boards, else leaderboards/); --strict refuses to infer one")
    found = dict(boards)
    for name, cases in sorted(cases_by_board.items()):
        data = inferred_board_data(name, cases)
        if data is None:
            warn(f"{first_use[name]}: board {name!r} has no board.toml and no passed case with a metric "
                 f"to rank on; skipped")
            continue
        found[name] = BoardDefinition.model_validate(data)
        objectives = ", ".join(f"{o.metric} ({o.direction})" for o in found[name].objectives)
        warn(f"board {name!r} has no board.toml; inferred objectives {objectives}, primary "
             f"{found[name].primary} (`frontierbench board init {name}` writes one to edit)")
    return found


def leaderboard_path(out_dir: str | Path, board: str) -> Path:
    return Path(out_dir) / check_slug(board) / "leaderboard.json"


def write_leaderboards(leaderboards: dict[str, Leaderboard], out_dir: str | Path) -> list[Path]:
    """Write each leaderboard atomically; paths are checked before the first write."""
    targets = [(leaderboard_path(out_dir, name), board) for name, board in sorted(leaderboards.items())]
    written = []
    for path, board in targets:
        try:
            written.append(save_leaderboard(board, path))
        except ValueError as exc:  # json refuses NaN and infinity: nothing half-written is left
            raise RecordError(f"{path}: not written: {exc}") from None
    return written
