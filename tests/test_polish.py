"""Small things a new user meets: check's names and units, the brief check, the progress line."""

from __future__ import annotations

import re

import numpy as np

from frontierbench.capture.progress import MeteredProgress
from frontierbench.cli import main
from frontierbench.formats.leaderboard import load_leaderboard, save_leaderboard
from test_check_cli import correct, write_board


def long_names_board(path):
    rng = np.random.default_rng(0)
    return write_board(path, {
        "quantized-int8-dynamic-per-channel-calibrated-on-train": (rng.normal(0.020, 1e-4, 10), correct(0.80)),
        "quantized-int8-dynamic-per-channel-calibrated-on-test": (rng.normal(0.030, 1e-4, 10), correct(0.85)),
        "fp32": (rng.normal(0.050, 1e-4, 10), correct(0.95)),
    })


def test_check_keeps_entry_names_whole_and_prints_units(tmp_path, capsys):
    path = long_names_board(tmp_path / "lb.json")
    main(["check", str(path)])
    out = capsys.readouterr().out
    assert "quantized-int8-dynamic-per-channel-calibrated-on-train" in out
    assert "quantized-int8-dynamic-per-channel-calibrated-on-test" in out
    board = load_leaderboard(path).model_copy(update={"primary": "wall_time"})
    save_leaderboard(board, path)
    main(["check", "--recompute", "--draws", "200", str(path)])
    out = capsys.readouterr().out
    assert re.search(r"20\.\d+ ms \[\d", out)  # the primary's value with its unit and its interval


def test_check_brief_is_one_line_per_group(tmp_path, capsys):
    path = long_names_board(tmp_path / "lb.json")
    status = main(["check", "--brief", str(path)])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert lines[0].startswith("digits · cpu-test · board v1: ")
    assert ("NOT reliable" in lines[0]) == (status == 1)
    assert "leader fp32" in lines[0]


def test_progress_lines_come_at_each_tenth_with_an_eta():
    now = [0.0]
    progress = MeteredProgress(40, now=lambda: now[0])
    lines = []
    for _ in range(40):
        now[0] += 5.0
        lines.append(progress.advance())
    shown = [line for line in lines if line]
    assert len(shown) == 10  # 20 s in: every fourth case
    assert "4/40 metered cases · 0:20 elapsed · about 3:00 left" in shown[0]
    assert shown[-1].endswith("40/40 metered cases · 3:20 elapsed · done")
    quick = MeteredProgress(40, now=lambda: 1.0)
    assert all(quick.advance() is None for _ in range(40))  # a short session prints nothing


def test_compare_off_a_terminal_prints_every_cell_whole(tmp_path, capsys):
    from test_compare import timed_run

    base = timed_run(tmp_path / "base.json", seed=1)
    new = timed_run(tmp_path / "new.json", seed=2, slowdown={"int8": 1.10})
    main(["compare", str(base), str(new)])
    out = capsys.readouterr().out
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) > 80  # not cut to 80 columns
    assert "wall_time" in out


def test_compare_takes_a_leaderboards_folder(tmp_path, monkeypatch):
    from factories import board_definition, write_board as write_board_toml
    from test_compare import timed_run

    monkeypatch.chdir(tmp_path)
    write_board_toml(tmp_path / "leaderboards", board_definition("toy"))
    timed_run(tmp_path / "base-runs" / "r.json", seed=1)
    timed_run(tmp_path / "new-runs" / "r.json", seed=2, slowdown={"pruned": 1.10})
    assert main(["aggregate", "base-runs", "-o", "base", "--no-reliability"]) == 0
    assert main(["aggregate", "new-runs", "-o", "new", "--no-reliability"]) == 0
    assert main(["compare", "base", "new", "--fail-on-regression", "5%"]) == 1
