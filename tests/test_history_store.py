"""`frontierbench history`: a folder of run records that accumulates, and publishing from it."""

from __future__ import annotations

import json
import shutil

import pytest

from history_factories import daily_history
from frontierbench.cli import main as cli


@pytest.fixture
def new_runs(tmp_path):
    return daily_history(tmp_path / "src", runs=6, steady=2)


def stored(history):
    return sorted(p.name for p in (history / "runs").rglob("*.json"))


def test_add_stores_one_file_per_run_by_hardware_class_and_is_idempotent(tmp_path, new_runs, capsys):
    history = tmp_path / "history"
    assert cli(["history", "add", *map(str, new_runs[:4]), "--to", str(history)]) == 0
    assert cli(["history", "add", str(new_runs[0].parent), "--to", str(history)]) == 0  # 2 new, 4 known
    assert stored(history) == [f"run-{i:02d}.json" for i in range(1, 7)]
    [folder] = (history / "runs").iterdir()
    assert folder.name == "cpu-x86_64-test-cpu-4t"
    assert (folder / "run-03.json").read_bytes() == new_runs[2].read_bytes()  # byte for byte
    assert "stored 2 new" in capsys.readouterr().out


def test_a_run_id_stored_with_other_content_is_an_error_naming_both(tmp_path, new_runs, capsys):
    history = tmp_path / "history"
    assert cli(["history", "add", str(new_runs[0]), "--to", str(history)]) == 0
    changed = json.loads(new_runs[0].read_text())
    changed["status"] = "interrupted"
    impostor = tmp_path / "impostor.json"
    impostor.write_text(json.dumps(changed))
    assert cli(["history", "add", str(impostor), "--to", str(history)]) == 2
    err = capsys.readouterr().err
    assert "impostor.json" in err and "run-01.json" in err and "'run-01'" in err


def test_prune_keeps_days_before_the_newest_record_and_runs_per_class(tmp_path, new_runs):
    history = tmp_path / "history"
    cli(["history", "add", str(new_runs[0].parent), "--to", str(history)])
    assert cli(["history", "prune", str(history), "--keep-days", "3"]) == 0  # newest: Jan 6
    assert stored(history) == ["run-03.json", "run-04.json", "run-05.json", "run-06.json"]
    assert cli(["history", "prune", str(history), "--keep-runs", "2"]) == 0
    assert stored(history) == ["run-05.json", "run-06.json"]
    assert cli(["history", "prune", str(history), "--keep-days", "0"]) == 2


def test_latest_finds_the_newest_stored_run_of_the_new_runs_hardware_class(tmp_path, new_runs, capsys):
    history = tmp_path / "history"
    cli(["history", "add", *map(str, new_runs[:5]), "--to", str(history)])
    capsys.readouterr()
    assert cli(["history", "latest", str(history), "--like", str(new_runs[5])]) == 0
    assert capsys.readouterr().out.strip().endswith("run-05.json")
    assert cli(["history", "latest", str(history), "--like", str(new_runs[5]), "--branch", "elsewhere"]) == 1


def test_publishing_names_and_skips_corrupt_and_future_schema_files(tmp_path, new_runs, capsys):
    history = tmp_path / "history"
    cli(["history", "add", str(new_runs[0].parent), "--to", str(history)])
    folder = next((history / "runs").iterdir())
    (folder / "corrupt.json").write_text('{"schema": "frontierbench.run/1", "run_id": ')
    future = json.loads(new_runs[0].read_text())
    future.update(schema="frontierbench.run/99", run_id="from-the-future")
    (folder / "future.json").write_text(json.dumps(future))
    boards = str(tmp_path / "src" / "leaderboards")
    out = str(tmp_path / "out")
    assert cli(["aggregate", str(history), "--boards", boards, "-o", out, "--no-reliability"]) == 2
    capsys.readouterr()
    assert cli(["aggregate", str(history), "--boards", boards, "-o", out, "--no-reliability", "--skip-invalid"]) == 0
    err = capsys.readouterr().err
    assert "corrupt.json" in err and "future.json" in err and err.count("skipped (--skip-invalid)") == 2
    board = json.loads((tmp_path / "out" / "toy" / "leaderboard.json").read_text())
    assert len(board["inputs"]) == 6  # every good record counted
    # `history add` also reads past the bad files it finds already stored.
    shutil.copy(new_runs[0], tmp_path / "again.json")
    assert cli(["history", "add", str(tmp_path / "again.json"), "--to", str(history)]) == 0
    assert "skipped" in capsys.readouterr().err


def test_aggregate_refuses_two_records_with_one_run_id_and_different_content_naming_both(tmp_path, new_runs, capsys):
    changed = json.loads(new_runs[1].read_text())
    changed["run_id"] = "run-01"
    (tmp_path / "copy").mkdir()
    twin = tmp_path / "copy" / "twin.json"
    twin.write_text(json.dumps(changed))
    boards = str(tmp_path / "src" / "leaderboards")
    assert cli(["aggregate", str(new_runs[0]), str(twin), "--boards", boards, "-o", str(tmp_path / "out"),
                "--skip-invalid"]) == 2
    err = capsys.readouterr().err
    assert "run-01.json" in err and "twin.json" in err and "'run-01'" in err
