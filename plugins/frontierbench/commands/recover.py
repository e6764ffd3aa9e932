"""`frontierbench recover DIR...`: turn the journals of runs that died into run records.

A pytest session journals each case as it finishes (`<run_id>.journal.jsonl`). If the process
dies (SIGKILL from the OOM killer, a segfault, a machine that lost power) the journal stays; this
writes it as `<run_id>.json` with `status: "crashed"`, the case that was running recorded as
failed, and removes the journal. The next pytest session writing into the folder, and
`frontierbench aggregate`, do the same on their own.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from frontierbench.formats.journal import JOURNAL_SUFFIX, find_journals, is_locked, recover_journal
from frontierbench.formats.run import RecordError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="DIR",
                        help="folders to search for journals (recursively), or journal files")
    parser.add_argument("--dry-run", action="store_true", help="say what would be recovered; write nothing")


def main(args: argparse.Namespace) -> int:
    journals: list[Path] = []
    for given in map(Path, args.paths):
        if given.is_dir():
            journals.extend(find_journals(given))
        elif given.is_file() and given.name.endswith(JOURNAL_SUFFIX):
            journals.append(given)
        else:
            raise RecordError(f"{given}: not a folder or a *{JOURNAL_SUFFIX} journal")
    failures = 0
    for journal in journals:
        if is_locked(journal):
            print(f"{journal}: a run still in progress; left alone")
            continue
        try:
            recovered = recover_journal(journal, write=not args.dry_run)
        except (RecordError, OSError) as exc:
            failures += 1
            print(f"frontierbench recover: error: {journal}: {exc}", file=sys.stderr)
            continue
        for warning in recovered.warnings:
            print(f"frontierbench recover: warning: {warning}", file=sys.stderr)
        record = recovered.record
        cut = [case["nodeid"] for case in record["cases"] if case.get("cut_short")]
        where = "(dry run, nothing written)" if args.dry_run else f"-> {recovered.record_path}"
        print(f"{journal} {where}: status crashed, {len(record['cases'])} cases"
              + (f"; died during {', '.join(cut)}" if cut else ""))
    if not journals:
        print("frontierbench recover: no journal found; nothing to recover")
    return 1 if failures else 0
