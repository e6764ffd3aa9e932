"""aggregate --cache: each record's tidy rows kept in Arrow files by sha256; the leaderboard is the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factories import board_definition, case, run_record, write_board
from history_factories import daily_history
from frontierbench.cli import main as cli
from frontierbench.formats.run import save_run


def aggregate(tmp_path, out, *extra):
    return cli(["aggregate", str(tmp_path / "runs"), "--boards", str(tmp_path / "leaderboards"), "-o",
                str(tmp_path / out), "--draws", "100", *extra])


def test_cached_and_uncached_leaderboards_are_byte_identical_and_the_cache_is_used(tmp_path, capsys):
    daily_history(tmp_path, runs=8, steady=3)
    assert aggregate(tmp_path, "plain") == 0
    assert aggregate(tmp_path, "cold", "--cache", str(tmp_path / "cache")) == 0
    cached = sorted(p.name for p in (tmp_path / "cache").glob("*.arrow"))
    assert len(cached) == 8 and all(name.endswith(".v5.arrow") for name in cached)
    assert aggregate(tmp_path, "warm", "--cache", str(tmp_path / "cache")) == 0
    plain = (tmp_path / "plain" / "toy" / "leaderboard.json").read_bytes()
    for out in ("cold", "warm"):
        assert (tmp_path / out / "toy" / "leaderboard.json").read_bytes() == plain
    # A damaged cache file is rebuilt from its record, not trusted.
    (tmp_path / "cache" / cached[0]).write_bytes(b"not arrow")
    assert aggregate(tmp_path, "repaired", "--cache", str(tmp_path / "cache")) == 0
    assert (tmp_path / "repaired" / "toy" / "leaderboard.json").read_bytes() == plain


def test_cached_runs_still_infer_boards_and_keep_failures_and_skipped_boards(tmp_path, capsys):
    write_board(tmp_path / "leaderboards", board_definition("toy"))
    cases = [case("a", wall_time=[0.01, 0.011, 0.012], accuracy=[1, 0, 1]),
             case("b", wall_time=[0.02, 0.021], outcome="failed", error="boom"),
             case("c", board="other", wall_time=[0.5, 0.6])]
    save_run(run_record(cases, run_id="r1"), tmp_path / "runs" / "r1.json")
    assert aggregate(tmp_path, "plain") == 0
    first = capsys.readouterr().err
    for out in ("cold", "warm"):
        assert aggregate(tmp_path, out, "--cache", str(tmp_path / "cache")) == 0
        assert capsys.readouterr().err == first  # the same warnings (the inferred board 'other')
        for board in ("toy", "other"):
            assert ((tmp_path / out / board / "leaderboard.json").read_bytes()
                    == (tmp_path / "plain" / board / "leaderboard.json").read_bytes())
    notes = json.loads((tmp_path / "warm" / "toy" / "leaderboard.json").read_text())["groups"][0]["notes"]
    assert any("'b' failed" in note and "boom" in note for note in notes)


def test_reliability_is_reassessed_only_for_groups_whose_inputs_changed(tmp_path, capsys):
    write_board(tmp_path / "leaderboards", board_definition("toy"))
    from factories import random_cases

    for i, hardware in enumerate(["cpu-a", "cpu-a", "cpu-b"]):
        save_run(run_record(random_cases(["x", "y", "z"], seed=i), run_id=f"r{i}", hardware_class=hardware,
                            started_at=f"2026-01-0{i + 1}T00:00:00+00:00"), tmp_path / "runs" / f"r{i}.json")
    assert aggregate(tmp_path, "before") == 0
    before = tmp_path / "before" / "toy" / "leaderboard.json"
    # Mark each stored report, so a reused one can be told from a recomputed one.
    data = json.loads(before.read_text())
    for group in data["groups"]:
        group["reliability"]["notes"] = ["stored report"]
    before.write_text(json.dumps(data))
    save_run(run_record(random_cases(["x", "y", "z"], seed=9), run_id="r9", hardware_class="cpu-b",
                        started_at="2026-01-09T00:00:00+00:00"), tmp_path / "runs" / "r9.json")
    assert aggregate(tmp_path, "after", "--reuse-reliability", str(tmp_path / "before")) == 0
    groups = {g["hardware_class"]: g for g in
              json.loads((tmp_path / "after" / "toy" / "leaderboard.json").read_text())["groups"]}
    assert groups["cpu-a"]["reliability"]["notes"] == ["stored report"]  # unchanged inputs: reused
    assert groups["cpu-b"]["reliability"]["notes"] != ["stored report"]  # a new run: assessed again
    # Reusing the genuine reports gives exactly what assessing everything gives.
    assert aggregate(tmp_path, "full") == 0
    assert aggregate(tmp_path, "again", "--reuse-reliability", str(tmp_path / "full")) == 0
    assert ((tmp_path / "again" / "toy" / "leaderboard.json").read_bytes()
            == (tmp_path / "full" / "toy" / "leaderboard.json").read_bytes())
    # A missing previous folder only means everything is assessed.
    assert aggregate(tmp_path, "fresh", "--reuse-reliability", str(tmp_path / "nowhere")) == 0


def test_unchanged_inputs_are_not_hashed_again_and_a_changed_one_is_read_anew(tmp_path, monkeypatch, capsys):
    from frontierbench.aggregate import file_hashes

    daily_history(tmp_path, runs=4, steady=2)
    assert aggregate(tmp_path, "too-new", "--cache", str(tmp_path / "cache")) == 0
    # Files written within the last RACY_SECONDS are not remembered (their times could still repeat).
    assert json.loads((tmp_path / "cache" / file_hashes.MEMO_NAME).read_text()) == {}
    monkeypatch.setattr(file_hashes, "RACY_SECONDS", 0)
    assert aggregate(tmp_path, "first", "--cache", str(tmp_path / "cache")) == 0
    memo = json.loads((tmp_path / "cache" / file_hashes.MEMO_NAME).read_text())
    assert len(memo) == 4 and all(len(entry) == 5 for entry in memo.values())

    hashed = []
    real_read = file_hashes.read_bytes
    monkeypatch.setattr(file_hashes, "read_bytes", lambda path: hashed.append(path) or real_read(path))
    assert aggregate(tmp_path, "second", "--cache", str(tmp_path / "cache")) == 0
    assert hashed == []  # every input's stat matched its remembered hash
    first = (tmp_path / "first" / "toy" / "leaderboard.json").read_bytes()
    assert (tmp_path / "second" / "toy" / "leaderboard.json").read_bytes() == first

    # Rewriting a record changes its change time: it is hashed and read again, and counts as it now is.
    record = sorted((tmp_path / "runs").glob("*.json"))[-1]
    record.write_text(record.read_text().replace('"status":"complete"', '"status":"interrupted"'))
    assert aggregate(tmp_path, "third", "--cache", str(tmp_path / "cache")) == 0
    assert [p.name for p in map(Path, hashed)] == [record.name]
    inputs = json.loads((tmp_path / "third" / "toy" / "leaderboard.json").read_text())["inputs"]
    statuses = [i["status"] for i in inputs]
    assert statuses.count("interrupted") == 1

    # A memo that says two files hold the same bytes is checked against the files, not believed.
    memo_path = tmp_path / "cache" / file_hashes.MEMO_NAME
    memo = json.loads(memo_path.read_text())
    first, second = sorted(memo)[:2]
    memo[second][4] = memo[first][4]
    memo_path.write_text(json.dumps(memo))
    hashed.clear()
    assert aggregate(tmp_path, "fourth", "--cache", str(tmp_path / "cache")) == 0
    assert "same content" not in capsys.readouterr().err and [str(p) for p in hashed] == [second]
    assert len(json.loads((tmp_path / "fourth" / "toy" / "leaderboard.json").read_text())["inputs"]) == 4


def test_a_damaged_cache_file_is_rebuilt_and_a_cache_that_cannot_be_written_is_only_read(tmp_path, capsys):
    import numpy as np

    from frontierbench.aggregate.cache import read_rows

    daily_history(tmp_path, runs=4, steady=2)
    assert aggregate(tmp_path, "plain") == 0
    plain = (tmp_path / "plain" / "toy" / "leaderboard.json").read_bytes()
    assert aggregate(tmp_path, "cold", "--cache", str(tmp_path / "cache")) == 0
    # One sample's bytes changed in place: the file still parses, but not to what was written.
    damaged = sorted((tmp_path / "cache").glob("*.arrow"))[0]
    first = next(v for v in read_rows(damaged, "x", "y").rows.samples if v not in (0.0, 1.0))  # a timing
    raw = damaged.read_bytes()
    assert raw.count(np.float64(first).tobytes()) == 1
    damaged.write_bytes(raw.replace(np.float64(first).tobytes(), np.float64(first * 100).tobytes()))
    with pytest.raises(ValueError, match="does not match its checksum"):
        read_rows(damaged, "x", "y")
    assert aggregate(tmp_path, "repaired", "--cache", str(tmp_path / "cache")) == 0
    assert (tmp_path / "repaired" / "toy" / "leaderboard.json").read_bytes() == plain

    # A --cache that is a file, not a folder: said once, and the aggregate still succeeds.
    (tmp_path / "not-a-folder").write_text("x")
    capsys.readouterr()
    assert aggregate(tmp_path, "uncached", "--cache", str(tmp_path / "not-a-folder")) == 0
    err = capsys.readouterr().err
    assert err.count("--cache") == 1 and "cannot write there" in err and "not-a-folder" in err
    assert (tmp_path / "uncached" / "toy" / "leaderboard.json").read_bytes() == plain
