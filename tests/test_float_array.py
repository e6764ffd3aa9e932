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
