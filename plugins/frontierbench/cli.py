"""`frontierbench COMMAND`: run, aggregate, check, compare, site, report, board, recover, schema, history.

Each sub-command lives in its own module, which exposes `add_arguments(parser)` and
`main(args) -> int` (the pyperf pattern). Modules are imported only when their command runs, so
`frontierbench schema run` does not pay for pandas or jinja2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from frontierbench import __version__
from frontierbench.formats.run import RecordError

# numpy asks Linux for 2 MB pages for each large array (madvise). Where the kernel then compacts
# memory to find them (transparent hugepage defrag "madvise", the Debian and Ubuntu default), adding
# one run to a million-row history spent 0.7 to 1.0 s more in the kernel with them
# (docs/performance.md). `aggregate`'s arrays live for a second or less: small pages serve them
# better. Only for that command (`run` starts the suite, whose measurements keep numpy's default),
# set before its module imports numpy; a value the user set is kept.
SMALL_PAGES = "NUMPY_MADVISE_HUGEPAGE"
SMALL_PAGE_COMMANDS = frozenset({"aggregate"})

COMMANDS = {
    "run": ("frontierbench.commands.run", "the main job: quick reference suite, then aggregate, check and site"),
    "aggregate": ("frontierbench.commands.aggregate", "merge run records into versioned leaderboard JSON"),
    "check": ("frontierbench.commands.check",
              "report the reliability of every leaderboard decision; gate on --min-dior"),
    "compare": ("frontierbench.commands.compare", "detect regressions between two runs or two leaderboards"),
    "site": ("frontierbench.commands.site", "render leaderboards as a static site"),
    "report": ("frontierbench.commands.report", "the trade-offs each board declares, as measured (markdown)"),
    "board": ("frontierbench.commands.board", "board init NAME [RUNS...]: write a commented board.toml to edit"),
    "recover": ("frontierbench.commands.recover", "journals of runs that died -> run records (status crashed)"),
    "schema": ("frontierbench.commands.schema", "print the JSON Schema of a file format"),
    "history": ("frontierbench.commands.history", "keep a folder of run records across CI runs: add, prune, latest"),
}


def build_parser(argv: list[str]) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser | None]:
    parser = argparse.ArgumentParser(prog="frontierbench", description=__doc__.splitlines()[0],
                                     epilog="`frontierbench COMMAND --help` shows a command's options.")
    parser.add_argument("--version", action="version", version=f"frontierbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = None
    for name, (module_name, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        # Only the chosen command's module is imported to add its options.
        if name in argv[:1]:
            importlib.import_module(module_name).add_arguments(command_parser)
            chosen = command_parser
    return parser, chosen


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] and argv[0] in SMALL_PAGE_COMMANDS and "numpy" not in sys.modules:
        os.environ.setdefault(SMALL_PAGES, "0")
    parser, _ = build_parser(argv)
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    module = importlib.import_module(COMMANDS[args.command][0])
    try:
        return int(module.main(args) or 0)
    except RecordError as exc:
        print(f"frontierbench {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file that cannot be read or written: name it, no traceback
        where = exc.filename if exc.filename is not None else "<output>"
        print(f"frontierbench {args.command}: error: {where}: {exc.strerror or exc}", file=sys.stderr)
        return 2


def console_main() -> None:
    """The `frontierbench` command: main(), then an exit that does not free the heap object by object.

    After adding a run to a million-row history, that clean-up took 0.3 s of the 4.5 (the operating
    system takes the memory back at once); mypy exits the same way. Output is flushed first, and
    nothing in frontierbench relies on exit handlers. main() itself returns, as tests call it."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    console_main()
