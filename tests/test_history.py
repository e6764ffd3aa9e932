"""History across runs: steps found in each entry's run-level values (`changes`), and the gate on them."""

from __future__ import annotations

import numpy as np
import pytest

from history_factories import STEPPER, commit_of, daily_history
from frontierbench.aggregate.pipeline import aggregate, write_leaderboards
from frontierbench.cli import main as cli
from frontierbench.formats.board import load_boards
from frontierbench.formats.leaderboard import load_leaderboard
from frontierbench.stats.changepoints import find_steps


@pytest.fixture(scope="module")
def history_board(tmp_path_factory):
    root = tmp_path_factory.mktemp("history")
    daily_history(root)
    boards = aggregate([root / "runs"], load_boards(root / "leaderboards"), draws=100, reliability=False)
    [path] = write_leaderboards(boards, root / "out")
    return path


def test_a_20_percent_step_at_run_12_is_found_with_its_ratio_and_few_false_alarms(history_board):
    board = load_leaderboard(history_board)
    entries = {e.name: e for e in board.groups[0].entries}
    assert len(entries) == 21 and all(len(e.history) == 20 for e in entries.values())

    step = [c for c in entries[STEPPER].changes if c.metric == "wall_time"]
    assert len(step) == 1
    found = int(step[0].run_id.split("-")[1])
    assert abs(found - 12) <= 1  # within one run of where it is
    assert step[0].git_commit == commit_of(found) and step[0].started_at.startswith("2026-01-")
    assert step[0].ratio == pytest.approx(1.2, rel=0.04)
    assert step[0].low < step[0].ratio < step[0].high and step[0].low > 1.0

    # A false alarm is a steady entry with a step; its time and energy move together (one draw
    # per run scales both), so a chance run of slow days shows in both and counts once.
    false_alarms = sorted({e.name for e in entries.values() if e.changes and e.name != STEPPER})
    assert len(false_alarms) <= 1, false_alarms


def test_pure_noise_rarely_looks_like_a_step_and_real_steps_are_not_missed():
    rng = np.random.default_rng(7)
    noise_only = [find_steps(1 + 0.03 * rng.standard_normal(20)) for _ in range(300)]
    assert sum(len(steps) for steps in noise_only) <= 6  # measured rate ~0.8 per 100 series
    for _ in range(50):
        series = 1 + 0.03 * rng.standard_normal(20)
        series[11:] *= 1.2
        [found] = find_steps(series)
        assert abs(found.index - 11) <= 1


def test_flat_identical_values_and_short_or_non_positive_series_have_no_steps():
    assert find_steps([1.0] * 20) == []
    assert find_steps([1.0, 2.0, 1.0]) == []
    assert find_steps([0.0] * 10 + [1.0] * 10) == []
    [step] = find_steps([1.0] * 10 + [1.5] * 10)  # noiseless: any step beyond the 2% minimum effect
    assert step.index == 10 and step.ratio == pytest.approx(1.5)


def test_check_fails_on_a_step_that_made_things_worse_beyond_the_threshold(history_board, capsys):
    assert cli(["check", str(history_board), "--fail-on-change", "5%", "--min-dior", "0"]) == 1
    out = capsys.readouterr().out
    assert "Steps in the history" in out and f"✗ {STEPPER}: wall_time got" in out
    assert cli(["check", str(history_board), "--fail-on-change", "30%", "--min-dior", "0"]) == 0
    # Only changes since a date: the step (January 2026) is before it.
    assert cli(["check", str(history_board), "--fail-on-change", "5%", "--min-dior", "0",
                "--changes-since", "2026-02-01"]) == 0


def test_check_refuses_a_bad_threshold_or_date(history_board, capsys):
    with pytest.raises(SystemExit) as exc:
        cli(["check", str(history_board), "--fail-on-change", "lots"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        cli(["check", str(history_board), "--changes-since", "yesterday"])
    assert exc.value.code == 2
    assert "ISO 8601" in capsys.readouterr().err


def test_changes_are_byte_identical_on_a_rerun(history_board, tmp_path):
    root = history_board.parent.parent.parent
    boards = aggregate([root / "runs"], load_boards(root / "leaderboards"), draws=100, reliability=False)
    [again] = write_leaderboards(boards, tmp_path)
    assert again.read_bytes() == history_board.read_bytes()


def test_segment_levels_are_geometric_means_between_steps_with_intervals():
    from frontierbench.stats.changepoints import segment_levels

    values = [1.0, 1.02, 0.98, 1.0, 1.2, 1.22, 1.18, 1.2]
    before, after = segment_levels(values, [4])
    assert (before.start, before.stop, after.start, after.stop) == (0, 4, 4, 8)
    assert before.value == pytest.approx(1.0, rel=1e-3) and after.value == pytest.approx(1.2, rel=1e-3)
    assert before.low < before.value < before.high and after.low > before.high
    assert segment_levels([1.0, -1.0], []) == []


def test_site_refuses_a_commit_address_that_is_not_http_with_a_commit_placeholder(history_board, tmp_path, capsys):
    for bad in ("javascript:alert(1)/{commit}", "https://example.org/commit/", "file:///etc/{commit}"):
        assert cli(["site", str(history_board), "-o", str(tmp_path / "site"), "--commit-url", bad]) == 2
        assert "--commit-url" in capsys.readouterr().err


def test_series_known_quiet_at_once_are_those_find_steps_finds_no_step_in():
    """A history's thousands of series are screened together (certainly_without_steps); every one
    it calls quiet is one find_steps, run on its own, finds no step in, and most quiet ones are."""
    from frontierbench.stats.changepoints import _row_medians, certainly_without_steps
    from frontierbench.stats.grouped import median_of

    rng = np.random.default_rng(11)
    series = []
    for i in range(600):
        n = (20, 21, 57)[i % 3]
        values = np.exp(rng.normal(0.0, 0.03, n))
        if i % 4 == 0:
            values[n // 2:] *= rng.choice([1.02, 1.05, 1.2])  # a step, some hard to see
        series.append(values)
    series += [np.ones(20), np.array([1.0, 2.0, 3.0]), np.array([1.0, -1.0, 1.0, 1.0, 2.0])]
    quiet = certainly_without_steps(series)
    steps = [find_steps(values) for values in series]
    assert all(not found for found, certain in zip(steps, quiet) if certain)
    assert quiet[[not found for found in steps]].mean() > 0.9
    rows = np.stack([s for s in series if len(s) == 21])
    assert _row_medians(rows).tolist() == [median_of(row) for row in rows]  # to the bit
