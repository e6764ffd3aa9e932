"""`frontierbench report`: a board's declared trade-offs, measured, with intervals."""

from __future__ import annotations

from factories import board_definition, case, run_record

from frontierbench.aggregate.pipeline import aggregate
from frontierbench.formats.board import Comparison
from frontierbench.formats.run import save_run
from frontierbench.commands.report import compare_entries, render_report


def _leaderboard(tmp_path, comparisons):
    board = board_definition("toy").model_copy(update={"comparisons": comparisons})
    fast = [0.010 + 0.0001 * i for i in range(10)]
    slow = [0.020 + 0.0001 * i for i in range(10)]
    record = run_record([
        case("fp32", wall_time=slow, accuracy=[1, 1, 1, 0] * 25, energy=2.0),
        case("int8", wall_time=fast, accuracy=[1, 1, 0, 0] * 25, energy=1.0),
    ])
    save_run(record, tmp_path / "run.json")
    leaderboards = aggregate([tmp_path / "run.json"], {"toy": board}, draws=100, seed=0)
    return leaderboards["toy"], board


def test_a_twice_as_fast_candidate_reads_as_a_2x_speed_up_with_an_interval(tmp_path):
    claim = Comparison(title="int8 vs fp32", baseline="fp32", candidate="int8", metrics=["wall_time", "accuracy"])
    leaderboard, board = _leaderboard(tmp_path, [claim])
    rows = {row.metric: row for row in compare_entries(leaderboard.groups[0], claim)}

    time = rows["wall_time"]
    assert time.ratio == 0.01045 / 0.02045
    low, high = time.ratio_interval
    assert low <= time.ratio <= high < 1  # the candidate is faster in every resample

    accuracy = rows["accuracy"]  # paired over the same items
    assert accuracy.difference == -0.25
    assert accuracy.difference_interval[1] < 0

    report = render_report([leaderboard], {"toy": board})
    assert "1.96× faster" in report
    assert "| accuracy | 0.75" in report


def test_a_claim_about_an_entry_that_was_not_measured_says_so(tmp_path):
    claim = Comparison(title="pruned vs fp32", baseline="fp32", candidate="pruned", metrics=["wall_time"])
    leaderboard, board = _leaderboard(tmp_path, [claim])
    assert compare_entries(leaderboard.groups[0], claim) == "not measured in this group: pruned"
    assert "*Not compared: not measured in this group: pruned.*" in render_report([leaderboard], {"toy": board})


def test_groups_recorded_under_an_older_board_version_are_not_compared(tmp_path):
    claim = Comparison(title="int8 vs fp32", baseline="fp32", candidate="int8", metrics=["wall_time"])
    board = board_definition("toy", version="2").model_copy(update={"comparisons": [claim]})
    record = run_record([case("fp32", wall_time=[0.02] * 5), case("int8", wall_time=[0.01] * 5)],
                        board_versions={"toy": "1"})
    save_run(record, tmp_path / "run.json")
    leaderboard = aggregate([tmp_path / "run.json"], {"toy": board}, draws=50, seed=0)["toy"]
    report = render_report([leaderboard], {"toy": board})
    assert "| wall_time" not in report
    assert "groups recorded under an older board version (cpu-x86_64-test-cpu-4t v1)" in report
