"""Timing helpers shared by the benchmark scripts."""

import time


def best_of(fn, repeat=5):
    """Best wall time and best CPU time of `repeat` runs (CPU time resists a busy machine)."""
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus), result
