"""Building millions of small objects at once: without the cyclic garbage collector meanwhile.

A history's leaderboard holds a million history points, and reading or writing it makes a dict
for each. Every 700 allocations the collector scans the young objects, and every so often all of
them, looking for reference cycles that these plain trees do not have: at a million points that
was more time than the work itself. Reference counting still frees everything as usual.
"""

from __future__ import annotations

import gc
import time
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused_gc() -> Iterator[None]:
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class Stopwatch:
    """Seconds per stage: wall clock under the stage's name, this process's CPU time under "<name> cpu"."""

    def __init__(self, timings: dict[str, float] | None):
        self.timings = timings
        self.last = (time.perf_counter(), time.process_time())

    def __call__(self, stage: str) -> None:
        now = (time.perf_counter(), time.process_time())
        if self.timings is not None:
            self.timings[stage] = self.timings.get(stage, 0.0) + now[0] - self.last[0]
            self.timings[f"{stage} cpu"] = self.timings.get(f"{stage} cpu", 0.0) + now[1] - self.last[1]
        self.last = now
