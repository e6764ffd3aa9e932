"""Sharding a board across runners with pytest-split: each case runs in exactly one shard, and the
shards' run records merge into one leaderboard (what benchmarks.yml's matrix does)."""

from __future__ import annotations

import json

import pytest

from factories import board_definition, write_board
from frontierbench.cli import main as cli

pytest.importorskip("pytest_split", reason="pytest-split is not installed (pip install pytest-split)")

SUITE = """
import pytest

@pytest.mark.frontier(board="toy")
@pytest.mark.parametrize("variant", ["a", "b", "c", "d", "e"])
def test_variant(frontier, variant):
    frontier.entry(variant)
    frontier.quality("accuracy", per_item=[1, 0, 1, 1])
    frontier.measure(sum, range(1000), rounds=3, warmup_rounds=0)
"""


def test_two_shards_run_disjoint_cases_whose_records_merge(pytester, run_frontier, tmp_path):
    pytester.makepyfile(test_cases=SUITE)
    durations = {f"test_cases.py::test_variant[{v}]": seconds for v, seconds in zip("abcde", (5, 1, 1, 1, 1))}
    (pytester.path / "durations.json").write_text(json.dumps(durations))
    shards = [run_frontier("--splits", "2", "--group", str(group), "--durations-path", "durations.json")
              for group in (1, 2)]
    cases = [{c["entry"] for c in shard.record["cases"]} for shard in shards]
    assert cases[0] == {"a"} and cases[1] == {"b", "c", "d", "e"}  # split by recorded duration
    assert shards[0].record["run_id"] != shards[1].record["run_id"]

    write_board(tmp_path / "boards", board_definition("toy"))
    out = tmp_path / "out"
    assert cli(["aggregate", str(shards[0].record_path), str(shards[1].record_path), "--boards",
                str(tmp_path / "boards"), "-o", str(out), "--no-reliability"]) == 0
    board = json.loads((out / "toy" / "leaderboard.json").read_text())
    assert sorted(e["name"] for e in board["groups"][0]["entries"]) == ["a", "b", "c", "d", "e"]
    assert len(board["inputs"]) == 2
