"""A journal per run: a process that dies mid-run loses none of the cases that had finished.

Each death is real: the inner pytest runs in its own interpreter and the case kills it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from factories import board_definition, write_board
from frontierbench import cli
from frontierbench.formats.board import Objective
from frontierbench.formats.journal import JOURNAL_SUFFIX, read_journal
from frontierbench.formats.run import load_run

DEATHS = {
    "sigkill": "os.kill(os.getpid(), signal.SIGKILL)  # what the OOM killer sends",
    "sigsegv": "ctypes.string_at(0)  # a segfault in native code",
    "os_exit": "os._exit(3)",
}

THREE_CASES_SECOND_DIES = """
import ctypes, os, signal

import pytest


@pytest.mark.frontier(board="faults")
def test_first(frontier):
    frontier.measure(sum, range(100), rounds=3)


@pytest.mark.frontier(board="faults")
def test_dies(frontier):
    frontier.measure(sum, range(100), rounds=3)
    {death}


@pytest.mark.frontier(board="faults")
def test_never_reached(frontier):
    frontier.measure(sum, range(100), rounds=3)
"""


def run_pytest(pytester, out_dir, *args: str) -> subprocess.CompletedProcess:
    """pytest in a fresh interpreter, as a CI job would run it."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--frontier-out={out_dir}", *args]
    return subprocess.run(command, cwd=pytester.path, capture_output=True, text=True, timeout=300)


def records_in(out_dir) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(out_dir.glob("*.json"))]


def by_test(record: dict) -> dict[str, dict]:
    return {case["nodeid"].split("::")[-1]: case for case in record["cases"]}


@pytest.mark.parametrize("death", sorted(DEATHS))
def test_a_process_that_dies_leaves_a_journal_that_recover_turns_into_a_crashed_record(pytester, death, capsys):
    pytester.makepyfile(test_deaths=THREE_CASES_SECOND_DIES.replace("{death}", DEATHS[death]))
    out_dir = pytester.path / "runs"
    died = run_pytest(pytester, out_dir)
    assert died.returncode != 0
    assert records_in(out_dir) == []  # the process died before writing its record...
    journals = list(out_dir.glob(f"*{JOURNAL_SUFFIX}"))
    assert len(journals) == 1  # ...but the journal holds what had finished
    assert [case["nodeid"] for case in read_journal(journals[0]).cases] == ["test_deaths.py::test_first"]

    assert cli.main(["recover", str(out_dir)]) == 0
    assert "died during test_deaths.py::test_dies" in capsys.readouterr().out
    assert not list(out_dir.glob(f"*{JOURNAL_SUFFIX}"))
    [path] = out_dir.glob("*.json")
    record = load_run(path)  # a valid record
    assert record.status == "crashed"
    cases = by_test(record.to_json_dict())
    assert set(cases) == {"test_first", "test_dies"}
    assert cases["test_first"]["outcome"] == "passed"
    assert cases["test_first"]["metrics"]["wall_time"]["samples"]  # the measurement is kept whole
    assert cases["test_first"]["metrics"]["energy"]["provenance"]["method"] in ("rapl", "estimated")
    assert cases["test_dies"]["outcome"] == "failed"
    assert cases["test_dies"]["error"] == "the process died during this case"
    assert cases["test_dies"]["cut_short"] is True


def test_the_next_session_in_the_folder_recovers_a_dead_runs_journal(pytester):
    pytester.makepyfile(test_deaths=THREE_CASES_SECOND_DIES.replace("{death}", DEATHS["sigkill"]))
    out_dir = pytester.path / "runs"
    run_pytest(pytester, out_dir)
    pytester.makepyfile(test_later="""
import pytest

@pytest.mark.frontier(board="faults")
def test_later(frontier):
    frontier.measure(sum, range(10), rounds=3)
""")
    later = run_pytest(pytester, out_dir, "test_later.py")
    assert later.returncode == 0, later.stdout
    assert "recovered the journal of a run that died" in later.stdout
    statuses = sorted((record["status"], len(record["cases"])) for record in records_in(out_dir))
    assert statuses == [("complete", 1), ("crashed", 2)]
    assert not list(out_dir.glob(f"*{JOURNAL_SUFFIX}"))


def test_aggregate_recovers_a_journal_it_meets_among_its_inputs(pytester, tmp_path):
    pytester.makepyfile(test_deaths=THREE_CASES_SECOND_DIES.replace("{death}", DEATHS["os_exit"]))
    out_dir = pytester.path / "runs"
    run_pytest(pytester, out_dir)
    boards = tmp_path / "boards"
    write_board(boards, board_definition("faults", objectives=[
        Objective(metric="wall_time", direction="min"), Objective(metric="peak_memory", direction="min")]))
    status = cli.main(["aggregate", str(out_dir), "-o", str(tmp_path / "lb"), "--boards", str(boards),
                       "--draws", "20", "--no-reliability"])
    assert status == 0
    [record] = records_in(out_dir)
    assert record["status"] == "crashed"
    leaderboard = json.loads((tmp_path / "lb" / "faults" / "leaderboard.json").read_text())
    assert "test_first" in json.dumps(leaderboard)


def test_sigterm_is_handled_like_ctrl_c(pytester):
    pytester.makepyfile(test_deaths=THREE_CASES_SECOND_DIES.replace(
        "{death}", "os.kill(os.getpid(), signal.SIGTERM)  # CI cancellation, Slurm, Kubernetes"))
    out_dir = pytester.path / "runs"
    ended = run_pytest(pytester, out_dir)
    assert ended.returncode == pytest.ExitCode.INTERRUPTED
    [record] = records_in(out_dir)
    assert record["status"] == "interrupted" and record["config"]["interrupted_by"] == "SIGTERM"
    cases = by_test(record)
    assert cases["test_first"]["outcome"] == "passed"
    assert cases["test_dies"]["outcome"] == "failed"
    assert "interrupted (SIGTERM)" in cases["test_dies"]["error"]
    assert "test_never_reached" not in cases
    assert not list(out_dir.glob(f"*{JOURNAL_SUFFIX}"))


def test_pytest_exit_keeps_its_reason(pytester):
    pytester.makepyfile(test_exit="""
import pytest

@pytest.mark.frontier(board="faults")
def test_first(frontier):
    frontier.measure(sum, range(10), rounds=3)

@pytest.mark.frontier(board="faults")
def test_gives_up(frontier):
    pytest.exit("the GPU fell off the bus")
""")
    out_dir = pytester.path / "runs"
    run_pytest(pytester, out_dir)
    [record] = records_in(out_dir)
    assert record["status"] == "interrupted"
    assert record["config"]["interrupted_by"] == "pytest.exit: the GPU fell off the bus"
    assert "the GPU fell off the bus" in by_test(record)["test_gives_up"]["error"]


def test_resume_continues_the_crashed_run_without_rerunning_the_case_that_killed_it(pytester):
    pytester.makepyfile(test_deaths=THREE_CASES_SECOND_DIES.replace("{death}", DEATHS["sigkill"]))
    out_dir = pytester.path / "runs"
    run_pytest(pytester, out_dir)
    resumed = run_pytest(pytester, out_dir, "--frontier-resume", "-rA")
    assert resumed.returncode == 0, resumed.stdout
    assert "resuming run" in resumed.stdout
    assert "PASSED test_deaths.py::test_never_reached" in resumed.stdout
    assert "test_deaths.py::test_first" not in resumed.stdout.split("short test summary")[-1]
    [record] = records_in(out_dir)  # the same run, rewritten with every case
    assert record["status"] == "complete"
    cases = by_test(record)
    assert set(cases) == {"test_first", "test_dies", "test_never_reached"}
    assert cases["test_dies"]["error"] == "the process died during this case"
    assert record["config"]["resumed"][0]["status"] == "crashed"


WORKERS_SUITE = """
import ctypes

import pytest


@pytest.mark.frontier(board="faults")
def test_first(frontier):
    frontier.measure(sum, range(100), rounds=3)


@pytest.mark.frontier(board="faults")
def test_segfaults(frontier):
    frontier.measure(sum, range(100), rounds=3)
    ctypes.string_at(0)


@pytest.mark.frontier(board="faults")
def test_after(frontier):
    frontier.measure(sum, range(100), rounds=3)


def test_plain():
    assert True
"""


def test_worker_processes_record_a_segfault_as_failed_with_the_signal_and_go_on(pytester):
    pytester.makepyfile(test_workers=WORKERS_SUITE)
    out_dir = pytester.path / "runs"
    ended = run_pytest(pytester, out_dir, "--frontier-processes=2", "-rA")
    assert ended.returncode == pytest.ExitCode.TESTS_FAILED, ended.stdout
    assert "1 failed, 3 passed" in ended.stdout.splitlines()[-1]  # test_plain ran in the supervisor
    [record] = records_in(out_dir)
    assert record["status"] == "complete" and record["config"]["processes"] == 2
    runs = {}
    for case in record["cases"]:
        runs.setdefault(case["nodeid"].split("::")[-1], []).append(case)
    assert set(runs) == {"test_first", "test_segfaults", "test_after"}  # test_plain is not metered
    for name in ("test_first", "test_after"):  # the cases after the crash ran, in both passes
        assert sorted(case["process"] for case in runs[name]) == [0, 1]
        assert all(case["outcome"] == "passed" and case["metrics"]["wall_time"]["samples"] for case in runs[name])
    assert sorted(case["process"] for case in runs["test_segfaults"]) == [0, 1]
    for case in runs["test_segfaults"]:
        assert case["outcome"] == "failed"
        assert case["error"] == "the worker process died during this case (SIGSEGV)"
    assert "SIGSEGV" in ended.stdout


def test_resume_after_sigterm_runs_again_the_case_that_was_cut_short(pytester):
    pytester.makepyfile(test_deaths=THREE_CASES_SECOND_DIES.replace(
        "{death}", "if os.environ.get('STOP'): os.kill(os.getpid(), signal.SIGTERM)"))
    out_dir = pytester.path / "runs"
    stopped = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                              f"--frontier-out={out_dir}"], cwd=pytester.path, capture_output=True, text=True,
                             env={**os.environ, "STOP": "1"}, timeout=300)
    assert stopped.returncode == pytest.ExitCode.INTERRUPTED
    [interrupted] = records_in(out_dir)
    resumed = run_pytest(pytester, out_dir, "--frontier-resume")
    assert resumed.returncode == 0, resumed.stdout
    [record] = records_in(out_dir)
    assert record["run_id"] == interrupted["run_id"] and record["status"] == "complete"
    cases = by_test(record)
    assert {name: case["outcome"] for name, case in cases.items()} == {
        "test_first": "passed", "test_dies": "passed", "test_never_reached": "passed"}
    assert cases["test_first"] == by_test(interrupted)["test_first"]  # kept as measured, not re-run
