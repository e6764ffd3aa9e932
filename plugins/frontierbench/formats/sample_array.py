"""An estimate's samples held as the float64 array they were pooled from, for a leaderboard that
keeps them in a sidecar.

A history's leaderboard holds ten million timed rounds. Listing them as Python floats only for
`save_leaderboard` to pack them back into one array (formats/samples_sidecar.py) cost a third of a
second and 350 MB. `aggregate` therefore gives an estimate a SampleArray, only where the
leaderboard is certain to use a sidecar and never leaves `aggregate_into`. It reads like the list
it stands for: len, truth, iteration and indexing give Python floats, `np.asarray` gives the
array without a copy, and it equals a list of the same values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Iterator


class SampleArray(Sequence):
    __slots__ = ("array",)

    def __init__(self, array: Any):
        self.array = array  # a 1-d float64 numpy array, not written to while held

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
        if isinstance(other, SampleArray):
            other = other.tolist()
        return isinstance(other, (list, tuple)) and self.tolist() == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SampleArray({self.array.size} values)"
