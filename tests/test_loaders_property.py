"""Property: the loaders and `aggregate` meet any damage to a valid file with a RecordError.

Hypothesis damages valid run records and leaderboards: a value anywhere replaced by any JSON value
(NaN, infinities, huge numbers, strings, booleans, nesting, lone surrogates), a key removed, the
bytes cut short or spliced. Whatever it makes, loading either works or raises RecordError (or a
subclass) naming the file; nothing else escapes. What aggregate accepts, it writes, and what it
writes loads back.
"""

from __future__ import annotations

import copy
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories import board_definition, random_cases, run_record, write_board
from frontierbench.aggregate.pipeline import aggregate, write_leaderboards
from frontierbench.formats.board import load_boards
from frontierbench.formats.leaderboard import load_leaderboard, parse_leaderboard
from frontierbench.formats.run import RecordError, load_run, parse_run, save_run

# Derandomized: CI runs the same examples every time, so main stays green or fails for a reason
# (widen the search locally with --hypothesis-seed and derandomize=False).
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

json_scalars = (st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
                | st.floats(allow_nan=True, allow_infinity=True)
                | st.sampled_from([0, -1, 1e300, 1e305, -1e308, 1.7976931348623157e308, 5e-324, "", "0.5",
                                   "2024-13-45", "yesterday", "a\ud800b", "../x"])
                | st.text(max_size=8))
json_values = st.recursive(json_scalars, lambda children: st.lists(children, max_size=3)
                           | st.dictionaries(st.text(max_size=5), children, max_size=3), max_leaves=6)


def paths_of(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into the document (only the first two items of a long list)."""
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths_of(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data[:2]):
            found += paths_of(value, (*prefix, i))
    return found


def damaged(draw, valid: dict[str, Any], paths: list[tuple]) -> dict[str, Any]:
    """One to three damages: a value replaced, or a key removed."""
    data = copy.deepcopy(valid)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        node = data
        try:
            for part in path[:-1]:
                node = node[part]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier damage removed or replaced the way there
        if not path:
            data = draw(json_values)
            continue
        if isinstance(node, dict) and draw(st.booleans()):
            node.pop(path[-1], None)
        elif isinstance(node, dict) or (isinstance(node, list) and isinstance(path[-1], int)
                                        and path[-1] < len(node)):
            node[path[-1]] = draw(json_values)
    return data


def dump(data: Any) -> bytes:
    return json.dumps(data, allow_nan=True).encode("utf-8", "surrogatepass")


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    root = tmp_path_factory.mktemp("valid")
    write_board(root / "boards", board_definition("toy"))
    record = run_record(random_cases(["fp32", "int8", "pruned"], seed=0, rounds=5, items=10), run_id="good")
    save_run(record, root / "runs" / "good.json")
    boards = load_boards(root / "boards")
    leaderboards = aggregate([root / "runs" / "good.json"], boards, draws=20, reliability=True)
    path = write_leaderboards(leaderboards, root / "lb")[0]
    run_data = json.loads((root / "runs" / "good.json").read_text())
    board_data = json.loads(path.read_text())
    return {"boards": boards, "run": run_data, "run_paths": paths_of(run_data),
            "leaderboard": board_data, "leaderboard_paths": paths_of(board_data)}


def damaged_documents(document: dict[str, Any], paths: list[tuple]) -> st.SearchStrategy:
    return st.composite(lambda draw: damaged(draw, document, paths))()


def spliced_bytes(document: dict[str, Any]) -> st.SearchStrategy:
    """The valid file's bytes cut short, or with a few bytes put in or replaced."""
    raw = dump(document)

    @st.composite
    def splice(draw):
        at = draw(st.integers(0, len(raw)))
        how = draw(st.sampled_from(["cut", "insert", "replace"]))
        if how == "cut":
            return raw[:at]
        junk = draw(st.binary(min_size=1, max_size=4) | st.sampled_from([b"[" * 5000, b"NaN", b"1e999", b"\xff"]))
        return raw[:at] + junk + raw[at + (len(junk) if how == "replace" else 0):]

    return splice()


def only_record_errors(load, *args) -> Any:
    try:
        return load(*args)
    except RecordError:
        return None


def test_the_valid_files_load(valid):
    assert parse_run(valid["run"], "good.json").cases
    assert parse_leaderboard(valid["leaderboard"], "leaderboard.json").groups


def test_damaged_run_records_load_or_raise_record_error(valid):
    @SETTINGS
    @given(damaged_documents(valid["run"], valid["run_paths"]))
    def check(data):
        record = only_record_errors(parse_run, data, "damaged.json")
        if record is not None:  # accepted: then it is plain, finite JSON that can be written back
            json.dumps(record.to_json_dict(), allow_nan=False).encode("utf-8")

    check()


def test_damaged_leaderboards_load_or_raise_record_error(valid):
    @SETTINGS
    @given(damaged_documents(valid["leaderboard"], valid["leaderboard_paths"]))
    def check(data):
        board = only_record_errors(parse_leaderboard, data, "damaged.json")
        if board is not None:
            json.dumps(board.to_json_dict(), allow_nan=False).encode("utf-8")

    check()


def test_damaged_bytes_load_or_raise_record_error(valid):
    @SETTINGS
    @given(spliced_bytes(valid["run"]), spliced_bytes(valid["leaderboard"]))
    def check(run_bytes, board_bytes):
        with tempfile.TemporaryDirectory() as tmp:
            run_path, board_path = Path(tmp) / "run.json", Path(tmp) / "leaderboard.json"
            run_path.write_bytes(run_bytes)
            board_path.write_bytes(board_bytes)
            only_record_errors(load_run, run_path)
            only_record_errors(load_leaderboard, board_path)

    check()


def test_aggregate_of_damaged_records_writes_what_loads_or_raises_record_error(valid):
    @settings(SETTINGS, max_examples=100)
    @given(damaged_documents(valid["run"], valid["run_paths"]))
    def check(data):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "damaged.json"
            path.write_bytes(dump(data))
            try:
                leaderboards = aggregate([path], valid["boards"], draws=20, warn=lambda message: None)
                written = write_leaderboards(leaderboards, Path(tmp) / "out")
            except RecordError as error:
                assert "damaged.json" in str(error) or "leaderboard.json" in str(error)
                return
            for file in written:  # what aggregate writes, the loader reads back
                board = load_leaderboard(file)
                assert all(math.isfinite(e.metrics[m].value) for g in board.groups for e in g.entries
                           for m in e.metrics if e.metrics[m].value is not None)

    check()
