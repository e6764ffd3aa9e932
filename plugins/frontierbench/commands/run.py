"""`frontierbench run`: the main job, end to end.

The reference suite (quick profile unless --full) -> a run record -> `aggregate` -> `check`
(a report; a gate with --gate) -> `site`. Run it from the repository root, where suite/ and
leaderboards/ live.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from frontierbench import cli


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
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")


def main(args: argparse.Namespace) -> int:
    work = Path(args.work)
    runs = Path(args.boards) / "_runs" if args.publish else work / "runs"
    leaderboards = Path(args.boards) if args.publish else work / "leaderboards"
    before = set(runs.glob("*.json")) if runs.exists() else set()
    command = [sys.executable, "-m", "pytest", args.suite, "-p", "no:cacheprovider", "-q",
               f"--frontier-out={runs}", f"--frontier-boards={args.boards}"] + ([] if args.full else ["--frontier-quick"])
    if args.country:
        command.append(f"--frontier-country={args.country}")
    command += args.pytest_args
    print("frontierbench run:", " ".join(command), flush=True)
    suite_status = subprocess.call(command)
    new_runs = sorted(set(runs.glob("*.json")) - before) if runs.exists() else []
    if not new_runs:
        print(f"frontierbench run: the suite wrote no run record (pytest exit {suite_status})", file=sys.stderr)
        return suite_status or 1
    if suite_status not in (0, 1):
        print(f"frontierbench run: pytest exited {suite_status}; continuing with its record", file=sys.stderr)
    inputs = [str(runs)] if args.publish else [str(p) for p in new_runs]
    status = cli.main(["aggregate", *inputs, "-o", str(leaderboards), "--boards", args.boards])
    if status:
        return status
    boards = sorted(str(p) for p in leaderboards.glob("*/leaderboard.json"))
    # One line per board: a reader needs which decisions are not reliable and why; the full
    # tables are a `frontierbench check` away.
    print("\nfrontierbench run: reliability (frontierbench check LEADERBOARDS for the full report)")
    check_status = cli.main(["check", "--brief", *boards])
    report = Path("docs/tradeoffs.md") if args.publish else work / "tradeoffs.md"
    cli.main(["report", *boards, "--boards", args.boards, "-o", str(report)])
    status = cli.main(["site", *boards, "-o", args.site])
    if status:
        return status
    index = Path(args.site).resolve() / "index.html"
    print(f"\nfrontierbench run: open file://{index}")
    if suite_status == 1:
        print("frontierbench run: some suite cases failed; see the table above", file=sys.stderr)
        return 1
    return check_status if args.gate else 0
