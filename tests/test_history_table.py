"""A leaderboard writes each entry's history as a table (schema 2): a row per point, the run's start
time and commit taken from the leaderboard's inputs. Readers get the same points back."""

from __future__ import annotations

import json

import pytest

from factories import board_definition, case, run_record, write_board
from frontierbench.aggregate import aggregate, write_leaderboards
from frontierbench.formats.board import load_boards
from frontierbench.formats.leaderboard import load_leaderboard, save_leaderboard
from frontierbench.formats.run import RecordError, save_run


def history_leaderboard(tmp_path, runs: int = 4):
    """A leaderboard of `runs` daily runs of two entries, each run at its own commit."""
    write_board(tmp_path / "boards", board_definition("toy"))
    files = []
    for r in range(runs):
        cases = [case(name, wall_time=[0.01 * (r + 1), 0.011 * (r + 1)], accuracy=[1.0, 0.0, 1.0], energy=2.0 + r)
                 for name in ("a", "b")]
        record = run_record(cases, run_id=f"run-{r}", started_at=f"2024-03-{r + 1:02d}T00:00:00+00:00")
        record.environment.git = {"commit": f"{r:040x}", "branch": "main", "dirty": False}
        files.append(save_run(record, tmp_path / "runs" / f"run-{r}.json"))
    [board] = aggregate(files, load_boards(tmp_path / "boards"), draws=50, warn=lambda message: None).values()
    [path] = write_leaderboards({"toy": board}, tmp_path / "out")
    return board, path


def test_a_history_is_written_as_rows_and_read_back_as_its_points(tmp_path):
    board, path = history_leaderboard(tmp_path)
    data = json.loads(path.read_text())
    assert data["schema"] == "frontierbench.leaderboard/2"
    history = data["groups"][0]["entries"][0]["history"]
    assert history["metrics"] == ["accuracy", "energy", "wall_time"]
    assert history["points"][0] == ["run-0", 0.6666667, 2.0, 0.0105]  # run id, then each metric's value
    assert history["points"][3][0] == "run-3"

    loaded = load_leaderboard(path)
    assert loaded == board
    point = loaded.groups[0].entries[0].history[3]
    assert (point.run_id, point.started_at, point.git_commit, point.board_version) == (
        "run-3", "2024-03-04T00:00:00+00:00", f"{3:040x}", "1")
    assert point.values == {"accuracy": 0.6666667, "energy": 5.0, "wall_time": 0.042}


def test_a_point_that_says_more_than_a_row_is_written_whole(tmp_path):
    board, path = history_leaderboard(tmp_path)
    history = board.groups[0].entries[0].history
    history[0].__pydantic_extra__["note"] = "re-run after a driver update"  # a field of its own
    history[1].git_commit = "f" * 40  # not the commit its input run says
    history[2].values.pop("energy")  # one metric fewer than the others
    history.append(history[3].model_copy(update={"run_id": "elsewhere"}))  # a run that is not an input
    save_leaderboard(board, path)

    points = json.loads(path.read_text())["groups"][0]["entries"][0]["history"]["points"]
    assert [type(point).__name__ for point in points] == ["dict", "dict", "dict", "list", "dict"]
    assert points[0]["note"] == "re-run after a driver update"
    assert load_leaderboard(path) == board


def test_a_table_is_a_fraction_of_the_objects_it_replaces(tmp_path):
    board, path = history_leaderboard(tmp_path, runs=9)
    as_objects = [point.model_dump(mode="json") for point in board.groups[0].entries[0].history]
    as_table = json.loads(path.read_text())["groups"][0]["entries"][0]["history"]
    size = len(json.dumps(as_table, separators=(",", ":")))
    assert size < len(json.dumps(as_objects, separators=(",", ":"))) / 3


def test_a_schema_1_leaderboard_with_histories_as_objects_is_read_as_it_is(tmp_path):
    board, path = history_leaderboard(tmp_path)
    data = json.loads(path.read_text())
    data["schema"] = "frontierbench.leaderboard/1"
    for group, group_data in zip(board.groups, data["groups"]):
        for entry, entry_data in zip(group.entries, group_data["entries"]):
            entry_data["history"] = [point.model_dump(mode="json") for point in entry.history]
    path.write_text(json.dumps(data))
    assert load_leaderboard(path) == board


@pytest.mark.parametrize("metrics", [["accuracy", "accuracy", "wall_time"], ["wall_time", "energy", "accuracy"]])
def test_table_metrics_named_twice_or_out_of_order_are_refused(tmp_path, metrics):
    _, path = history_leaderboard(tmp_path)
    data = json.loads(path.read_text())
    data["groups"][0]["entries"][1]["history"]["metrics"] = metrics
    path.write_text(json.dumps(data))
    with pytest.raises(RecordError, match=r"'groups\.0\.entries\.1\.history\.metrics': must be metric names, sorted"):
        load_leaderboard(path)


@pytest.mark.parametrize("row, problem", [
    (["run-9", 1.0, 2.0, 0.01], r"': its run id is not one of the leaderboard's inputs"),
    (["run-0", 1.0, 2.0], r"': a row must be \[run id, then a finite number or null for each of"),
    (["run-0", "1.0", 2.0, 0.01], r"': a row must be \[run id"),
    (["run-0", True, 2.0, 0.01], r"': a row must be \[run id"),
    ({"run_id": "run-0", "values": {}}, r"\.started_at': Field required"),  # a whole point, checked as one
])
def test_a_bad_row_is_refused_naming_the_file_and_field(tmp_path, row, problem):
    _, path = history_leaderboard(tmp_path)
    data = json.loads(path.read_text())
    data["groups"][0]["entries"][1]["history"]["points"][2] = row
    path.write_text(json.dumps(data))
    where = r"leaderboard\.json: field 'groups\.0\.entries\.1\.history\.points\.2"
    with pytest.raises(RecordError, match=where + problem):
        load_leaderboard(path)


@pytest.mark.parametrize("spoil, field", [
    (lambda entry: entry.metrics["wall_time"].run_values.__setitem__(9, float("nan")),
     r"groups\.0\.entries\.0\.metrics\.wall_time\.run_values\.9' is nan"),
    (lambda entry: entry.metrics["energy"].provenance.update(meter={"watts": [1.0, float("inf")]}),
     r"groups\.0\.entries\.0\.metrics\.energy\.provenance\.meter\.watts\.1' is inf"),
])
def test_a_number_json_cannot_hold_is_refused_naming_its_field(tmp_path, spoil, field):
    board, path = history_leaderboard(tmp_path, runs=10)
    before = path.read_bytes()
    spoil(board.groups[0].entries[0])
    with pytest.raises(ValueError, match=field):
        save_leaderboard(board, path)
    assert path.read_bytes() == before  # the file written before is left as it was
