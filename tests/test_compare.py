"""`frontierbench compare BASE NEW`: planted regressions are found, A/A comparisons pass."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from factories import board_definition, case, run_record, write_board
from frontierbench.cli import main as cli
from frontierbench.commands.compare import compare, parse_fraction
from frontierbench.formats.run import RecordError, save_run

ENTRIES = ["fp32", "int8", "pruned"]


def timed_run(path: Path, *, seed: int, slowdown: dict[str, float] | None = None,
              accuracy: dict[str, float] | None = None,
              hardware_class: str = "cpu-x86_64-test-4t", rounds: int = 30) -> Path:
    """Lognormal round timings (about 3% noise) and 500 items per entry: the same items each run, so
    an entry at the same accuracy gets them right again (its model did not change)."""
    rng = np.random.default_rng(seed)
    cases = []
    for i, name in enumerate(ENTRIES):
        scale = 0.01 * (i + 1) * (slowdown or {}).get(name, 1.0)
        p = (accuracy or {}).get(name, 0.9)
        difficulty = np.random.default_rng(100 + i).random(500)
        cases.append(case(name, wall_time=scale * rng.lognormal(0.0, 0.03, rounds),
                          accuracy=(difficulty < p).astype(float), energy=1.0 + i))
    return save_run(run_record(cases, run_id=f"seed-{seed}", hardware_class=hardware_class), path)


def test_a_planted_ten_percent_regression_is_found(tmp_path):
    base = timed_run(tmp_path / "base.json", seed=1)
    new = timed_run(tmp_path / "new.json", seed=2, slowdown={"int8": 1.10})
    result = compare(base, new)
    failing = result.regressions(0.05)
    assert [(r.entry, r.metric) for r in failing] == [("int8", "wall_time")]
    row = failing[0]
    assert row.ratio == pytest.approx(1.10, abs=0.03)
    assert row.low < 1.10 < row.high and row.low > 1.0
    assert row.p_value < 0.001


def test_an_a_a_comparison_passes(tmp_path):
    base = timed_run(tmp_path / "base.json", seed=1)
    new = timed_run(tmp_path / "new.json", seed=2)
    result = compare(base, new)
    assert result.regressions(0.0) == []
    timings = [r for r in result.rows if r.metric == "wall_time"]
    assert len(timings) == 3 and all(r.low < 1.0 < r.high for r in timings)
    assert cli(["compare", str(base), str(new), "--fail-on-regression", "5%"]) == 0


def test_regression_is_direction_aware(tmp_path):
    base = timed_run(tmp_path / "base.json", seed=1, accuracy={"fp32": 0.9})
    faster = timed_run(tmp_path / "faster.json", seed=2, slowdown={"fp32": 0.8}, accuracy={"fp32": 0.75})
    rows = {(r.entry, r.metric): r for r in compare(base, faster).rows}
    assert rows[("fp32", "wall_time")].verdict == "improvement"  # lower time is better
    assert rows[("fp32", "accuracy")].verdict == "regression"  # lower accuracy is worse
    assert rows[("fp32", "accuracy")].statistic == "mean"
    assert rows[("fp32", "energy")].verdict == "untested"  # no samples, no test


def test_the_cli_gates_on_the_threshold_and_prints_markdown(tmp_path, capsys):
    base = timed_run(tmp_path / "base.json", seed=1)
    new = timed_run(tmp_path / "new.json", seed=2, slowdown={"int8": 1.10})
    assert cli(["compare", str(base), str(new), "--fail-on-regression", "5%", "--format", "markdown"]) == 1
    out = capsys.readouterr().out
    assert "| board | entry | metric |" in out
    assert "| toy | int8 | wall_time (geomean of rounds) |" in out and "**regression**" in out
    assert "| MDE | P(worse) |" in out and "1 vs 1 (within one process)" in out
    assert cli(["compare", str(base), str(new), "--fail-on-regression", "15%"]) == 0  # 10% < 15%
    assert cli(["compare", str(base), str(new)]) == 0  # without a threshold, compare only reports
    assert "regression" in capsys.readouterr().out


def test_different_hardware_classes_are_refused_unless_forced(tmp_path, capsys):
    base = timed_run(tmp_path / "base.json", seed=1, hardware_class="cpu-a")
    new = timed_run(tmp_path / "new.json", seed=2, hardware_class="cuda-h100")
    assert cli(["compare", str(base), str(new)]) == 2
    err = capsys.readouterr().err
    assert "hardware class" in err and "cpu-a" in err and "cuda-h100" in err and "--force" in err
    assert cli(["compare", str(base), str(new), "--force"]) == 0
    result = compare(base, new, force=True)
    assert result.rows and "compared anyway" in result.notes[0]


def test_two_leaderboards_can_be_compared(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_board(tmp_path / "leaderboards", board_definition("toy"))
    timed_run(tmp_path / "base-runs" / "r.json", seed=1)
    timed_run(tmp_path / "new-runs" / "r.json", seed=2, slowdown={"pruned": 1.10})
    assert cli(["aggregate", "base-runs", "-o", "base", "--boards", "leaderboards", "--no-reliability"]) == 0
    assert cli(["aggregate", "new-runs", "-o", "new", "--boards", "leaderboards", "--no-reliability"]) == 0
    result = compare("base/toy/leaderboard.json", "new/toy/leaderboard.json")
    assert [(r.entry, r.metric) for r in result.regressions(0.05)] == [("pruned", "wall_time")]


def test_bad_input_names_the_file(tmp_path):
    base = timed_run(tmp_path / "base.json", seed=1)
    (tmp_path / "broken.json").write_text('{"schema": "frontierbench.run/1", "run_id": ')
    with pytest.raises(RecordError, match="broken.json"):
        compare(base, tmp_path / "broken.json")


def test_percentages_parse():
    assert parse_fraction("5%") == 0.05
    assert parse_fraction("0.05") == 0.05
    assert parse_fraction("5") == 0.05
    with pytest.raises(argparse.ArgumentTypeError):
        parse_fraction("five")
