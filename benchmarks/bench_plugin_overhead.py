"""The plugin's own cost, against bare pytest-benchmark, measured in one run.

1. Marginal cost per metered case: the slope of session wall time between a file of 50 and a file
   of 250 trivial cases, `frontier.measure(f, rounds=5, iterations=1)` against
   `benchmark.pedantic(f, rounds=5, iterations=1)`. The slope cancels session set-up.
2. Overhead on a 1 s workload: whole-session wall time of 3 cases x 3 rounds (plus one warm-up
   call each) of a 1 s busy loop, frontier against pytest-benchmark with the same rounds. The
   frontier memory pass is its first warm-up call, so both make the same number of calls.

Prints figures; asserts nothing. Usage: python benchmarks/bench_plugin_overhead.py [--repeats 3]
"""

from __future__ import annotations

import argparse
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
    parser.add_argument("--repeats", type=int, default=3, help="sessions per configuration (min is kept)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        slopes = {}
        for tool, template in TRIVIAL.items():
            times = {}
            for n in (50, 250):
                # Interleave repeats; the minimum is the least disturbed session.
                times[n] = min(session_seconds(template.replace("{n}", str(n)), workdir)
                               for _ in range(args.repeats))
            slopes[tool] = (times[250] - times[50]) / 200
            print(f"{tool:17s} 50 cases {times[50]:6.2f} s, 250 cases {times[250]:6.2f} s, "
                  f"marginal {slopes[tool] * 1e3:6.2f} ms/case")
        ratio = slopes["frontier"] / slopes["pytest-benchmark"]
        print(f"marginal cost ratio frontier / pytest-benchmark: {ratio:.2f} (goal <= 2)")

        totals = {tool: min(session_seconds(source, workdir) for _ in range(args.repeats))
                  for tool, source in ONE_SECOND.items()}
        for tool, seconds in totals.items():
            print(f"{tool:17s} 1 s workload, 3 cases x (3 rounds + 1 warm-up): {seconds:6.2f} s")
        print(f"1 s workload overhead ratio frontier / pytest-benchmark: "
              f"{totals['frontier'] / totals['pytest-benchmark']:.3f} (goal <= 1.02)")


if __name__ == "__main__":
    main()
