"""A list of floats held as the float64 array it was computed as: an estimate's samples or run
values, in the leaderboards `aggregate_into` writes at once and never hands out.

A history's leaderboard holds ten million timed rounds and three million run values. Listing them
as Python floats, only for `save_leaderboard` to pack the samples back into one array
(formats/samples_sidecar.py) and orjson to write the run values, cost half a second and 500 MB.
A FloatArray reads like the list it stands for: len, truth, iteration and indexing give Python
floats, `np.asarray` gives the array without a copy, and it equals a list of the same values.
save_leaderboard writes it as the list (orjson writes a float64 array's numbers exactly as it
writes the same Python floats; tests/test_float_array.py checks it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Iterator


class FloatArray(Sequence):
    __slots__ = ("array",)

    def __init__(self, array: Any):
        self.array = array  # a 1-d C-contiguous float64 numpy array, not written to while held

    def __len__(self) -> int:
        return int(self.array.size)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return self.array[index].tolist()
        return float(self.array[index])

    def __iter__(self) -> Iterator[float]:
        return iter(self.array.tolist())

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        return self.array if dtype is None else self.array.astype(dtype, copy=False)

    def tolist(self) -> list[float]:
        return self.array.tolist()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FloatArray):
            other = other.tolist()
        return isinstance(other, (list, tuple)) and self.tolist() == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FloatArray({self.array.size} values)"
