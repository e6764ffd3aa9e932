"""`bench_aggregate.py --from-files`: aggregate from run-record files, against a naive baseline.

Every measurement runs in its own process pinned to one core, counted whole (interpreter start,
imports, work, exit: what running the command costs) by the kernel's accounting of that process
(wall time, CPU time and peak RSS from wait4), so one figure's memory never leaks into another's:

- naive: json.load every file, one pandas row per (case, metric), a groupby median per (board,
  hardware class, entry, metric), written as JSON. What a hand-written script would do; no
  intervals, fronts, history or changes.
- aggregate: the `frontierbench aggregate` command end to end (no reliability), without a cache.
- aggregate, cache cold: the same, filling the tidy cache (aggregate.cache: an Arrow file per record).
- aggregate, cache warm: every file's rows read back from the cache.
- incremental: one more run file added: the state the previous aggregate kept in the cache
  (aggregate.kept_state) is extended by it (aggregate.incremental); the same leaderboard, to the
  byte, as aggregating all the files again (checked against a full aggregate without the cache).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def write_history(folder: Path, n_runs: int, n_entries: int, *, rounds: int = 10, items: int = 20,
                  seed: int = 0) -> list[Path]:
    """n_runs run-record files of n_entries cases each, as the plugin writes them."""
    sys.path.insert(0, str(HERE.parent / "tests"))
    from factories import case, run_record  # noqa: E402
    from frontierbench.formats.run import save_run

    rng = np.random.default_rng(seed)
    scale = np.exp(rng.normal(-4, 1, n_entries))
    p = rng.uniform(0.5, 0.95, n_entries)
    paths = []
    for r in range(n_runs):
        day = np.exp(rng.normal(0, 0.02, n_entries))
        times = scale[:, None] * day[:, None] * rng.lognormal(0, 0.05, (n_entries, rounds))
        scores = (rng.random((n_entries, items)) < p[:, None]).astype(float)
        cases = [case(f"entry-{e:05d}", board="bench", family=f"family-{e % 7}", wall_time=times[e].tolist(),
                      accuracy=scores[e].tolist(), energy=float(scale[e] * 40 * day[e]), items=32)
                 for e in range(n_entries)]
        record = run_record(cases, run_id=f"run-{r:05d}", started_at="2026-01-01T00:00:00+00:00"[:11]
                            + f"{r // 3600 % 24:02d}:{r // 60 % 60:02d}:{r % 60:02d}+00:00",
                            git_commit=f"{r:040x}")
        paths.append(save_run(record, folder / "runs" / f"run-{r:05d}.json"))
    return paths


def naive(files: list[str], out: str) -> None:
    import pandas as pd

    rows = []
    for name in files:
        with open(name, encoding="utf-8") as handle:
            record = json.load(handle)
        hw = record["environment"]["hardware_class"]
        for c in record["cases"]:
            if c["outcome"] != "passed":
                continue
            for metric, m in c["metrics"].items():
                value = m["value"] if not m.get("samples") else float(np.median(m["samples"]))
                rows.append((c["board"], hw, c["entry"], metric, value, record["run_id"]))
    frame = pd.DataFrame(rows, columns=["board", "hw", "entry", "metric", "value", "run"])
    medians = frame.groupby(["board", "hw", "entry", "metric"])["value"].median()
    with open(out, "w", encoding="utf-8") as handle:
        json.dump({"|".join(k): v for k, v in medians.items()}, handle)


def frontierbench(files: list[str], out: str, boards_dir: str, cache: str | None) -> None:
    """`frontierbench aggregate` as the command runs it, exit included (cli.console_main)."""
    from frontierbench import cli

    sys.argv = ["frontierbench", "aggregate", *files, "--boards", boards_dir, "-o", out, "--no-reliability",
                *(["--cache", cache] if cache else [])]
    cli.console_main()


def child(mode: str, spec: str) -> None:
    """Run one measurement in this process, pinned to one core (measure() counts it)."""
    args = json.loads(spec)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    if mode == "naive":
        naive(args["files"], args["out"])
    else:
        frontierbench(args["files"], args["out"], args["boards"], args.get("cache"))


def measure(mode: str, **spec) -> dict[str, float]:
    """One measurement in its own process, counted whole (interpreter start, imports, the work and
    its exit), as a user running the command pays for it: wall time here, CPU time and peak RSS
    from the kernel's accounting of that process (wait4). numpy gets small pages, as the
    frontierbench command gives it (frontierbench/cli.py); the naive pass too."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               NUMPY_MADVISE_HUGEPAGE="0")
    with tempfile.TemporaryFile() as err:  # a file, not a pipe: the child is reaped by wait4 below
        start = time.perf_counter()
        child_process = subprocess.Popen([sys.executable, str(HERE / "bench_aggregate.py"), "--child", mode,
                                          json.dumps(spec)], stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(child_process.pid, 0)
        wall = time.perf_counter() - start
        child_process.returncode = code = os.waitstatus_to_exitcode(status)
        err.seek(0)
        message = err.read().decode(errors="replace").strip()[-300:]
    if code != 0:  # e.g. killed for memory on a shared machine: say so, keep the others
        print(f"  {mode}: failed with exit code {code}: {message}")
        return {"wall": float("nan"), "cpu": float("nan"), "peak": float("nan")}
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak": usage.ru_maxrss * 1024}


def report(rows: int, n_runs: int, n_entries: int) -> None:
    sys.path.insert(0, str(HERE.parent / "tests"))
    from factories import board_definition, write_board

    with tempfile.TemporaryDirectory(prefix="bench-files-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        paths = write_history(root, n_runs + 1, n_entries)
        write_board(root / "boards", board_definition("bench"))
        size = sum(p.stat().st_size for p in paths[:-1])
        print(f"\n{n_runs * n_entries:,} case rows in {n_runs} files of {n_entries} entries "
              f"({size / 1e6:.0f} MB; 10 rounds, 20 item scores, energy per case; written in "
              f"{time.perf_counter() - start:.0f} s, not counted)")
        files = [str(p) for p in paths[:-1]]
        common = {"boards": str(root / "boards")}
        results = {
            "naive json + pandas": measure("naive", files=files, out=str(root / "naive.json")),
            "aggregate (no cache)": measure("fb", files=files, out=str(root / "a"), **common),
            "aggregate, cache cold": measure("fb", files=files, out=str(root / "b"), cache=str(root / "cache"),
                                             **common),
            "aggregate, cache warm": measure("fb", files=files, out=str(root / "c"), cache=str(root / "cache"),
                                             **common),
            "incremental (+1 run)": measure("fb", files=files + [str(paths[-1])], out=str(root / "d"),
                                            cache=str(root / "cache"), **common),
        }
        measure("fb", files=files + [str(paths[-1])], out=str(root / "e"), **common)  # in full, to compare
        added = [root / x / "bench" / "leaderboard.json" for x in ("d", "e")]
        same_added = all(p.exists() for p in added) and added[0].read_bytes() == added[1].read_bytes()
        outputs = [root / x / "bench" / "leaderboard.json" for x in ("a", "b", "c")]
        same = all(p.exists() for p in outputs) and len({p.read_bytes() for p in outputs}) == 1
        base = results["naive json + pandas"]
        print(f"  {'':24} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'cpu vs naive':>13} {'memory vs naive':>16}")
        for name, r in results.items():
            print(f"  {name:24} {r['wall']:8.2f} {r['cpu']:8.2f} {r['peak'] / 1e6:8.0f} "
                  f"{r['cpu'] / base['cpu']:12.2f}x {r['peak'] / base['peak']:15.2f}x")
        lb = max((p.stat().st_size for p in outputs if p.exists()), default=0)
        sidecar = sum(p.stat().st_size for p in (root / "a" / "bench").glob("*.npy"))
        print(f"  leaderboard JSON: {lb / 1e6:.0f} MB, samples sidecar {sidecar / 1e6:.0f} MB; cached and uncached "
              f"leaderboards byte-identical: {same}; adding one run, incremental and full: {same_added}")
        print(f"  load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine)")
