"""`frontierbench aggregate RUNS... -o leaderboards/`: run records -> leaderboards (see aggregate.pipeline)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from frontierbench.aggregate import aggregate_into
from frontierbench.formats.board import find_boards
from frontierbench.formats.run import RecordError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUNS",
                        help="run record files, pytest-benchmark JSON files, or directories of them")
    parser.add_argument("-o", "--output", default="leaderboards", help="where leaderboards/<board>/ are written")
    parser.add_argument("--boards", default=None,
                        help="directory holding <board>/board.toml (default: leaderboards/ under the current "
                             "folder; a board with no board.toml is inferred from its metrics)")
    parser.add_argument("--draws", type=int, default=1000, help="bootstrap draws (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed for every bootstrap (default 0)")
    parser.add_argument("--default-board", default=None,
                        help="board for pytest-benchmark results whose extra_info names none "
                             "(default: the benchmark's module)")
    parser.add_argument("--strict", action="store_true",
                        help="a case whose board has no board.toml is an error, instead of an inferred board")
    parser.add_argument("--no-reliability", action="store_true", help="skip the reliability checks")
    parser.add_argument("--cache", default=None, metavar="DIR",
                        help="keep each run record's tidy rows in DIR (Arrow files, by sha256) and read them back "
                             "next time: re-aggregating a history parses only its new files; also keep this "
                             "aggregate's state there, which the next one extends when its only new inputs are "
                             "runs newer than all the others")
    parser.add_argument("--reuse-reliability", nargs="+", default=None, metavar="LEADERBOARDS",
                        help="previous leaderboards (files or folders): a group whose inputs did not change keeps "
                             "its reliability report instead of being assessed again")
    parser.add_argument("--skip-invalid", action="store_true",
                        help="name and skip a corrupt or future-schema input with a warning instead of failing "
                             "(for publishing a long history; a run id stored twice stays an error)")


def main(args: argparse.Namespace) -> int:
    output = Path(args.output)
    if output.exists() and not output.is_dir():  # found now, not after all the work
        raise RecordError(f"{output}: -o/--output must be a folder (leaderboards/<board>/ go in it); "
                          f"this is an existing file")
    boards, _ = find_boards(args.boards)
    if args.draws < 1:
        raise RecordError(f"--draws must be at least 1, got {args.draws}")
    if args.seed < 0:
        raise RecordError(f"--seed must be 0 or more, got {args.seed}")

    def warn(message: str) -> None:
        print(f"frontierbench aggregate: warning: {message}", file=sys.stderr)

    written = aggregate_into(args.runs, boards, args.output, draws=args.draws, seed=args.seed,
                             default_board=args.default_board, reliability=not args.no_reliability,
                             strict=args.strict, warn=warn, skip_invalid=args.skip_invalid,
                             cache=args.cache, reuse_from=args.reuse_reliability)
    for path in written:
        print(path.as_posix())
    return 0
