"""Benchmark: the Pareto front of 10,000 entries x 4 objectives (target <= 1 s on one core).

Run: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c 0 python benchmarks/bench_frontier.py
Prints the best of 5 for random data (a small front) and for points on a simplex (worst case:
every entry on the front), plus dominators and hypervolume figures.
"""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402
from _timing import best_of  # noqa: E402  (benchmarks/ is on sys.path when a script runs)

from frontierbench.stats.pareto import dominators, hypervolume, pareto_front  # noqa: E402


def main():
    rng = np.random.default_rng(0)
    n, k = 10_000, 4
    maximize = [False, False, False, True]
    cases = {
        "uniform random": rng.random((n, k)),
        "correlated (typical trade-off)": np.cumsum(rng.random((n, k)), axis=1),
    }
    simplex = rng.dirichlet(np.ones(k), n)
    simplex[:, 3] *= -1  # maximised column: flip so every point stays non-dominated
    cases["simplex (all on the front)"] = simplex
    print(f"pareto_front, {n:,} entries x {k} objectives (best of 5, target <= 1 s)")
    for name, values in cases.items():
        seconds, cpu, front = best_of(lambda values=values: pareto_front(values, maximize))
        print(f"  {name:32s} {seconds * 1000:8.1f} ms wall {cpu * 1000:8.1f} ms CPU   front size {int(front.sum()):6d}")
    values = rng.random((2_000, k))
    seconds, _, _ = best_of(lambda: dominators(values, maximize), repeat=3)
    print(f"dominators, 2,000 x {k}: {seconds * 1000:.1f} ms")
    points = rng.random((40, k))
    points = points[pareto_front(points, [False] * k)]
    seconds, _, volume = best_of(lambda: hypervolume(points, [False] * k, [1.0] * k), repeat=3)
    print(f"hypervolume, {len(points)} front points x {k} objectives: {seconds * 1000:.1f} ms (= {volume:.4f})")


if __name__ == "__main__":
    main()
