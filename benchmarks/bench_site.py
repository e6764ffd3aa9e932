"""Benchmark: build the static site for 100 boards x 500 entries (target: <= 15 s).

    python benchmarks/bench_site.py [--boards 100] [--entries 500] [--keep DIR]

The leaderboards are synthetic (tests/site_factories.py), one hardware class each, 10 rounds per
cost metric and 100 items for quality, with a reliability report. Generating them is not timed;
the build (load + validate + render + write + swap) is. Prints the figures and exits 1 when the
build is over the target.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from site_factories import make_leaderboard  # noqa: E402

from frontierbench.site.build import build_site, load_board_file  # noqa: E402

TARGET_S = 15.0


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _write_board(job: tuple[Path, int, int, int, int]) -> Path:
    root, i, entries, rounds, items = job
    board = make_leaderboard(f"board-{i:03d}", n_entries=entries, hardware_classes=("cpu-x86_64-8c",), seed=i,
                             rounds=rounds, items=items, hostile=(i == 0))
    path = root / f"board-{i:03d}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    # Compact JSON: the same schema as save_leaderboard writes, generated faster.
    path.write_text(json.dumps(board.to_json_dict()), encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boards", type=int, default=100)
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=10, help="samples per cost metric (default 10)")
    parser.add_argument("--items", type=int, default=100, help="per-item quality samples (default 100)")
    parser.add_argument("--keep", type=Path, help="build here and keep the site (default: a temp dir)")
    parser.add_argument("--split", action="store_true",
                        help="also time loading and validating alone (one process), to split the figure")
    parser.add_argument("--tmp", help="folder for the inputs and the site (default: the system temp dir)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="fb-bench-site-", dir=args.tmp) as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        jobs = [(tmp / "leaderboards", i, args.entries, args.rounds, args.items) for i in range(args.boards)]
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            paths = list(pool.map(_write_board, jobs))
        generated = time.perf_counter() - t0
        input_bytes = sum(p.stat().st_size for p in paths)

        load_s = None
        if args.split:
            t0 = time.perf_counter()
            for path in paths:
                load_board_file(path)
            load_s = time.perf_counter() - t0

        out = args.keep or tmp / "site"
        cpu0 = _cpu()
        t0 = time.perf_counter()
        build_site(paths, out)
        built = time.perf_counter() - t0
        cpu = _cpu() - cpu0

        files = 0
        total = 0
        largest_board_page = 0
        for root, _, names in os.walk(out):
            for name in names:
                size = os.path.getsize(os.path.join(root, name))
                files += 1
                total += size
                if name.endswith(".html") and "entries" not in root and root != str(out):
                    largest_board_page = max(largest_board_page, size)
        # Print before the temporary folder is removed: deleting 50,000 files can take minutes.
        print(f"samples:               {args.rounds} rounds per cost metric, {args.items} items per entry")
        print(f"boards x entries:      {args.boards} x {args.entries} ({args.boards * args.entries} entry pages)")
        print(f"input leaderboards:    {input_bytes / 1e6:.1f} MB (generated in {generated:.1f} s, not timed)")
        print(f"build time:            {built:.2f} s (target <= {TARGET_S:.0f} s) on {os.cpu_count()} CPUs")
        print(f"build CPU time:        {cpu:.1f} s (all processes; load average {os.getloadavg()[0]:.1f})")
        if load_s is not None:
            per_board = 1e3 * load_s / args.boards
            print(f"of which load+validate: {load_s:.1f} s in one process ({per_board:.0f} ms per board)")
        print(f"output:                {files} files, {total / 1e6:.1f} MB")
        print(f"largest board page:    {largest_board_page / 1e3:.1f} KB (limit 300 KB)")
        print(f"per entry page:        {1e3 * built / max(1, args.boards * args.entries):.3f} ms")
        sys.stdout.flush()

    return 0 if built <= TARGET_S and largest_board_page <= 300_000 else 1


if __name__ == "__main__":
    sys.exit(main())
