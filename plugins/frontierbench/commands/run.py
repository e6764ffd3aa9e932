"""`frontierbench run`: the main job, end to end.

The reference suite (quick profile unless --full) -> a run record -> aggregate -> check (a report;
a gate with --gate) -> report -> site. Run it from the repository root, where suite/ and
leaderboards/ live. Each step is a function call; the first step that fails stops the job with its
status (bad input raises RecordError, which the CLI reports with exit status 2).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from frontierbench.aggregate import aggregate, write_leaderboards
from frontierbench.commands.check import check_leaderboards
from frontierbench.commands.report import build_report
from frontierbench.formats.atomic import write_text_atomic
from frontierbench.formats.board import find_boards
from frontierbench.formats.versioned import RecordError
from frontierbench.site.build import build_site

# The full profile runs every case in FULL_PROCESSES fresh worker interpreters, one pass each: a
# case that crashes costs only itself, and the spread between processes is measured. Chosen from
# what it costs (docs/performance.md, "Worker processes").
FULL_PROCESSES = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--suite", default="suite", help="the benchmark cases (default: suite/)")
    parser.add_argument("--boards", default="leaderboards", help="board definitions (default: leaderboards/)")
    parser.add_argument("--work", default=".frontierbench", help="where runs and leaderboards go")
    parser.add_argument("--site", default="site/_build", help="where the site is built")
    parser.add_argument("--full", action="store_true", help="the full profile instead of --frontier-quick")
    parser.add_argument("--publish", action="store_true",
                        help="write the leaderboards and the run record into --boards (the published ones)")
    parser.add_argument("--gate", action="store_true", help="fail when a decision's DIoR is below 0.95")
    parser.add_argument("--country", default=None, help="ISO3 country for the carbon intensity")
    parser.add_argument("--processes", type=int, default=None, metavar="N",
                        help=f"worker processes (pytest --frontier-processes; default {FULL_PROCESSES} with --full, "
                             f"0 for the quick profile: in the pytest process)")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")


def say(message: str, *, error: bool = False) -> None:
    print(f"frontierbench run: {message}", file=sys.stderr if error else sys.stdout, flush=True)


def run_suite(args: argparse.Namespace, runs: Path) -> tuple[int, list[Path]]:
    """pytest on the suite, in its own process (the suite imports torch and fixes its threads);
    returns pytest's exit status and the run records it wrote."""
    before = set(runs.glob("*.json")) if runs.exists() else set()
    command = [sys.executable, "-m", "pytest", args.suite, "-p", "no:cacheprovider", "-q",
               f"--frontier-out={runs}", f"--frontier-boards={args.boards}"]
    if not args.full:
        command.append("--frontier-quick")
    if args.country:
        command.append(f"--frontier-country={args.country}")
    processes = args.processes if args.processes is not None else (FULL_PROCESSES if args.full else 0)
    if processes:
        command.append(f"--frontier-processes={processes}")
    command += args.pytest_args
    say(" ".join(command))
    status = subprocess.call(command)
    written = sorted(set(runs.glob("*.json")) - before) if runs.exists() else []
    return status, written


def main(args: argparse.Namespace) -> int:
    work = Path(args.work)
    runs = Path(args.boards) / "_runs" if args.publish else work / "runs"
    leaderboards_dir = Path(args.boards) if args.publish else work / "leaderboards"
    boards, _ = find_boards(args.boards)  # a case whose board has no board.toml gets an inferred one

    suite_status, new_runs = run_suite(args, runs)
    if not new_runs:
        say(f"the suite wrote no run record (pytest exit {suite_status})", error=True)
        return suite_status or 1
    if suite_status not in (0, 1):  # 1: some cases failed; their record is still worth aggregating
        say(f"pytest exited {suite_status}; continuing with its record", error=True)

    inputs = [runs] if args.publish else new_runs
    leaderboards = aggregate(inputs, boards, warn=lambda message: say(f"warning: {message}", error=True))
    if not leaderboards:
        raise RecordError("no passed case with a board and a metric to rank on; nothing aggregated")
    paths = write_leaderboards(leaderboards, leaderboards_dir)
    for path in paths:
        say(f"wrote {path.as_posix()}")

    # One line per board: a reader needs which decisions are not reliable and why; the full
    # tables are a `frontierbench check` away.
    print("\nfrontierbench run: reliability (frontierbench check LEADERBOARDS for the full report)")
    reliable = check_leaderboards(paths, brief=True) == 0
    report = Path("docs/tradeoffs.md") if args.publish else work / "tradeoffs.md"
    write_text_atomic(report, build_report(paths, boards))
    say(f"wrote {report.as_posix()}")
    site = build_site(paths, args.site)
    say(f"open file://{site.resolve() / 'index.html'}")

    if suite_status:
        say(f"pytest exited {suite_status}: some suite cases failed or errored; see the table above", error=True)
        return suite_status
    if args.gate and not reliable:
        say("a decision's DIoR is below 0.95 (--gate)", error=True)
        return 1
    return 0
