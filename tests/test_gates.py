"""Gates: board.toml `[gates]` and the marker's max_regression fail `compare` on a real regression only."""

from __future__ import annotations

import pytest

from factories import board_definition, write_board
from frontierbench.cli import main as cli
from frontierbench.formats.board import load_board
from frontierbench.formats.gates import parse_gate
from frontierbench.formats.run import RecordError, save_run
from test_compare import timed_run


@pytest.fixture
def project(tmp_path, monkeypatch):
    """leaderboards/toy/board.toml with gates; cwd is the project."""
    monkeypatch.chdir(tmp_path)
    board = board_definition("toy").model_copy(update={"gates": {"wall_time": "5%", "accuracy": "-2 points"}})
    path = write_board(tmp_path / "leaderboards", board)
    path.write_text(path.read_text() + '\n[gates]\nwall_time = "5%"\naccuracy = "-2 points"\n')
    assert load_board(path).gates == {"wall_time": "5%", "accuracy": "-2 points"}
    return tmp_path


def test_a_board_gate_fails_compare_on_a_planted_regression_and_names_the_gate(project, capsys):
    base = timed_run(project / "base.json", seed=1)
    new = timed_run(project / "new.json", seed=2, slowdown={"int8": 1.10})
    assert cli(["compare", str(base), str(new)]) == 1
    out = capsys.readouterr().out
    assert "gate failed: toy/int8 wall_time" in out and "wall_time <= 5% worse (board toy)" in out
    assert "1 of 6 gate(s) failed" in out.replace("\n", " ")


def test_a_board_gate_passes_an_a_a_comparison(project, capsys):
    base = timed_run(project / "base.json", seed=1)
    new = timed_run(project / "new.json", seed=2)
    assert cli(["compare", str(base), str(new)]) == 0
    assert "0 of 6 gate(s) failed" in capsys.readouterr().out.replace("\n", " ")


def test_a_regression_within_the_gate_passes(project):
    base = timed_run(project / "base.json", seed=1)
    new = timed_run(project / "new.json", seed=2, slowdown={"int8": 1.03})
    assert cli(["compare", str(base), str(new)]) == 0


def test_an_accuracy_gate_in_points(project, capsys):
    base = timed_run(project / "base.json", seed=1, accuracy={"fp32": 0.9})
    new = timed_run(project / "new.json", seed=2, accuracy={"fp32": 0.8})  # -10 points
    assert cli(["compare", str(base), str(new)]) == 1
    assert "gate failed: toy/fp32 accuracy" in capsys.readouterr().out


def test_a_marker_gate_overrides_the_board_for_its_case(project, capsys):
    base = timed_run(project / "base.json", seed=1)
    new_path = timed_run(project / "new.json", seed=2, slowdown={"int8": 1.10})
    from frontierbench.formats.run import load_run

    record = load_run(new_path)
    for c in record.cases:
        if c.entry == "int8":
            c.gates = {"wall_time": "20%"}  # @pytest.mark.frontier(max_regression="20%")
    save_run(record, new_path)
    assert cli(["compare", str(base), str(new_path)]) == 0
    assert "marker on" not in capsys.readouterr().out


def test_a_bad_gate_in_board_toml_names_the_file_and_field(project):
    path = project / "leaderboards" / "toy" / "board.toml"
    path.write_text(path.read_text().replace('wall_time = "5%"', 'wall_time = "five percent"'))
    with pytest.raises(RecordError, match=r"(?s)board.toml.*field 'gates'.*gate for 'wall_time'"):
        load_board(path)


def test_gate_arithmetic():
    relative = parse_gate("wall_time", "5%", source="t")
    assert relative.exceeded_by(1.0, 1.06, higher_is_better=False) == pytest.approx(0.01)
    assert relative.exceeded_by(1.0, 0.5, higher_is_better=False) < 0  # faster never fails
    points = parse_gate("accuracy", "-0.5 points", source="t")
    assert points.exceeded_by(0.90, 0.894, higher_is_better=True) == pytest.approx(0.1)
    assert points.exceeded_by(90.0, 89.4, higher_is_better=True, unit="%") == pytest.approx(0.1)
    assert parse_gate("peak_memory", "1024", source="t").kind == "absolute"
    with pytest.raises(ValueError, match="gate for 'x'"):
        parse_gate("x", "a lot", source="t")


def test_the_marker_records_its_gate_and_refuses_a_bad_one(pytester):
    pytester.makepyfile(test_gated='''
        import pytest

        @pytest.mark.frontier(board="toy", max_regression="3%")
        def test_ok(frontier):
            frontier.measure(sum, range(10), rounds=2)

        @pytest.mark.frontier(board="toy", max_regression="lots")
        def test_bad(frontier):
            frontier.measure(sum, range(10), rounds=2)
    ''')
    result = pytester.runpytest("-p", "no:cacheprovider", "--frontier-out=runs")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*test_bad*max_regression*lots*"])
    import json

    record = json.loads(next((pytester.path / "runs").glob("*.json")).read_text())
    gates = {c["entry"]: c.get("gates") for c in record["cases"]}
    assert gates["test_ok"] == {"wall_time": "3%"}
