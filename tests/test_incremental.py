"""Adding a run to a history with `aggregate --cache`: the kept state is extended instead of
recomputed (aggregate.incremental), and the leaderboards are the same bytes as a full aggregate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import frontierbench.aggregate.pipeline as pipeline
from factories import board_definition, case, replicated_runs, run_record, write_board
from frontierbench.aggregate import aggregate, aggregate_into, write_leaderboards
from frontierbench.aggregate.kept_state import state_paths
from frontierbench.formats import samples_sidecar
from frontierbench.formats.board import load_boards
from frontierbench.formats.run import save_run


@pytest.fixture
def extended(monkeypatch):
    """Counts the aggregates that extended a kept state."""
    calls = []
    real = pipeline.extend

    def spy(*args, **kwargs):
        result = real(*args, **kwargs)  # raises CannotExtend where it cannot
        calls.append(len(args[1]))
        return result

    monkeypatch.setattr(pipeline, "extend", spy)
    return calls


def day(d: int) -> str:
    return f"2024-03-{d:02d}T00:00:00+00:00"


def varied_runs(n: int) -> list:
    """Runs with what a history holds: worker processes, item scores, energy, a failed case, an
    entry that joins late and one that misses a run, a family given only sometimes."""
    rng = np.random.default_rng(3)
    records = []
    for r in range(n):
        cases = []
        for p in range(2):
            for name, scale in (("a", 0.01), ("b", 0.02), ("late", 0.03), ("gappy", 0.04)):
                if (name == "late" and r < 2) or (name == "gappy" and r == 3):
                    continue
                made = case(name, family="fam" if r % 2 == 0 else None, items=4,
                            wall_time=scale * rng.lognormal(0, 0.05, 5), accuracy=[1.0, 0.0, 1.0, float(r % 2)],
                            energy=float(rng.uniform(1, 2)), params={"size": r})
                made.process = p
                cases.append(made)
        cases.append(case("broken", outcome="failed", error="boom"))
        records.append(run_record(cases, run_id=f"run-{r}", started_at=day(r + 1)))
    return records


def full_and_kept(tmp_path: Path, files: list[Path], boards: dict) -> tuple[bytes, bytes]:
    """What the leaderboard of `files` writes (with its samples sidecar, if any), through the cache's
    kept state (what `frontierbench aggregate --cache` does), and aggregated in full."""
    aggregate_into(files, boards, tmp_path / "kept", draws=200, cache=tmp_path / "cache", warn=lambda message: None)
    write_leaderboards(aggregate(files, boards, draws=200, warn=lambda message: None), tmp_path / "full")
    return tuple(b"".join(path.read_bytes() for path in sorted((tmp_path / name / "toy").iterdir()))
                 for name in ("kept", "full"))


@pytest.mark.parametrize("sidecar", [False, True], ids=["samples inline", "samples in a sidecar"])
def test_adding_runs_one_by_one_gives_the_full_aggregates_bytes(tmp_path, extended, monkeypatch, sidecar):
    if sidecar:  # the kept path then holds the rounds as arrays (formats/float_array.py), never listed
        monkeypatch.setattr(samples_sidecar, "SIDECAR_MIN_SAMPLES", 20)
    write_board(tmp_path / "boards", board_definition("toy"))
    boards = load_boards(tmp_path / "boards")
    files = [save_run(record, tmp_path / "runs" / f"{record.run_id}.json") for record in varied_runs(6)]
    for n in range(2, 7):
        kept, full = full_and_kept(tmp_path, files[:n], boards)
        assert kept == full, f"after {n} runs"
        assert (b'"samples_sidecar"' in kept) == sidecar
    assert extended == [1, 1, 1, 1]  # the first aggregate kept the state; each later one extended it
    assert state_paths(tmp_path / "cache")["json"].exists()
    assert len(list((tmp_path / "cache").glob("kept.history.*"))) == 1


def test_several_new_runs_and_replicated_processes(tmp_path, extended):
    write_board(tmp_path / "boards", board_definition("toy"))
    boards = load_boards(tmp_path / "boards")
    records = replicated_runs({"x": 0.01, "y": 0.02}, seed=4, runs=7, processes=3)
    files = [save_run(record, tmp_path / "runs" / f"{i}.json") for i, record in enumerate(records)]
    assert full_and_kept(tmp_path, files[:3], boards)[0] == full_and_kept(tmp_path, files[:3], boards)[1]
    kept, full = full_and_kept(tmp_path, files, boards)
    assert kept == full
    assert extended == [4]


def test_what_cannot_be_appended_is_aggregated_in_full(tmp_path, extended):
    write_board(tmp_path / "boards", board_definition("toy"))
    boards = load_boards(tmp_path / "boards")
    runs = tmp_path / "runs"
    files = [save_run(record, runs / f"{record.run_id}.json") for record in varied_runs(4)]
    full_and_kept(tmp_path, files, boards)
    # A run older than the newest kept one belongs in the middle of every history.
    older = save_run(run_record([case("a", wall_time=[0.01, 0.011, 0.012], energy=1.0)], run_id="old",
                                started_at="2023-01-01T00:00:00+00:00"), runs / "old.json")
    # An entry whose energy now comes from another meter changes which of its runs are pooled.
    other_meter = save_run(run_record([case("a", wall_time=[0.01, 0.011], energy=1.0, energy_method="estimated")],
                                      run_id="meter", started_at=day(20)), runs / "meter.json")
    for extra in (older, other_meter):
        kept, full = full_and_kept(tmp_path, files + [extra], boards)
        assert kept == full
    assert extended == []


def test_the_kept_state_belongs_to_its_options(tmp_path, extended):
    write_board(tmp_path / "boards", board_definition("toy"))
    boards = load_boards(tmp_path / "boards")
    files = [save_run(record, tmp_path / "runs" / f"{record.run_id}.json") for record in varied_runs(3)]
    aggregate_into(files[:2], boards, tmp_path / "a", draws=200, cache=tmp_path / "cache", warn=lambda m: None)
    aggregate_into(files, boards, tmp_path / "b", draws=300, cache=tmp_path / "cache", warn=lambda m: None)
    assert extended == []  # kept with 200 draws: not extended with 300
    aggregate_into(files, boards, tmp_path / "c", draws=300, warn=lambda m: None)
    assert (tmp_path / "b" / "toy" / "leaderboard.json").read_bytes() == \
        (tmp_path / "c" / "toy" / "leaderboard.json").read_bytes()


def test_a_damaged_state_is_not_used(tmp_path, extended):
    write_board(tmp_path / "boards", board_definition("toy"))
    boards = load_boards(tmp_path / "boards")
    files = [save_run(record, tmp_path / "runs" / f"{record.run_id}.json") for record in varied_runs(3)]
    aggregate_into(files[:2], boards, tmp_path / "a", draws=200, cache=tmp_path / "cache", warn=lambda m: None)
    [log] = (tmp_path / "cache").glob("kept.history.*")  # every entry's history, appended run by run
    log.write_bytes(log.read_bytes()[:-10])
    kept, full = full_and_kept(tmp_path, files, boards)
    assert kept == full
    assert extended == []


def test_the_history_log_is_written_afresh_when_entries_have_many_pieces(tmp_path, extended, monkeypatch):
    import frontierbench.aggregate.history_log as history_log

    monkeypatch.setattr(history_log, "MAX_CHUNKS", 2)  # every second run: a fresh log, the old one removed
    write_board(tmp_path / "boards", board_definition("toy"))
    boards = load_boards(tmp_path / "boards")
    files = [save_run(record, tmp_path / "runs" / f"{record.run_id}.json") for record in varied_runs(5)]
    names = []
    for n in range(1, 6):
        kept, full = full_and_kept(tmp_path, files[:n], boards)
        assert kept == full, f"after {n} runs"
        [log] = (tmp_path / "cache").glob("kept.history.*")
        names.append(log.name)
    assert extended == [1, 1, 1, 1]
    assert len(set(names)) >= 2  # compacted at least once, and only one log left each time


def test_runs_that_score_different_numbers_of_items(tmp_path):
    write_board(tmp_path / "boards", board_definition("toy"))
    boards = load_boards(tmp_path / "boards")
    scores = [[1.0, 0.0], [1.0, 1.0], [0.0, 1.0, 1.0], [1.0], [1.0, 0.0, 0.0, 1.0]]
    files = [save_run(run_record([case("a", wall_time=[0.01, 0.012, 0.011], accuracy=items, energy=1.0)],
                                 run_id=f"r{i}", started_at=day(i + 1)), tmp_path / "runs" / f"r{i}.json")
             for i, items in enumerate(scores)]
    for n in range(1, 6):
        kept, full = full_and_kept(tmp_path, files[:n], boards)
        assert kept == full, f"after {n} runs"


def test_failed_cases_are_kept_and_a_run_with_none_passed_is_aggregated_in_full(tmp_path, extended):
    write_board(tmp_path / "boards", board_definition("toy"))
    boards = load_boards(tmp_path / "boards")
    runs = tmp_path / "runs"
    first = save_run(run_record([case("a", wall_time=[0.01, 0.011, 0.012], accuracy=[1.0, 0.0], energy=1.0)],
                                run_id="r1", started_at=day(1)), runs / "r1.json")
    # The new run's case in the kept group failed; its other case is in another hardware class.
    second = save_run(run_record([case("a", outcome="failed", error="boom"),
                                  case("a", hardware_class="other-hw", wall_time=[0.01, 0.02, 0.03], energy=1.0)],
                                 run_id="r2", started_at=day(2)), runs / "r2.json")
    nothing_passed = save_run(run_record([case("a", outcome="failed", error="bang")], run_id="r3",
                                         started_at=day(3)), runs / "r3.json")
    full_and_kept(tmp_path, [first], boards)
    kept, full = full_and_kept(tmp_path, [first, second], boards)
    assert kept == full and b"entry 'a' failed in run r2: boom" in kept
    kept, full = full_and_kept(tmp_path, [first, second, nothing_passed], boards)
    assert kept == full and b"failed in run r3: bang" in kept
    assert extended == [1]  # the run with no passed case was aggregated in full


def test_a_damaged_history_log_is_not_used(tmp_path, extended):
    write_board(tmp_path / "boards", board_definition("toy"))
    boards = load_boards(tmp_path / "boards")
    files = [save_run(record, tmp_path / "runs" / f"{record.run_id}.json") for record in varied_runs(3)]
    full_and_kept(tmp_path, files[:2], boards)
    [log] = (tmp_path / "cache").glob("kept.history.*")
    text = log.read_bytes()
    damaged = bytearray(text)  # one digit of a value, the same length: its CRC-32 differs
    digit = text.rindex(b".") + 1
    damaged[digit] = ord("9") if damaged[digit] != ord("9") else ord("8")
    log.write_bytes(bytes(damaged))
    kept, full = full_and_kept(tmp_path, files, boards)
    assert kept == full
    assert extended == []


def test_a_journal_given_by_name_is_recovered_once(tmp_path):
    from frontierbench.formats.journal import JournalWriter

    write_board(tmp_path / "boards", board_definition("toy"))
    boards = load_boards(tmp_path / "boards")
    first = save_run(run_record([case("a", wall_time=[0.01, 0.011, 0.012], energy=1.0)], run_id="r1",
                                started_at=day(5)), tmp_path / "runs" / "r1.json")
    aggregate_into([first], boards, tmp_path / "out", draws=200, cache=tmp_path / "cache", warn=lambda m: None)
    # A run that died before the kept one started: recovered from its journal, then (older than
    # the kept run) aggregated in full, which must find the recovered record, not the journal.
    died = run_record([case("a", wall_time=[0.02, 0.021, 0.022], energy=1.0)], run_id="died", started_at=day(1))
    header = {k: v for k, v in died.model_dump(mode="json", by_alias=True).items()
              if k not in ("cases", "schema", "finished_at", "status")}
    journal = JournalWriter.create(tmp_path / "journals" / "died.journal.jsonl", header)
    journal.append({"case": died.cases[0].model_dump(mode="json", by_alias=True, exclude_none=True)})
    journal.close()
    said: list[str] = []
    aggregate_into([first, tmp_path / "journals" / "died.journal.jsonl"], boards, tmp_path / "out", draws=200,
                   cache=tmp_path / "cache", warn=said.append)
    assert sum("recovered as" in message for message in said) == 1
    assert b'"run_id":"died"' in (tmp_path / "out" / "toy" / "leaderboard.json").read_bytes()


def test_aggregating_the_same_runs_again_keeps_the_state_as_it_is(tmp_path, extended):
    write_board(tmp_path / "boards", board_definition("toy"))
    boards = load_boards(tmp_path / "boards")
    files = [save_run(record, tmp_path / "runs" / f"{record.run_id}.json") for record in varied_runs(3)]
    full_and_kept(tmp_path, files, boards)
    kept_json = state_paths(tmp_path / "cache")["json"].read_bytes()
    kept, full = full_and_kept(tmp_path, files, boards)  # nothing new: aggregated in full
    assert kept == full
    assert state_paths(tmp_path / "cache")["json"].read_bytes() == kept_json  # not written again
    kept, full = full_and_kept(tmp_path, files + [save_run(varied_runs(4)[3], tmp_path / "runs" / "run-3.json")],
                               boards)
    assert kept == full
    assert extended == [1]
