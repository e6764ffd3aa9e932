"""No traceback from the CLI, on any input: every damaged file is a clear error naming it.

The table of damaged inputs is in tests/bad_inputs.py (run it as a script for the matrix).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bad_inputs import Row, is_clear_error, make_workspace, rows, run_row

COMMANDS = ("aggregate", "check", "compare", "report", "site")


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> list[Row]:
    return rows(make_workspace(tmp_path_factory.mktemp("bad-inputs")))


@pytest.mark.parametrize("command", COMMANDS)
def test_every_bad_input_is_a_clear_error_naming_the_file(table, command):
    mine = [row for row in table if row.command == command and not row.may_succeed]
    assert len(mine) >= 25
    unclear = []
    for row in mine:
        outcome = run_row(row)
        if not is_clear_error(row, outcome):
            unclear.append(f"{row.damage}: exit {outcome.code}, {outcome.traceback or outcome.stderr!r}")
    assert not unclear, "\n".join(unclear)


@pytest.mark.parametrize("command", COMMANDS)
def test_numbers_at_the_edges_work_or_are_refused_clearly(table, command):
    mine = [row for row in table if row.command == command and row.may_succeed]
    assert mine
    for row in mine:
        outcome = run_row(row)
        assert outcome.code is not None, f"{row.damage}: {outcome.traceback}"
        assert outcome.code in (0, 1) or is_clear_error(row, outcome), f"{row.damage}: {outcome.stderr}"


def test_the_table_covers_what_the_issue_lists(table):
    damages = {row.damage for row in table}
    for wanted in ("run: not UTF-8", "leaderboard: not UTF-8", "board.toml: not UTF-8",
                   "run: nested 5000 deep at the top", "leaderboard: nested 5000 deep in an entry",
                   "run: value 1e305", "leaderboard: samples near the largest float", "-o is an existing file",
                   "run: negative time", "run: number as a string", "run: number as a boolean", "run: no cases",
                   "run: samples []", "run: started_at not a date", "run: items 0", "leaderboard: NaN value"):
        assert wanted in damages
    nan_rows = {row.command for row in table if row.damage == "leaderboard: NaN value"}
    assert nan_rows == {"check", "compare", "report", "site"}


def test_the_console_script_prints_one_line_not_a_traceback(table):
    """The same, through a real interpreter: what a user sees on the terminal."""
    picked = [row for row in table if row.damage in ("leaderboard: not UTF-8", "run: nested 5000 deep at the top",
                                                     "leaderboard: samples near the largest float")]
    assert len(picked) >= 3
    plugins = Path(__file__).resolve().parents[1] / "plugins"
    for row in picked[:3]:
        done = subprocess.run([sys.executable, "-m", "frontierbench.cli", *row.argv], capture_output=True,
                              text=True, env={"PYTHONPATH": str(plugins), "PATH": "/usr/bin:/bin"}, timeout=120)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert done.stderr.startswith(f"frontierbench {row.command}: error: ") and row.named in done.stderr
