"""Benchmark: `frontierbench aggregate` on 1,000,000 case rows, pinned to one core.

Target (issue 4): aggregating 1,000,000 case rows in <= 20 s on one core.

What is timed, honestly split:
- "aggregate (tidy frame -> leaderboards)": `aggregate_tidy` on a 1,000,000-row tidy frame: entry
  keys, pooling with intervals (medians of all rounds with order-statistic intervals, bootstrap of
  item scores), derived metrics, one history point per (entry, run), and per group the Pareto
  front, dominators, hypervolume and counterfactual fronts. Reliability checks are off (another
  module, benchmarked on its own; `--reliability` turns them on).
- "ingest (records -> tidy frame)": `tidy_frames` over RunRecord objects, a per-case Python loop,
  measured on a slice and reported per row (it scales linearly).
- "load (JSON -> RunRecord)": json + pydantic validation, measured on a slice, reported per row.
- "write": serialising the leaderboard JSON with sorted keys, atomically.

    python benchmarks/bench_aggregate.py [--runs 1000] [--entries 1000] [--hardware 2]

From files (issue 13): run-record files -> leaderboards, against a naive json + pandas pass over
the same files, with and without the tidy cache, and adding one run to the history
(benchmarks/_aggregate_files.py; each figure in its own process on one core, with its peak RSS):

    python benchmarks/bench_aggregate.py --from-files 100000 1000000 [--entries 1000]
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta, timezone
import os
import sys
import tempfile
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from factories import board_definition  # noqa: E402
import pandas as pd  # noqa: E402

from frontierbench.aggregate.pipeline import Tidy, aggregate_tidy, tidy_frames, write_leaderboards  # noqa: E402
from frontierbench.aggregate.ingest import LoadedRun, load_inputs  # noqa: E402
from frontierbench.formats.run import Case, Environment, Metric, Provenance, RunRecord, save_run  # noqa: E402
from frontierbench.stats.rounding import round_array  # noqa: E402


def _moment(run: int) -> str:
    """Run `run`'s start: one a minute from 2024-01-01."""
    return (datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=run)).isoformat()


def synthetic_runs(n_runs: int, n_entries: int, n_hardware: int, *, rounds: int, items: int,
                   seed: int = 0) -> list[LoadedRun]:
    """n_runs records; each holds every entry once on its hardware class (runs alternate classes).

    Per case: wall_time (rounds samples), accuracy (per-item 0/1 scores), energy and peak_memory
    (values). Built with model_construct: the shapes aggregate reads, without validation cost here.
    """
    rng = np.random.default_rng(seed)
    scale = np.exp(rng.normal(-4, 1, n_entries))
    p = rng.uniform(0.5, 0.95, n_entries)
    timing_prov = Provenance.model_construct(method="pytest-benchmark", covers=None)
    quality_prov = Provenance.model_construct(method="reported-by-case", covers=None, kind="quality")
    energy_prov = Provenance.model_construct(method="rapl", covers=None)
    memory_prov = Provenance.model_construct(method="rss", covers=None)
    runs = []
    for r in range(n_runs):
        times = (scale[:, None] * rng.lognormal(0, 0.05, (n_entries, rounds))).tolist()
        scores = (rng.random((n_entries, items)) < p[:, None]).astype(float).tolist()
        energy = (scale * 40 * rng.lognormal(0, 0.02, n_entries)).tolist()
        cases = []
        for e in range(n_entries):
            metrics = {
                "wall_time": Metric.model_construct(value=times[e][0], unit="s", higher_is_better=False,
                                                    samples=times[e], provenance=timing_prov),
                "accuracy": Metric.model_construct(value=sum(scores[e]) / items, unit="", higher_is_better=True,
                                                   samples=scores[e], provenance=quality_prov),
                "energy": Metric.model_construct(value=energy[e], unit="J", higher_is_better=False,
                                                 samples=None, provenance=energy_prov),
                "peak_memory": Metric.model_construct(value=1e6 * (e + 1), unit="B", higher_is_better=False,
                                                      samples=None, provenance=memory_prov),
            }
            cases.append(Case.model_construct(nodeid=f"suite/test_bench.py::test[{e}]", board="bench",
                                              entry=f"entry-{e:05d}", family=f"family-{e % 7}", params={},
                                              outcome="passed", device="cpu", hardware_class=None, items=32,
                                              duration=None, error=None, metrics=metrics))
        record = RunRecord.model_construct(
            schema_="frontierbench.run/1", run_id=f"run-{r:05d}", started_at=_moment(r),
            finished_at=_moment(r), status="complete",
            environment=Environment.model_construct(hardware_class=f"cpu-bench-{r % n_hardware}",
                                                    git={"commit": "0" * 40}),
            config={"board_versions": {"bench": "1"}}, cases=cases)
        runs.append(LoadedRun(f"runs/run-{r:05d}.json", f"{r:064x}", "frontierbench", record))
    return runs


def synthetic_tidy(n_runs: int, n_entries: int, n_hardware: int, *, rounds: int, items: int,
                   seed: int = 0) -> Tidy:
    """The same data as `synthetic_runs`, built straight into the tidy frames with numpy."""
    rng = np.random.default_rng(seed)
    n = n_runs * n_entries
    scale = np.exp(rng.normal(-4, 1, n_entries))
    p = rng.uniform(0.5, 0.95, n_entries)
    run = np.repeat(np.arange(n_runs), n_entries)
    entry = np.tile(np.arange(n_entries), n_runs)
    names = np.array([f"entry-{e:05d}" for e in range(n_entries)], dtype=object)
    hardware = np.array([f"cpu-bench-{h}" for h in range(n_hardware)], dtype=object)
    cases = pd.DataFrame({
        "run": run, "board": "bench", "hardware_class": hardware[run % n_hardware], "board_version": "1",
        "entry": names[entry], "family": np.array([f"family-{e % 7}" for e in range(n_entries)], dtype=object)[entry],
        "device": "cpu", "nodeid": names[entry], "items": pd.array(np.full(n, 32), dtype="Int64"),
        "energy_method": "rapl"})
    times = round_array(scale[entry, None] * rng.lognormal(0, 0.05, (n, rounds)))  # as tidy.run_rows rounds them
    scores = (rng.random((n, items)) < p[entry, None]).astype(float)
    samples = np.concatenate([times, scores], axis=1).ravel()  # per case: wall_time rows, then accuracy
    energy = round_array(scale[entry] * 40 * rng.lognormal(0, 0.02, n))
    memory = 1e6 * (entry + 1.0)
    metric_names = ["wall_time", "accuracy", "energy", "peak_memory"]
    counts = np.tile([rounds, items, 0, 0], n)
    metrics = pd.DataFrame({
        "case": np.repeat(np.arange(n), 4),
        "metric": pd.Categorical.from_codes(np.tile(np.arange(4), n), metric_names),
        "value": np.stack([times[:, 0], scores.mean(1), energy, memory], axis=1).ravel(),
        "unit": pd.Categorical(np.tile(np.array(["s", "", "J", "B"], dtype=object), n)),
        "higher_is_better": np.tile([False, True, False, False], n),
        "kind": pd.Categorical(np.tile(np.array(["rounds", "items", "value", "value"], dtype=object), n),
                               categories=["rounds", "items", "value"]),
        "n": counts,
        "offset": np.concatenate(([0], np.cumsum(counts)[:-1])),
    })
    provenance = [Provenance(method="pytest-benchmark"), Provenance(method="reported-by-case", kind="quality"),
                  Provenance(method="rapl"), Provenance(method="rss")] * n
    runs = [LoadedRun(f"runs/run-{r:05d}.json", f"{r:064x}", "frontierbench", RunRecord.model_construct(
        schema_="frontierbench.run/1", run_id=f"run-{r:05d}", started_at=_moment(r),
            finished_at=_moment(r), status="complete",
        environment=Environment.model_construct(hardware_class=f"cpu-bench-{r % n_hardware}",
                                                git={"commit": "0" * 40}),
        config={}, cases=[])) for r in range(n_runs)]
    return Tidy(runs, cases, metrics, samples, provenance, [{}] * n)


def main() -> int:
    if sys.argv[1:2] == ["--child"]:  # one measurement of --from-files, in its own process
        from _aggregate_files import child

        child(sys.argv[2], sys.argv[3])
        return 0
    if sys.argv[1:2] == ["--from-files"]:
        from _aggregate_files import report

        files = argparse.ArgumentParser(description="aggregate from run-record files")
        files.add_argument("--from-files", nargs="+", type=int, metavar="ROWS", required=True)
        files.add_argument("--entries", type=int, default=1000)
        options = files.parse_args()
        for rows in options.from_files:
            report(rows, max(1, rows // options.entries), options.entries)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--hardware", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--load-rows", type=int, default=50_000, help="rows for the JSON load measurement")
    parser.add_argument("--reliability", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    rows = args.runs * args.entries
    board = board_definition("bench", objectives=None, reference_point=None)
    boards = {"bench": board.model_copy(update={"name": "bench"})}
    print(f"cores: {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'}; "
          f"{rows:,} case rows = {args.runs} runs x {args.entries} entries, {args.hardware} hardware classes; "
          f"per case {args.rounds} rounds + {args.items} item scores + 2 values")

    start = time.perf_counter()
    tidy = synthetic_tidy(args.runs, args.entries, args.hardware, rounds=args.rounds, items=args.items)
    print(f"  (building the synthetic tidy frame: {time.perf_counter() - start:.1f} s, not counted)")

    timings: dict[str, float] = {}
    start, start_cpu = time.perf_counter(), time.process_time()
    leaderboards = aggregate_tidy(tidy, boards, draws=args.draws, seed=0, reliability=args.reliability,
                                  timings=timings)
    total, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    print(f"  {'stage':<14} {'wall s':>7} {'cpu s':>7}")
    for stage, seconds in timings.items():
        if not stage.endswith(" cpu"):
            print(f"  {stage:<14} {seconds:7.2f} {timings[stage + ' cpu']:7.2f}")
    # The process is pinned to one core; on a shared machine its CPU time is the honest figure.
    print(f"aggregate (tidy frame -> leaderboards): {rows:,} case rows in {total:.2f} s wall, {cpu:.2f} s CPU "
          f"({rows / cpu:,.0f} rows per CPU second) -> {'PASS' if cpu <= 20 else 'FAIL'} (target <= 20 s)")
    print(f"  (load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    groups = leaderboards["bench"].groups
    print(f"  {len(groups)} groups, {sum(len(g.entries) for g in groups)} entries, "
          f"{sum(len(e.history) for g in groups for e in g.entries):,} history points, "
          f"front sizes {[len(g.frontier) for g in groups]}")
    del tidy

    slice_runs = max(1, args.load_rows // args.entries)
    runs = synthetic_runs(slice_runs, args.entries, args.hardware, rounds=args.rounds, items=args.items)
    start = time.process_time()
    tidy_frames(runs, boards)
    seconds = time.process_time() - start
    n = slice_runs * args.entries
    print(f"ingest (RunRecord objects -> tidy frame): {n:,} rows in {seconds:.2f} s CPU ({n / seconds:,.0f} rows/s; "
          f"{rows / (n / seconds):.1f} s extrapolated to {rows:,} rows)")

    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_write:
            start = time.process_time()
            paths = write_leaderboards(leaderboards, tmp)
            size = sum(p.stat().st_size for p in paths)
            print(f"write: {time.process_time() - start:.2f} s CPU for {size / 1e6:.0f} MB of leaderboard JSON")
        del leaderboards
        # Load path, on a slice: JSON -> validated RunRecord (pydantic), per row.
        load_runs = slice_runs
        for run in runs[:load_runs]:
            save_run(RunRecord.model_validate(run.record.model_dump(by_alias=True)),
                     Path(tmp, "runs", Path(run.path).name))
        start = time.process_time()
        loaded, _ = load_inputs([Path(tmp, "runs")])
        seconds = time.process_time() - start
        n = sum(len(r.record.cases) for r in loaded)
        print(f"load (JSON -> validated RunRecord): {n:,} rows of run-record JSON read and validated in "
              f"{seconds:.2f} s CPU "
              f"({n / seconds:,.0f} rows/s; {rows / (n / seconds):.0f} s extrapolated to {rows:,} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
