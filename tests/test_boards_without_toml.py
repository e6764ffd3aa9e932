"""Boards without a board.toml: inferred boards, one-objective rankings, `board init`, pytest-benchmark files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from frontierbench.cli import main as cli
from frontierbench.formats.board import find_boards, load_board
from frontierbench.formats.inference import known_quality_direction
from frontierbench.formats.leaderboard import load_leaderboard
from frontierbench.site.build import build_site

DATA = Path(__file__).parent / "data" / "pytest_benchmark"
PB_FILES = sorted(DATA.glob("*.json"))

PLAIN_BENCHMARKS = '''
import pytest


def sum_of_squares(n):
    return sum(i * i for i in range(n))


@pytest.mark.parametrize("n", [100, 1000])
def test_squares(benchmark, n):
    benchmark.extra_info["accuracy"] = 1.0
    assert benchmark(sum_of_squares, n) == sum(i * i for i in range(n))


def test_sorted(benchmark):
    benchmark.pedantic(sorted, args=(list(range(500, 0, -1)),), rounds=5, iterations=2)
'''


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_pytest_benchmarks_own_test_data_all_aggregate_without_a_board_toml(workdir, capsys):
    assert len(PB_FILES) == 30
    for path in PB_FILES:
        out = workdir / "lb" / path.stem
        assert cli(["aggregate", str(path), "-o", str(out)]) == 0, path.name
        board = load_leaderboard(out / "normal" / "leaderboard.json")  # tests/test_normal.py -> "normal"
        assert board.inferred and board.primary == "wall_time"
        assert board.groups[0].hypervolume is None
        assert all(e.metrics["wall_time"].value > 0 for g in board.groups for e in g.entries)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err


def test_a_broken_pytest_benchmark_file_is_refused_by_name(workdir, capsys):
    data = json.loads(PB_FILES[0].read_text())
    del data["benchmarks"][0]["stats"]["median"]
    Path("broken.json").write_text(json.dumps(data))
    assert cli(["aggregate", "broken.json", "-o", "lb"]) == 2
    err = capsys.readouterr().err
    assert "broken.json" in err and "benchmarks.0.stats.median" in err and "Traceback" not in err


def test_a_file_written_by_real_pytest_benchmark_aggregates_and_draws_a_ranking(workdir):
    Path("test_plain.py").write_text(PLAIN_BENCHMARKS)
    subprocess.run([sys.executable, "-m", "pytest", "test_plain.py", "-q", "-p", "no:cacheprovider",
                    "-p", "no:frontierbench", "--benchmark-json=pb.json", "--benchmark-max-time=0.05"],
                   check=True, capture_output=True)
    assert cli(["aggregate", "pb.json", "-o", "lb"]) == 0
    board = load_leaderboard("lb/plain/leaderboard.json")
    assert board.inferred
    # extra_info "accuracy" is a known quality name: it becomes the primary, time the cost.
    assert [(o.metric, o.direction) for o in board.objectives] == [("accuracy", "max"), ("wall_time", "min")]
    names = sorted(e.name for e in board.groups[0].entries)
    assert names == ["test_sorted", "test_squares[1000]", "test_squares[100]"]
    site = build_site(["lb"], workdir / "site")
    page = (site / "boards" / "plain" / "index.html").read_text()
    assert 'id="inferred-note"' in page and "no hypervolume" in page


def test_a_one_objective_board_is_a_ranking_page(workdir):
    assert cli(["aggregate", str(PB_FILES[0]), "-o", "lb"]) == 0
    site = build_site(["lb"], workdir / "site")
    page = (site / "boards" / "normal" / "index.html").read_text()
    assert "Ranked on" in page and 'id="y-axis"' not in page and "a ranking, not a frontier" in page


def test_board_init_writes_a_commented_board_that_aggregate_then_uses(workdir, capsys):
    Path("test_plain.py").write_text(PLAIN_BENCHMARKS)
    subprocess.run([sys.executable, "-m", "pytest", "test_plain.py", "-q", "-p", "no:cacheprovider",
                    "-p", "no:frontierbench", "--benchmark-json=pb.json", "--benchmark-max-time=0.05"],
                   check=True, capture_output=True)
    assert cli(["board", "init", "plain", "pb.json"]) == 0
    text = Path("leaderboards/plain/board.toml").read_text()
    assert text.startswith("# The plain board") and '# accuracy = "-0.5 points"' in text
    board = load_board("leaderboards/plain/board.toml")
    assert board.primary == "accuracy" and not board.inferred
    assert set(board.reference_point) == {"accuracy", "wall_time"}
    assert cli(["board", "init", "plain", "pb.json"]) == 2  # never overwrites by surprise
    assert "already exists" in capsys.readouterr().err
    assert cli(["aggregate", "pb.json", "-o", "lb"]) == 0  # leaderboards/ under cwd is found
    published = load_leaderboard("lb/plain/leaderboard.json")
    assert not published.inferred and published.groups[0].hypervolume is not None
    assert cli(["board", "init", "nothere", "pb.json"]) == 2
    assert "no case of board 'nothere'; boards found: plain" in capsys.readouterr().err


def test_one_rule_finds_boards(workdir):
    assert find_boards() == ({}, None)
    Path("leaderboards").mkdir()
    assert find_boards() == ({}, Path("leaderboards"))
    with pytest.raises(ValueError, match="--boards elsewhere: no such directory"):
        find_boards("elsewhere")


def test_conventional_quality_names_have_a_direction():
    assert known_quality_direction("accuracy") is True
    assert known_quality_direction("val_loss") is False
    assert known_quality_direction("top1-error") is False
    assert known_quality_direction("rounds") is None


def test_help_lists_every_command(capsys):
    from frontierbench.cli import COMMANDS

    with pytest.raises(SystemExit):
        cli(["--help"])
    out = capsys.readouterr().out
    first_line = out.split("\n\n")[1]
    assert all(name in first_line for name in COMMANDS)
