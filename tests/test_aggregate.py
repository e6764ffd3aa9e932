"""`frontierbench aggregate`: pooling, grouping, frontier, provenance, reproducibility, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factories import board_definition, case, random_cases, run_record, write_board
from frontierbench.aggregate.pipeline import AggregateWarning, aggregate
from frontierbench.formats.board import load_boards
from frontierbench.cli import main as cli
from frontierbench.formats.leaderboard import load_leaderboard
from frontierbench.formats.run import RecordError, save_run


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A project folder: leaderboards/toy/board.toml and an empty runs/; cwd is the folder."""
    monkeypatch.chdir(tmp_path)
    write_board(tmp_path / "leaderboards", board_definition("toy"))
    (tmp_path / "runs").mkdir()
    return tmp_path


def save(record, name: str | None = None) -> Path:
    return save_run(record, Path("runs") / f"{name or record.run_id}.json")


def run_aggregate(*inputs, **kwargs):
    return aggregate(list(inputs) or ["runs"], load_boards("leaderboards"), draws=200, seed=0, **kwargs)


def entry(board, name, group=0):
    return next(e for e in board.groups[group].entries if e.name == name)


# ---------------------------------------------------------------------------------------------
# Estimates and intervals on known data


def test_repeated_runs_are_pooled_with_their_spread(workdir):
    save(run_record([case("a", wall_time=[1, 2, 3], accuracy=[1, 0, 1, 1], energy=1.0)],
                    run_id="r1", started_at="2024-01-01T00:00:00Z"))
    save(run_record([case("a", wall_time=[4, 5, 6], accuracy=[1, 0, 1, 1], energy=3.0)],
                    run_id="r2", started_at="2024-01-02T00:00:00Z"))
    a = entry(run_aggregate()["toy"], "a")
    wall = a.metrics["wall_time"]
    # Two runs are two processes: the median of their medians, a t-interval over the two runs.
    assert (wall.value, wall.estimator, wall.interval, wall.sample_kind, wall.n) == \
        (3.5, "median", "t", "rounds", 6)
    assert (wall.interval_scope, wall.replicates, wall.unit_sizes) == ("between processes", 2, [3, 3])
    assert wall.low < 2 and wall.high > 5  # one degree of freedom: wide, and honest about it
    assert wall.samples == [1, 2, 3, 4, 5, 6]  # rounds of both runs, in run order
    assert wall.run_values == [2, 5]
    assert wall.run_spread == pytest.approx(3 / 3.5, rel=1e-6)
    # The same four items scored twice are still four items: pooled item-wise, not concatenated.
    accuracy = a.metrics["accuracy"]
    assert (accuracy.value, accuracy.estimator, accuracy.interval, accuracy.n) == (0.75, "mean", "bootstrap", 4)
    assert accuracy.low <= 0.75 <= accuracy.high
    # No samples, two runs: the median over runs, and the runs' values are its samples.
    energy = a.metrics["energy"]
    assert (energy.value, energy.sample_kind, energy.run_values) == (2.0, "runs", [1.0, 3.0])
    assert (energy.samples, energy.interval, energy.replicates) == ([1.0, 3.0], "t", 2)
    assert [h.run_id for h in a.history] == ["r1", "r2"]
    assert a.history[1].values["wall_time"] == 5 and a.history[1].git_commit == "0" * 40


def test_single_value_is_reported_as_a_value(workdir):
    save(run_record([case("a", wall_time=0.5, accuracy=0.9, energy=2.0)]))
    a = entry(run_aggregate()["toy"], "a")
    assert a.metrics["wall_time"].estimator == "value"
    assert a.metrics["wall_time"].interval == "none"
    assert a.metrics["wall_time"].value == 0.5
    assert a.metrics["wall_time"].interval_note == "within one process: run-to-run variation not measured"


# ---------------------------------------------------------------------------------------------
# Grouping: never mix hardware classes or board versions


def test_hardware_classes_and_board_versions_are_separate_groups(workdir):
    save(run_record([case("a", wall_time=[1.0] * 6, accuracy=[1, 1], energy=1.0)], run_id="cpu-a",
                    hardware_class="cpu-a"))
    save(run_record([case("a", wall_time=[9.0] * 6, accuracy=[1, 1], energy=1.0),
                     case("b", wall_time=[2.0] * 6, accuracy=[1, 0], energy=1.0, hardware_class="cuda-h100")],
                    run_id="cpu-b", hardware_class="cpu-b"))
    save(run_record([case("a", wall_time=[5.0] * 6, accuracy=[1, 1], energy=1.0)], run_id="old",
                    hardware_class="cpu-a", board_versions={"toy": "0"}))
    board = run_aggregate()["toy"]
    keys = [(g.hardware_class, g.board_version) for g in board.groups]
    assert keys == [("cpu-a", "0"), ("cpu-a", "1"), ("cpu-b", "1"), ("cuda-h100", "1")]
    for group in board.groups:
        for e in group.entries:
            assert len(e.runs) == 1  # nothing pooled across groups
    assert entry(board, "a", group=1).metrics["wall_time"].value == 1.0
    assert any("board version 0" in note for note in board.groups[0].notes)


def test_a_board_without_board_toml_is_inferred_and_strict_refuses_it_by_file_and_field(workdir):
    save(run_record([case("a", wall_time=[1.0], energy=1.0), case("x", board="nowhere", wall_time=[1.0, 1.1])]))
    with pytest.warns(AggregateWarning, match="'nowhere' has no board.toml; inferred objectives wall_time"):
        boards = run_aggregate()
    assert list(boards) == ["nowhere", "toy"]
    inferred = boards["nowhere"]
    assert inferred.inferred and not boards["toy"].inferred
    assert inferred.to_json_dict()["inferred"] is True and "inferred" not in boards["toy"].to_json_dict()
    assert [o.metric for o in inferred.objectives] == ["wall_time"] and inferred.primary == "wall_time"
    assert inferred.groups[0].hypervolume is None and inferred.groups[0].frontier == []
    with pytest.raises(RecordError, match=r"runs/.*\.json: field 'cases.1.board': board 'nowhere' has no board.toml"):
        run_aggregate(strict=True)


def test_failed_cases_are_noted_not_ranked(workdir):
    save(run_record([case("a", wall_time=[1.0], accuracy=[1.0], energy=1.0),
                     case("b", outcome="failed", error="Traceback...\nValueError: boom")]))
    group = run_aggregate()["toy"].groups[0]
    assert [e.name for e in group.entries] == ["a"]
    assert any("'b' failed" in note and "boom" in note for note in group.notes)


# ---------------------------------------------------------------------------------------------
# Frontier, derived metrics, provenance


def test_frontier_dominators_hypervolume_and_counterfactuals(workdir):
    save(run_record([
        case("fast", family="small", wall_time=[0.1] * 6, accuracy=[1, 0], energy=1.0),
        case("good", family="large", wall_time=[0.5] * 6, accuracy=[1, 1], energy=5.0),
        case("worse", family="large", wall_time=[0.6] * 6, accuracy=[1, 0], energy=6.0),
    ]))
    group = run_aggregate()["toy"].groups[0]
    assert group.frontier == ["fast", "good"]
    assert entry_by(group, "worse").dominated_by == ["fast", "good"]
    assert entry_by(group, "fast").on_front and not entry_by(group, "worse").on_front
    # Reference point (accuracy 0, wall_time 1, energy 100) is the board's, not the data's.
    assert group.hypervolume > 0
    assert group.counterfactual_frontiers == {"large": ["fast"], "small": ["good"]}
    assert group.reliability is not None and set(group.reliability.entries) == {"fast", "good", "worse"}


def entry_by(group, name):
    return next(e for e in group.entries if e.name == name)


def test_derived_metrics_are_marked_and_follow_the_formulas(workdir):
    save(run_record([case("a", wall_time=[2.0] * 6, accuracy=[1, 1, 1, 0], energy=40.0, items=4,
                          training_energy=1000.0)]))
    metrics = entry(run_aggregate()["toy"], "a").metrics
    assert metrics["wall_time_per_item"].value == 0.5 and metrics["energy_per_item"].value == 10
    assert metrics["energy_per_correct"].value == pytest.approx(10 / 0.75)
    assert metrics["wall_time_per_correct"].value == pytest.approx(0.5 / 0.75)
    assert metrics["accuracy_per_watt"].value == pytest.approx(0.75 / 20)
    assert metrics["full_cycle_energy_1000"].value == 1000 + 1000 * 10
    assert metrics["full_cycle_energy_1000000"].value == 1000 + 1_000_000 * 10
    for name in ("energy_per_correct", "accuracy_per_watt", "full_cycle_energy_1000"):
        assert metrics[name].estimator == "derived"
        assert metrics[name].provenance["method"] == "derived" and metrics[name].provenance["formula"]
        assert metrics[name].provenance["energy_method"] == "rapl"


def test_mixed_energy_methods_drop_energy_from_the_frontier(workdir):
    save(run_record([case("measured", wall_time=[1.0] * 6, accuracy=[1, 0], energy=1.0, energy_method="rapl"),
                     case("estimated", wall_time=[2.0] * 6, accuracy=[1, 0], energy=0.1,
                          energy_method="estimated")]))
    group = run_aggregate()["toy"].groups[0]
    assert group.energy_method == "mixed"
    assert entry_by(group, "estimated").energy_method == "estimated"
    assert any("estimated: estimated" in n and "rapl: measured" in n for n in group.notes)
    # Ranked on accuracy and time only, the cheaper "estimated" energy wins it nothing.
    assert group.frontier == ["measured"]


def test_an_entry_keeps_its_measured_energy_when_one_run_only_estimated(workdir):
    save(run_record([case("a", wall_time=[1.0], energy=2.0, energy_method="rapl")], run_id="r1",
                    started_at="2024-01-01T00:00:00Z"))
    save(run_record([case("a", wall_time=[1.0], energy=9.0, energy_method="estimated")], run_id="r2",
                    started_at="2024-01-02T00:00:00Z"))
    a = entry(run_aggregate()["toy"], "a")
    assert a.energy_method == "rapl"
    assert a.metrics["energy"].value == 2.0
    assert a.metrics["energy"].provenance["excluded_runs"] == ["r2"]


def test_entries_missing_an_objective_are_left_off_the_front_with_a_note(workdir):
    save(run_record([case("a", wall_time=[1.0], accuracy=[1.0], energy=1.0), case("b", wall_time=[0.1], energy=1.0)]))
    group = run_aggregate()["toy"].groups[0]
    assert group.frontier == ["a"]
    assert any("'b' lacks ['accuracy']" in note for note in group.notes)


# ---------------------------------------------------------------------------------------------
# Reproducibility


def test_output_is_byte_identical_on_a_rerun_and_independent_of_input_order(workdir):
    for i in range(3):
        save(run_record(random_cases(["a", "b", "c"], seed=i), run_id=f"r{i}",
                        started_at=f"2024-01-0{i + 1}T00:00:00Z", finished_at=f"2024-01-0{i + 1}T01:00:00Z"))
    assert cli(["aggregate", "runs", "-o", "leaderboards", "--draws", "200"]) == 0
    path = Path("leaderboards/toy/leaderboard.json")
    first = path.read_bytes()
    assert cli(["aggregate", "runs/r2.json", "runs/r0.json", "runs/r1.json", "-o", "leaderboards",
                "--draws", "200"]) == 0
    assert path.read_bytes() == first
    board = load_leaderboard(path)
    assert board.generated_at == "2024-01-03T01:00:00Z"  # the newest input, not the clock
    assert [i.path for i in board.inputs] == ["runs/r0.json", "runs/r1.json", "runs/r2.json"]
    for item in board.inputs:
        import hashlib
        assert item.sha256 == hashlib.sha256(Path(item.path).read_bytes()).hexdigest()
    text = first.decode()
    assert str(workdir) not in text


# ---------------------------------------------------------------------------------------------
# Bad input: a clear error naming file and field, exit 2, nothing overwritten


@pytest.fixture
def published(workdir):
    save(run_record([case("a", wall_time=[1.0], accuracy=[1.0], energy=1.0)], run_id="good"))
    assert cli(["aggregate", "runs", "-o", "leaderboards"]) == 0
    path = Path("leaderboards/toy/leaderboard.json")
    return path, path.read_bytes()


def good_json() -> dict:
    return run_record([case("b", wall_time=[2.0], energy=1.0)], run_id="new").to_json_dict()


@pytest.mark.parametrize("name, content, expected", [
    ("malformed.json", "{not json", ["malformed.json", "not valid JSON"]),
    ("truncated.json", json.dumps(good_json())[:-40], ["truncated.json", "not valid JSON"]),
    ("future.json", json.dumps({**good_json(), "schema": "frontierbench.run/99"}),
     ["future.json", "'schema'", "frontierbench.run/99"]),
    ("missing.json", json.dumps({k: v for k, v in good_json().items() if k != "run_id"}),
     ["missing.json", "'run_id'"]),
    ("badfield.json", json.dumps({**good_json(), "cases": [{**good_json()["cases"][0], "outcome": "great"}]}),
     ["badfield.json", "cases.0.outcome"]),
    ("traversal.json", json.dumps({**good_json(), "cases": [{**good_json()["cases"][0], "board": "../../etc"}]}),
     ["traversal.json", "cases.0.board", "not a safe slug"]),
])
def test_bad_input_is_named_exit_2_and_the_published_leaderboard_is_untouched(published, capsys, name, content,
                                                                            expected):
    path, before = published
    Path("runs", name).write_text(content)
    assert cli(["aggregate", "runs", "-o", "leaderboards"]) == 2
    err = capsys.readouterr().err
    for fragment in expected:
        assert fragment in err
    assert path.read_bytes() == before
    assert not list(path.parent.glob(".*.tmp"))


def test_path_traversal_default_board_is_refused(workdir):
    with pytest.raises(RecordError, match="not a safe slug"):
        run_aggregate(default_board="../x")


# ---------------------------------------------------------------------------------------------
# pytest-benchmark JSON


def pytest_benchmark_json(with_data: bool = True) -> dict:
    def bench(name, data, extra):
        stats_ = {"min": min(data), "max": max(data), "mean": sum(data) / len(data), "stddev": 0.0,
                  "rounds": len(data), "median": sorted(data)[len(data) // 2], "iqr": 0.0, "q1": min(data),
                  "q3": max(data), "iqr_outliers": 0, "stddev_outliers": 0, "outliers": "0;0",
                  "ld15iqr": min(data), "hd15iqr": max(data), "ops": 1 / data[0], "total": sum(data),
                  "iterations": 1}
        if with_data:
            stats_["data"] = data
        return {"group": None, "name": name, "fullname": f"tests/test_sort.py::{name}", "params": None,
                "param": None, "extra_info": extra, "options": {"disable_gc": False, "timer": "perf_counter",
                                                                 "min_rounds": 5, "max_time": 1.0,
                                                                 "min_time": 5e-06, "warmup": False},
                "stats": stats_}

    return {
        "machine_info": {"node": "ci", "processor": "x86_64", "machine": "x86_64", "python_version": "3.11.7",
                         "system": "Linux", "release": "6.1", "python_implementation": "CPython",
                         "cpu": {"brand_raw": "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", "count": 8,
                                 "arch_string_raw": "x86_64"}},
        "commit_info": {"id": "a" * 40, "time": "2024-03-01T10:00:00+00:00", "dirty": False,
                        "project": "demo", "branch": "main"},
        "benchmarks": [bench("test_sort[small]", [0.010, 0.011, 0.012, 0.010, 0.013, 0.011],
                             {"board": "toy", "accuracy": 0.8}),
                       bench("test_sort[big]", [0.020, 0.021, 0.022, 0.020, 0.023, 0.021], {}),
                       bench("test_other", [0.1, 0.1], {"board": "nowhere-else"})],
        "datetime": "2024-03-01T10:00:05.123456",
        "version": "4.0.0",
    }


def test_pytest_benchmark_json_is_imported(workdir):
    Path("runs/0001_bench.json").write_text(json.dumps(pytest_benchmark_json()))
    with pytest.warns(AggregateWarning, match="nowhere-else"):
        board = run_aggregate(default_board="toy")["toy"]
    group = board.groups[0]
    assert group.hardware_class == "cpu-x86_64-intel-r-xeon-r-platinum-8375c-cpu-2-90ghz-8t"
    assert group.energy_method == "unavailable"
    small = entry_by(group, "test_sort[small]")
    assert small.metrics["wall_time"].samples == [0.01, 0.011, 0.012, 0.01, 0.013, 0.011]
    assert small.metrics["wall_time"].value == 0.0110
    assert small.metrics["accuracy"].value == 0.8  # extra_info named like a board objective
    assert small.metrics["energy"].value is None
    assert board.inputs[0].format == "pytest-benchmark" and board.inputs[0].git_commit == "a" * 40
    assert any("energy" in note for note in group.notes)  # no entry has energy: not an objective here


def test_pytest_benchmark_summary_only_gives_a_value(workdir):
    Path("runs/bench.json").write_text(json.dumps(pytest_benchmark_json(with_data=False)))
    with pytest.warns(AggregateWarning):
        board = run_aggregate(default_board="toy")["toy"]
    wall = entry_by(board.groups[0], "test_sort[big]").metrics["wall_time"]
    assert (wall.estimator, wall.value, wall.samples) == ("value", 0.021, None)
    assert wall.provenance["summary_only"] is True


def test_pytest_benchmark_without_board_goes_to_its_module_board_inferred(workdir):
    Path("runs/bench.json").write_text(json.dumps(pytest_benchmark_json()))
    with pytest.warns(AggregateWarning, match="board 'sort' has no board.toml; inferred objectives wall_time"):
        boards = run_aggregate()
    assert [e.name for e in boards["toy"].groups[0].entries] == ["test_sort[small]"]
    sort = boards["sort"]  # tests/test_sort.py -> "sort", a one-objective ranking
    assert sort.inferred and [o.metric for o in sort.objectives] == ["wall_time"]
    assert [e.name for e in sort.groups[0].entries] == ["test_sort[big]"]


def test_malformed_pytest_benchmark_json_names_the_field(workdir):
    data = pytest_benchmark_json()
    del data["benchmarks"][1]["stats"]["median"]
    Path("runs/bench.json").write_text(json.dumps(data))
    with pytest.raises(RecordError, match=r"bench.json.*benchmarks.1.stats.median"):
        run_aggregate(default_board="toy")
