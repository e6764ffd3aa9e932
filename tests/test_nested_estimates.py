"""Nested estimates: the process (or run) is the unit of replication, not the round.

The known-answer test of issue 11: a synthetic hierarchy with 5% run-to-run variation (CV) and
1% within a run, 4 runs x 20 rounds, 100 entries. An honest 95% interval holds the true median
for about 95 of the 100 entries; concatenating the rounds as if they were independent held it
for about a third.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from factories import board_definition, case, replicated_runs, run_record, write_board
from frontierbench.aggregate.pipeline import aggregate
from frontierbench.formats.board import load_boards
from frontierbench.formats.run import save_run
from frontierbench.stats.intervals import median_interval
from frontierbench.stats.nested import ONE_PROCESS_NOTE, nested_interval, nested_median, unit_intervals

SEEDS = [11, 12, 13, 14, 15]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_board(tmp_path / "leaderboards", board_definition("toy"))
    return tmp_path


def aggregate_records(records, folder: str):
    for record in records:
        save_run(record, Path(folder) / f"{record.run_id}.json")
    board = aggregate([folder], load_boards("leaderboards"), draws=200, seed=0, reliability=False)["toy"]
    return {e.name: e for e in board.groups[0].entries}


def true_medians(seed: int, n: int = 100) -> dict[str, float]:
    rng = np.random.default_rng(1000 + seed)
    return {f"entry-{i:03d}": float(x) for i, x in enumerate(rng.lognormal(np.log(0.01), 1.0, n))}


def test_the_interval_holds_the_true_median_for_about_95_percent_of_entries(workdir):
    held, held_if_concatenated, total = 0, 0, 0
    per_seed = []
    for seed in SEEDS:
        truth = true_medians(seed)
        records = replicated_runs(truth, seed=seed, runs=4, rounds=20, between_cv=0.05, within_cv=0.01)
        entries = aggregate_records(records, f"runs-{seed}")
        inside = 0
        for name, median in truth.items():
            wall = entries[name].metrics["wall_time"]
            assert (wall.interval_scope, wall.replicates, wall.unit_sizes) == ("between processes", 4, [20] * 4)
            assert wall.interval_note is None
            inside += wall.low <= median <= wall.high
            # What aggregation did before: every round of every run as one independent sample.
            naive = median_interval(wall.samples)
            held_if_concatenated += naive.low <= median <= naive.high
        per_seed.append(inside)
        held += inside
        total += len(truth)
    print(f"held {held}/{total} per seed {per_seed}; concatenated rounds held {held_if_concatenated}/{total}")
    assert 0.90 <= held / total <= 0.98, per_seed
    assert min(per_seed) >= 85, per_seed
    assert held_if_concatenated / total < 0.6  # the flaw the nested estimate fixes


def test_worker_processes_of_one_run_are_units_too(workdir):
    truth = {"a": 0.010, "b": 0.020}
    records = replicated_runs(truth, seed=3, runs=1, processes=5, rounds=10)
    entries = aggregate_records(records, "runs")
    wall = entries["b"].metrics["wall_time"]
    assert (wall.interval, wall.interval_scope, wall.replicates, wall.unit_sizes) == ("t", "between processes", 5,
                                                                                      [10] * 5)
    assert wall.value == pytest.approx(nested_median(wall.samples, wall.unit_sizes), rel=1e-9)
    assert wall.low < 0.020 < wall.high
    assert "5 per-process medians" in wall.provenance["pooling"]


def test_runs_and_processes_together_count_every_pair(workdir):
    records = replicated_runs({"a": 0.010}, seed=4, runs=3, processes=2, rounds=6)
    wall = aggregate_records(records, "runs")["a"].metrics["wall_time"]
    assert (wall.replicates, wall.unit_sizes, wall.n) == (6, [6] * 6, 36)


def test_a_run_in_worker_processes_has_one_history_point_the_median_of_its_processes(workdir):
    records = replicated_runs({"a": 0.010}, seed=6, runs=3, processes=3, rounds=6, between_cv=0.2)
    entry = aggregate_records(records, "runs")["a"]
    assert [point.run_id for point in entry.history] == [record.run_id for record in records]
    last_process_differs = False
    for point, record in zip(entry.history, records):
        per_process = [float(np.median(c.metrics["wall_time"].samples)) for c in record.cases]
        assert len(per_process) == 3 and len(set(per_process)) == 3
        assert point.values["wall_time"] == pytest.approx(float(np.median(per_process)), rel=1e-6)
        last_process_differs |= point.values["wall_time"] != pytest.approx(per_process[-1], rel=1e-6)
    assert last_process_differs  # what the point would have been had the last process's case won


def test_one_process_keeps_its_within_process_interval_and_says_so(workdir):
    records = replicated_runs({"a": 0.010, "b": 0.020}, seed=5, runs=1, rounds=20)
    entries = aggregate_records(records, "runs")
    wall = entries["a"].metrics["wall_time"]
    assert (wall.interval, wall.interval_scope, wall.replicates) == ("quantile", "within one process", 1)
    assert wall.interval_note == ONE_PROCESS_NOTE == "within one process: run-to-run variation not measured"
    # The interval is the rounds' own: nothing pretends it covers run-to-run variation.
    own = median_interval(wall.samples)
    assert (wall.low, wall.high) == (own.low, own.high)
    # Derived per-item figures inherit the label.
    per_item = entries["a"].metrics.get("wall_time_per_item")
    assert per_item is None or per_item.interval_note == ONE_PROCESS_NOTE


def test_a_value_without_samples_from_one_process_is_labelled(workdir):
    entries = aggregate_records([run_record([case("a", wall_time=[1.0, 1.1, 0.9], energy=2.0)])], "runs")
    energy = entries["a"].metrics["energy"]
    assert (energy.value, energy.interval, energy.interval_note) == (2.0, "none", ONE_PROCESS_NOTE)


def test_unit_intervals_match_a_t_interval_on_the_logs():
    medians = np.array([1.00, 1.05, 0.97, 1.10])
    out = unit_intervals(medians, np.zeros(4, dtype=np.int64), 1)
    logs = np.log(medians)
    from scipy import stats

    half = stats.t.ppf(0.975, 3) * logs.std(ddof=1) / 2
    assert out["low"][0] == pytest.approx(np.exp(logs.mean() - half))
    assert out["high"][0] == pytest.approx(np.exp(logs.mean() + half))
    assert out["value"][0] == pytest.approx(np.median(medians))
    one = unit_intervals(np.array([1.0]), np.zeros(1, dtype=np.int64), 1)
    assert np.isnan(one["low"][0]) and one["replicates"][0] == 1


def test_nested_median_is_the_median_of_the_unit_medians():
    samples = [1, 2, 3, 10, 11, 12, 13, 100]
    assert nested_median(samples, [3, 4, 1]) == 11.5  # the median of the medians 2, 11.5 and 100
    assert nested_median(samples) == float(np.median(samples))
    interval = nested_interval(samples, [3, 4, 1])
    assert interval.replicates == 3 and interval.low <= 11.5 <= interval.high
    with pytest.raises(ValueError, match="do not add up"):
        nested_median(samples, [3, 3])


# ---------------------------------------------------------------------------------------------
# Family A: processes first, then rounds


def two_close_entries(seed: int, processes: int = 4, rounds: int = 20):
    """Two entries 3% apart on latency, 5% between processes and 1% within: the order is not
    knowable from four processes, though each process's rounds are tight."""
    from frontierbench.reliability.assess import BoardSamples, ObjectiveSpec

    rng = np.random.default_rng(seed)
    rounds_of = []
    for median in (0.0100, 0.0103):
        units = [median * rng.lognormal(0, 0.05) * rng.lognormal(0, 0.01, rounds) for _ in range(processes)]
        rounds_of.append(np.concatenate(units))
    accuracy = np.stack([np.ones(50), np.ones(50)])
    make = lambda units: BoardSamples(  # noqa: E731
        entries=["a", "b"], objectives=[ObjectiveSpec("latency", False), ObjectiveSpec("accuracy", True)],
        primary="latency", cost_rounds={"latency": rounds_of}, quality_items={"accuracy": accuracy},
        cost_units=units)
    return make({"latency": [[rounds] * processes] * 2}), make({})


def test_family_a_resamples_processes_so_an_unknowable_order_is_not_called_certain():
    from frontierbench.reliability.assess import assess

    uncertain = 0
    for seed in range(5):
        nested, flat = two_close_entries(seed)
        nested_a = {f.family: f for f in assess(nested, draws=400, budget=False).families}["A"]
        flat_a = {f.family: f for f in assess(flat, draws=400, budget=False).families}["A"]
        assert flat_a.note is not None and nested_a.note is None
        assert nested_a.one_process_entries == [] and flat_a.one_process_entries == ["a", "b"]
        assert nested_a.leader_agreement <= flat_a.leader_agreement
        uncertain += nested_a.dior_leader < 0.95
    assert uncertain >= 4  # with processes resampled, the leader is rarely certain


def test_one_process_entries_draw_exactly_as_before():
    from frontierbench.reliability.assess import assess

    nested, flat = two_close_entries(0, processes=1)
    one = nested
    one.cost_units = {"latency": [None, [20]]}
    assert assess(one, draws=200, budget=False) == assess(flat, draws=200, budget=False)
    report = assess(one, draws=200, budget=False)
    assert {e.processes for e in report.entries.values()} == {1}



def test_ragged_processes_are_resampled_within_their_own_sizes():
    from frontierbench.reliability.assess import BoardSamples, ObjectiveSpec, assess

    # Entry "a": three processes of 2, 5 and 3 rounds; every draw is a median of process medians,
    # so it lies between the lowest and the highest process.
    a = np.array([1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0])
    b = np.full(6, 10.0)
    samples = BoardSamples(entries=["a", "b"], objectives=[ObjectiveSpec("latency", False)], primary="latency",
                           cost_rounds={"latency": [a, b]}, cost_units={"latency": [[2, 5, 3], [3, 3]]})
    report = assess(samples, draws=300, budget=True)
    low, high = report.entries["a"].intervals["latency"]
    assert 1.0 <= low <= 2.0 <= high <= 3.0 and low < high
    assert report.entries["a"].values["latency"] == 2.0
    assert report.entries["a"].processes == 3
    with pytest.raises(ValueError, match="do not add up"):
        BoardSamples(entries=["a", "b"], objectives=[ObjectiveSpec("latency", False)], primary="latency",
                     cost_rounds={"latency": [a, b]}, cost_units={"latency": [[2, 5], [3, 3]]})


# ---------------------------------------------------------------------------------------------
# Shown honestly: site badge, check, terminal summary


def test_site_and_check_flag_one_process_entries(workdir, capsys):
    from frontierbench.cli import main as cli
    from frontierbench.site import views

    truth = {"a": 0.010, "b": 0.020, "c": 0.030}
    for record in replicated_runs(truth, seed=1, runs=1, rounds=20):
        save_run(record, workdir / "one" / f"{record.run_id}.json")
    for record in replicated_runs(truth, seed=2, runs=3, rounds=20):
        save_run(record, workdir / "three" / f"{record.run_id}.json")
    for folder in ("one", "three"):
        assert cli(["aggregate", folder, "-o", f"lb-{folder}", "--boards", "leaderboards", "--draws", "200"]) == 0
    capsys.readouterr()
    from frontierbench.formats.leaderboard import load_leaderboard

    for folder, flagged in (("one", True), ("three", False)):
        board = load_leaderboard(f"lb-{folder}/toy/leaderboard.json")
        group = board.groups[0]
        badges = {e.name: views.entry_badges(e, group) for e in group.entries}
        assert all(("one-process" in b) == flagged for b in badges.values()), badges
        family_a = next(f for f in group.reliability.families if f.family == "A")
        assert (family_a.one_process_entries == ["a", "b", "c"]) == flagged
        assert {e.processes for e in group.reliability.entries.values()} == ({1} if flagged else {3})
        cli(["check", f"lb-{folder}/toy/leaderboard.json"])
        out = " ".join(capsys.readouterr().out.split())
        assert ("run-to-run variation not measured" in out) == flagged, out
    assert "one-process" in views.BADGES and ONE_PROCESS_NOTE in views.BADGES["one-process"][1]


def test_the_terminal_summary_says_what_its_intervals_cover():
    from frontierbench.capture.summary import interval_scope_line

    one = [{"outcome": "passed"}, {"outcome": "passed"}]
    assert ONE_PROCESS_NOTE in interval_scope_line(one)
    workers = [{"outcome": "passed", "process": p} for p in range(4)]
    assert "pools the 4 processes" in interval_scope_line(workers)
