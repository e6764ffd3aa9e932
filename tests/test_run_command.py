"""`frontierbench run` calls each step (suite, aggregate, check, report, site) and honours its status."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import board_definition, write_board

from frontierbench.cli import main as cli
from frontierbench.formats.leaderboard import load_leaderboard

SUITE = """
import pytest


@pytest.mark.frontier(board="toy")
@pytest.mark.parametrize("size", [10, 1000])
def test_squares(frontier, size):
    frontier.entry(f"squares-{size}")
    frontier.measure(lambda: sum(i * i for i in range(size)), rounds=3)
    frontier.quality("accuracy", per_item=[1, 1, 0, 1] if size == 10 else [1, 1, 1, 1])


@pytest.mark.frontier(board="toy", entry="broken")
def test_broken(frontier):
    frontier.measure(lambda: None, rounds=3)
    assert False, "this case fails"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_board(tmp_path / "boards", board_definition("toy"))
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "test_toy.py").write_text(SUITE)
    return tmp_path


def run(project: Path, *extra: str) -> int:
    return cli(["run", "--suite", str(project / "suite"), "--boards", str(project / "boards"),
                "--work", str(project / "work"), "--site", str(project / "site"), *extra])


def test_a_failing_case_fails_the_job_after_every_step_has_run(project, capsys):
    assert run(project) == 1  # pytest's status: one case failed
    out, err = capsys.readouterr()
    board = load_leaderboard(project / "work" / "leaderboards" / "toy" / "leaderboard.json")
    assert sorted(e.name for e in board.groups[0].entries) == ["squares-10", "squares-1000"]
    assert "entry 'broken' failed" in " ".join(board.groups[0].notes)
    assert (project / "work" / "tradeoffs.md").read_text().startswith("# Trade-offs")
    assert f"open file://{(project / 'site').resolve()}/index.html" in out
    assert "pytest exited 1" in err


def test_a_failing_step_stops_the_job_with_its_error(project, capsys):
    (project / "site").mkdir()
    (project / "site" / "notes.txt").write_text("not a site build")  # the site step must refuse it
    assert run(project) == 2
    out, err = capsys.readouterr()
    assert "refusing to replace a non-empty directory" in err and "Traceback" not in err
    assert (project / "site" / "notes.txt").exists()
    assert "open file://" not in out
