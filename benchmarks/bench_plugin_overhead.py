"""The plugin's own cost, against bare pytest-benchmark, measured in one run.

1. Marginal cost per metered case: the slope of session wall time between a file of 50 and a file
   of 250 trivial cases, `frontier.measure(f, rounds=5, iterations=1)` against
   `benchmark.pedantic(f, rounds=5, iterations=1)`. The slope cancels session set-up.
   Sessions take turns and the median of 9 is kept: single sessions on this VM vary by ±0.5 s.
2. Overhead on a 1 s workload: whole-session wall time of 3 cases x 3 rounds (plus one warm-up
   call each) of a 1 s busy loop, frontier against pytest-benchmark with the same rounds. The
   frontier memory pass is its first warm-up call, so both make the same number of calls.

Prints figures; asserts nothing. Usage: python benchmarks/bench_plugin_overhead.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRIVIAL = {
    "frontier": """
import pytest
def f():
    return 1
@pytest.mark.parametrize("i", range({n}))
def test_case(frontier, i):
    frontier.measure(f, rounds=5, iterations=1)
""",
    "pytest-benchmark": """
import pytest
def f():
    return 1
@pytest.mark.parametrize("i", range({n}))
def test_case(benchmark, i):
    benchmark.pedantic(f, rounds=5, iterations=1)
""",
}

ONE_SECOND = {
    "frontier": """
import time, pytest
def busy():
    end = time.perf_counter() + 1.0
    while time.perf_counter() < end:
        pass
@pytest.mark.parametrize("i", range(3))
def test_case(frontier, i):
    frontier.measure(busy, rounds=3, warmup_rounds=1)
""",
    "pytest-benchmark": """
import time, pytest
def busy():
    end = time.perf_counter() + 1.0
    while time.perf_counter() < end:
        pass
@pytest.mark.parametrize("i", range(3))
def test_case(benchmark, i):
    benchmark.pedantic(busy, rounds=3, warmup_rounds=1)
""",
}


def session_seconds(source: str, workdir: Path) -> float:
    test = workdir / "test_overhead.py"
    test.write_text(source)
    command = [sys.executable, "-m", "pytest", str(test), "-q", "-p", "no:cacheprovider",
               f"--frontier-out={workdir / 'runs'}", "--benchmark-disable-gc"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"pytest failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="sessions per configuration (median is kept)")
    parser.add_argument("--sizes", type=int, nargs=2, default=(50, 250), help="the two file sizes")
    args = parser.parse_args()
    small, large = args.sizes
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        session_seconds(TRIVIAL["frontier"].replace("{n}", "1"), workdir)  # warm codecarbon's cache
        # The configurations take turns in every repeat, so a slow spell of this shared VM hits
        # them all alike; the median of the repeats is kept.
        samples: dict[tuple[str, int], list[float]] = {(tool, n): [] for tool in TRIVIAL for n in (small, large)}
        for _ in range(args.repeats):
            for (tool, n), times in samples.items():
                times.append(session_seconds(TRIVIAL[tool].replace("{n}", str(n)), workdir))
        slopes = {}
        for tool in TRIVIAL:
            t_small, t_large = (statistics.median(samples[tool, n]) for n in (small, large))
            slopes[tool] = (t_large - t_small) / (large - small)
            print(f"{tool:17s} {small} cases {t_small:6.2f} s, {large} cases {t_large:6.2f} s, "
                  f"marginal {slopes[tool] * 1e3:6.2f} ms/case")
        ratio = slopes["frontier"] / slopes["pytest-benchmark"]
        print(f"marginal cost ratio frontier / pytest-benchmark: {ratio:.2f} (goal <= 2)")

        one_second: dict[str, list[float]] = {tool: [] for tool in ONE_SECOND}
        for _ in range(max(3, args.repeats // 3)):
            for tool, source in ONE_SECOND.items():
                one_second[tool].append(session_seconds(source, workdir))
        totals = {tool: statistics.median(times) for tool, times in one_second.items()}
        for tool, seconds in totals.items():
            print(f"{tool:17s} 1 s workload, 3 cases x (3 rounds + 1 warm-up): {seconds:6.2f} s")
        print(f"1 s workload overhead ratio frontier / pytest-benchmark: "
              f"{totals['frontier'] / totals['pytest-benchmark']:.3f} (goal <= 1.02)")


if __name__ == "__main__":
    main()
