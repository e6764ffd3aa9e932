"""`frontierbench compare` at its default settings, on pairs with run-to-run noise (issue 11).

Each side is one run of 10 worker processes x 20 rounds; every process draws its own speed
(5% CV between processes) and every round varies by 1% around it. 100 entries per pair, so one
pair of records gives 100 comparisons.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from factories import board_definition, replicated_runs, run_record, case, write_board
from frontierbench.cli import main as cli
from frontierbench.commands.compare import compare
from frontierbench.formats.run import save_run

ENTRIES = {f"entry-{i:03d}": 0.001 * (1 + i % 7) for i in range(100)}
PAIRS = 10


def one_run(path: Path, seed: int, *, slowdown: float = 1.0, processes: int = 10, rounds: int = 20) -> Path:
    [record] = replicated_runs(ENTRIES, seed=seed, runs=1, processes=processes, rounds=rounds,
                               slowdown={name: slowdown for name in ENTRIES}, run_prefix=path.stem)
    return save_run(record, path)


def wall_time_verdicts(base: Path, new: Path) -> list[str]:
    rows = [r for r in compare(base, new).rows if r.metric == "wall_time"]
    assert len(rows) == len(ENTRIES)
    assert all(r.scope == "between processes" and r.processes == (10, 10) for r in rows)
    assert all(r.mde is not None and 0 <= r.p_worse <= 1 for r in rows)
    return [r.verdict for r in rows]


def test_a_a_pairs_rarely_change_and_planted_ten_percent_slowdowns_are_found(tmp_path):
    false_positives = found = total = 0
    for pair in range(PAIRS):
        base = one_run(tmp_path / f"base-{pair}.json", seed=pair)
        same = one_run(tmp_path / f"same-{pair}.json", seed=100 + pair)
        slower = one_run(tmp_path / f"slower-{pair}.json", seed=200 + pair, slowdown=1.10)
        false_positives += sum(v in ("regression", "improvement") for v in wall_time_verdicts(base, same))
        found += sum(v == "regression" for v in wall_time_verdicts(base, slower))
        total += len(ENTRIES)
    print(f"A/A false positives {false_positives}/{total}; 10% slowdowns found {found}/{total}")
    assert false_positives / total <= 0.05
    assert found / total >= 0.90


@pytest.mark.parametrize("noise", [0.01, 0.05, 0.20])
def test_three_rounds_a_side_never_call_a_fifty_percent_slowdown_unchanged(tmp_path, noise):
    for seed in range(5):
        rng = np.random.default_rng(seed)
        base = save_run(run_record([case("slow", wall_time=0.01 * rng.lognormal(0, noise, 3))], run_id=f"b{seed}"),
                        tmp_path / f"base-{seed}.json")
        new = save_run(run_record([case("slow", wall_time=0.015 * rng.lognormal(0, noise, 3))], run_id=f"n{seed}"),
                       tmp_path / f"new-{seed}.json")
        [row] = [r for r in compare(base, new).rows if r.metric == "wall_time"]
        assert row.verdict in ("regression", "inconclusive"), (noise, seed, row)
        assert row.scope == "within one process" and row.processes == (1, 1)
        assert cli(["compare", str(base), str(new), "--fail-on-regression", "5%", "--no-gates"]) == 1
        if row.verdict == "inconclusive":
            assert cli(["compare", str(base), str(new), "--fail-on-regression", "5%", "--no-gates",
                        "--allow-inconclusive"]) == 0


def test_too_little_data_is_inconclusive_not_unchanged(tmp_path):
    # Two processes of 3 rounds a side, and a real 10% slowdown: mostly inconclusive, and
    # "unchanged" (a change of 5% ruled out) at most alpha of the time.
    base = one_run(tmp_path / "base.json", seed=1, processes=2, rounds=3)
    new = one_run(tmp_path / "new.json", seed=2, processes=2, rounds=3, slowdown=1.10)
    rows = [r for r in compare(base, new).rows if r.metric == "wall_time"]
    verdicts = [r.verdict for r in rows]
    assert verdicts.count("unchanged") <= 5 and verdicts.count("improvement") <= 5
    assert verdicts.count("inconclusive") >= 50
    assert all(r.mde > 0.05 or r.p_value >= 0.05 for r in rows if r.verdict == "inconclusive")


def test_a_single_new_run_is_judged_against_the_spread_the_base_runs_measured(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_board(tmp_path / "leaderboards", board_definition("toy"))
    truth = {"a": 0.010}
    for record in replicated_runs(truth, seed=7, runs=5, rounds=20):
        save_run(record, tmp_path / "base-runs" / f"{record.run_id}.json")
    assert cli(["aggregate", "base-runs", "-o", "base", "--boards", "leaderboards", "--no-reliability"]) == 0
    [new] = replicated_runs(truth, seed=8, runs=1, rounds=20, slowdown={"a": 1.5}, run_prefix="new")
    save_run(new, tmp_path / "new.json")
    [row] = [r for r in compare("base/toy/leaderboard.json", "new.json").rows if r.metric == "wall_time"]
    assert row.scope == "between processes" and row.processes == (5, 1)
    assert row.verdict == "regression" and row.p_worse > 0.99
    # The interval carries the base's run-to-run spread, not the 1% within-run noise.
    assert row.high / row.low > 1.10


def test_verdicts_take_one_threshold_per_metric(tmp_path):
    base = one_run(tmp_path / "base.json", seed=1)
    new = one_run(tmp_path / "new.json", seed=2)
    strict = compare(base, new, thresholds={"wall_time": 0.001})
    loose = compare(base, new, thresholds={"wall_time": 0.50})
    assert all(r.verdict != "unchanged" for r in strict.rows if r.metric == "wall_time")
    assert all(r.verdict in ("unchanged", "regression", "improvement") for r in loose.rows if r.metric == "wall_time")
    assert {r.threshold for r in loose.rows if r.metric == "wall_time"} == {0.50}
