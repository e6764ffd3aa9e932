"""`frontierbench check`: the report, the CI gate on --min-dior, and bad input."""

import json

import numpy as np

from frontierbench.cli import main
from frontierbench.formats.leaderboard import (
    Group,
    Leaderboard,
    LeaderboardEntry,
    MetricEstimate,
    Objective,
    save_leaderboard,
)
from frontierbench.formats.reliability import FamilyReport, ReliabilityReport


def estimate(samples, kind, higher_is_better):
    value = float(np.median(samples) if kind == "rounds" else np.mean(samples))
    return MetricEstimate(value=value, unit="s" if kind == "rounds" else "", higher_is_better=higher_is_better,
                          estimator="median" if kind == "rounds" else "mean", sample_kind=kind,
                          samples=[float(x) for x in samples])


def write_board(path, entries, reliability=None):
    """A one-group leaderboard; entries: name -> (latency rounds, per-item correctness)."""
    group = Group(hardware_class="cpu-test", board_version="1", reliability=reliability, entries=[
        LeaderboardEntry(name=name, metrics={"wall_time": estimate(rounds, "rounds", False),
                                             "accuracy": estimate(items, "items", True)})
        for name, (rounds, items) in entries.items()])
    board = Leaderboard(board="digits", title="Digits", primary="accuracy", groups=[group],
                        objectives=[Objective(metric="wall_time", direction="min", margin=0.01),
                                    Objective(metric="accuracy", direction="max", margin=0.005,
                                              margin_kind="absolute")],
                        reference_point={"wall_time": 1.0, "accuracy": 0.0})
    save_leaderboard(board, path)
    return path


def correct(p, n=400, seed=0):
    k = int(round(p * n))
    return np.random.default_rng(seed).permutation([1.0] * k + [0.0] * (n - k))


def clear_board(path):
    rng = np.random.default_rng(0)
    return write_board(path, {
        "fp32": (rng.normal(0.050, 1e-4, 10), correct(0.95)),
        "int8": (rng.normal(0.020, 1e-4, 10), correct(0.80)),
        "pruned": (rng.normal(0.030, 1e-4, 10), correct(0.60)),  # slower and worse than int8
    })


def coin_flip_board(path):
    rng = np.random.default_rng(1)
    rounds, items = rng.normal(0.05, 5e-3, 10), correct(0.7)
    return write_board(path, {"a": (rounds, items), "b": (rng.permutation(rounds), rng.permutation(items))})


def test_reliable_board_passes_and_the_report_reads(tmp_path, capsys):
    path = clear_board(tmp_path / "digits.json")
    assert main(["check", str(path), "--draws", "200"]) == 0
    out = capsys.readouterr().out
    assert "Digits" in out and "cpu-test" in out and "reliable" in out
    assert "Leader: fp32" in out and "stable when any one entry is left out" in out
    assert "Delta-front" in out and "int8" in out
    assert "pruned" in out and "off" in out  # its front label
    assert "could run" in out  # the efficient-benchmarking verdict


def test_coin_flip_board_fails_the_gate_and_says_why(tmp_path, capsys):
    path = coin_flip_board(tmp_path / "digits.json")
    assert main(["check", str(path), "--draws", "200"]) == 1
    out = capsys.readouterr().out
    assert "NOT reliable" in out
    assert "the leader decision has DIoR" in out
    assert "uncertain" in out  # the entries that need more rounds or items
    assert main(["check", str(path), "--draws", "200", "--min-dior", "0"]) == 0


def test_stored_report_is_used_unless_recompute(tmp_path, capsys):
    stored = ReliabilityReport(seed=0, draws=10, families=[
        FamilyReport(family="A", description="stored", applicable=True, draws=10, dior_front=0.5)])
    path = tmp_path / "digits.json"
    clear = clear_board(tmp_path / "clear.json")
    data = json.loads(clear.read_text())
    data["groups"][0]["reliability"] = stored.model_dump(mode="json")
    path.write_text(json.dumps(data))
    assert main(["check", str(path)]) == 1  # the stored report fails
    assert main(["check", str(path), "--recompute", "--draws", "200"]) == 0  # the data do not
    capsys.readouterr()


def test_directories_are_searched_for_leaderboards_only(tmp_path, capsys):
    (tmp_path / "digits").mkdir()
    clear_board(tmp_path / "digits" / "digits.json")
    (tmp_path / "digits" / "other.json").write_text('{"not": "a leaderboard"}')
    assert main(["check", str(tmp_path), "--draws", "100"]) == 0
    assert capsys.readouterr().out.count("Digits") == 1


def test_bad_input_names_the_file_and_exits_2(tmp_path, capsys):
    truncated = tmp_path / "truncated.json"
    truncated.write_text('{"schema": "frontierbench.leaderboard/1", "board": ')
    assert main(["check", str(truncated)]) == 2
    assert "truncated.json" in capsys.readouterr().err

    broken = tmp_path / "broken.json"
    data = json.loads(clear_board(tmp_path / "ok.json").read_text())
    data["primary"] = "energy"  # not one of the objectives
    broken.write_text(json.dumps(data))
    assert main(["check", str(broken), "--recompute"]) == 2
    err = capsys.readouterr().err
    assert "broken.json" in err and "primary" in err

    assert main(["check", str(tmp_path / "missing.json")]) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["check", str(empty)]) == 2
    assert "no leaderboard" in capsys.readouterr().err


def test_same_seed_same_output(tmp_path, capsys):
    path = coin_flip_board(tmp_path / "digits.json")
    main(["check", str(path), "--draws", "100", "--seed", "3"])
    first = capsys.readouterr().out
    main(["check", str(path), "--draws", "100", "--seed", "3"])
    assert capsys.readouterr().out == first
