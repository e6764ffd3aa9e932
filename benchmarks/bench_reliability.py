"""Benchmark: reliability checks for 200 entries x 3 objectives x 1000 draws, families A+B
(target <= 2 s on one core), with 10 rounds per entry and 10,000 items, as in docs/reliability.md.

Run: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c 0 python benchmarks/bench_reliability.py
The A+B figure covers both families and the joint headline draws (front, ranks, top-1, top-k,
Jaccard, Kendall tau, metric and rank intervals, ties); the full figure adds D, the budget
search and the hypervolume interval.
"""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402
from _timing import best_of  # noqa: E402  (benchmarks/ is on sys.path when a script runs)

from frontierbench.reliability import BoardSamples, ObjectiveSpec, assess  # noqa: E402


def board(n=200, rounds=10, items=10_000, seed=0, processes=1):
    """`rounds` per process; with processes > 1, family A draws processes first, then rounds."""
    rng = np.random.default_rng(seed)
    latency = rng.lognormal(np.log(0.01), 0.6, n)
    energy = latency * rng.lognormal(np.log(50), 0.4, n)
    accuracy = np.clip(0.5 + 0.2 * np.log(latency / latency.min()) / 4 + rng.normal(0, 0.05, n), 0.05, 0.99)
    return BoardSamples(
        entries=[f"entry-{i:03d}" for i in range(n)],
        objectives=[ObjectiveSpec("latency", False, 0.01), ObjectiveSpec("energy", False, 0.02),
                    ObjectiveSpec("accuracy", True, 0.005, "absolute")],
        primary="accuracy",
        cost_rounds={"latency": [rng.lognormal(np.log(t), 0.05, rounds * processes) for t in latency],
                     "energy": [rng.lognormal(np.log(e), 0.05, rounds * processes) for e in energy]},
        cost_units={} if processes == 1 else {m: [[rounds] * processes] * n for m in ("latency", "energy")},
        quality_items={"accuracy": (rng.random((n, items)) < accuracy[:, None]).astype(np.float64)},
        reference={"latency": 1.0, "energy": 1000.0, "accuracy": 0.0},
    )


def main():
    samples = board()
    print("reliability, 200 entries x 3 objectives x 1000 draws, 10 rounds, 10,000 items")
    seconds, cpu, report = best_of(lambda: assess(samples, draws=1000, seed=0, families="AB", budget=False), repeat=3)
    fams = {f.family: f for f in report.families if f.applicable}
    print(f"  families A+B (+ joint headline): {seconds:.2f} s wall, {cpu:.2f} s CPU (best of 3, target <= 2 s)")
    for name, f in fams.items():
        print(f"    {name}: DIoR front {f.dior_front:.3f}  rank {f.dior_rank:.3f}  leader {f.dior_leader:.3f}")
    on_front = sum(e.p_front >= 0.5 for e in report.entries.values())
    print(f"    entries likely on the front: {on_front}, uncertain: {len(report.needs_more)}")
    seconds, cpu, report = best_of(lambda: assess(samples, draws=1000, seed=0), repeat=1)
    budget = ", ".join(f"1/{round(1 / p.fraction)}" for p in report.budget)
    print(f"  everything (A, B, D, budget at {budget}, hypervolume interval): {seconds:.2f} s wall, {cpu:.2f} s CPU")
    for processes, rounds in ((4, 10), (10, 3)):
        nested = board(processes=processes, rounds=rounds)
        seconds_n, cpu_n, _ = best_of(lambda nested=nested: assess(nested, draws=1000, seed=0, families="AB",
                                                                   budget=False),
                                      repeat=3)
        print(f"  families A+B, {processes} processes x {rounds} rounds (two-stage family A): {seconds_n:.2f} s wall, "
              f"{cpu_n:.2f} s CPU (target <= 2 s)")


if __name__ == "__main__":
    main()
