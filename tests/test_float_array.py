"""FloatArray: a list of floats held as its float64 array, in the leaderboards aggregate writes at once."""

from __future__ import annotations

import numpy as np
import orjson

from frontierbench.formats.float_array import FloatArray


def test_it_reads_like_the_list_it_stands_for():
    values = np.array([0.5, 1.25, 3.0])
    held = FloatArray(values)
    assert len(held) == 3 and held and not FloatArray(np.zeros(0))
    assert held[1] == 1.25 and type(held[1]) is float and held[1:] == [1.25, 3.0]
    assert list(held) == [0.5, 1.25, 3.0] and held == [0.5, 1.25, 3.0] and held != [0.5, 1.25]
    assert np.asarray(held) is values  # no copy


def test_orjson_writes_its_numbers_as_it_writes_the_same_python_floats():
    rng = np.random.default_rng(5)
    values = np.concatenate([rng.random(20_000) * 10.0 ** rng.integers(-30, 30, 20_000),
                             [0.0, -0.0, 1e16, 1e-7, 0.1, 1 / 3, 5e-324, 1.7976931348623157e308, 123456789.0]])
    assert orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY) == orjson.dumps(values.tolist())


def test_a_numpy_number_json_cannot_hold_is_refused_as_a_python_one_is():
    """The leaderboard writer lets orjson write numpy arrays and numbers (it would write a NaN as null)."""
    import pytest

    from frontierbench.formats.leaderboard import _refuse_non_finite

    with pytest.raises(ValueError, match=r"field 'groups\.0\.hypervolume' is nan"):
        _refuse_non_finite({"groups": [{"hypervolume": np.float64("nan"), "entries": []}]})
    spoiled = {"value": 1.0, "run_values": np.array([1.0, np.inf])}
    with pytest.raises(ValueError, match=r"field 'groups\.0\.entries\.0\.metrics\.a\.run_values\.1' is inf"):
        _refuse_non_finite({"groups": [{"entries": [{"metrics": {"a": spoiled}}]}]})


def test_leaderboards_handed_out_by_aggregate_hold_plain_lists(tmp_path, monkeypatch):
    """Only the leaderboards aggregate_into writes at once hold FloatArrays; aggregate() returns lists."""
    from factories import board_definition, random_cases, run_record, write_board
    from frontierbench.aggregate import aggregate
    from frontierbench.formats import samples_sidecar
    from frontierbench.formats.board import load_boards
    from frontierbench.formats.run import save_run

    monkeypatch.setattr(samples_sidecar, "SIDECAR_MIN_SAMPLES", 20)  # where the rounds would be held
    write_board(tmp_path / "boards", board_definition("toy"))
    files = [save_run(run_record(random_cases(["x", "y"], seed=i, items=20), run_id=f"r{i}",
                                 started_at=f"2026-01-0{i + 1}T00:00:00+00:00"), tmp_path / f"r{i}.json")
             for i in range(2)]
    [board] = aggregate(files, load_boards(tmp_path / "boards"), draws=50, warn=lambda message: None).values()
    estimates = list(board.estimates())
    assert estimates and all(type(e.run_values) is list for e in estimates)
    assert all(e.samples is None or type(e.samples) is list for e in estimates)
