"""`frontierbench history`: a folder of run records that accumulates across CI runs (asv's model).

One file per run, at runs/<hardware class>/<run id>.json, so histories kept on many machines
merge by copying files, and a run is stored once whichever job adds it. In CI the folder lives on
a branch of its own (see .github/workflows/pages.yml and the README).

    frontierbench history add runs/ --to history/         store new run records
    frontierbench history prune history/ --keep-days 365  drop records older than that
    frontierbench history latest history/ --like runs/    the newest stored run of the same
                                                          hardware class (the PR baseline)

`aggregate history/ --skip-invalid` then reads them all, naming and skipping a corrupt file or
one from a future schema instead of failing the publication.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from frontierbench.aggregate.ingest import discover, display_path, load_input, read_bytes
from frontierbench.formats.atomic import write_text_atomic
from frontierbench.formats.run import RecordError, RunRecord

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True)
class Stored:
    path: Path
    record: RunRecord


def warn(message: str) -> None:
    print(f"frontierbench history: warning: {message}", file=sys.stderr)


def safe_name(text: str, raw: bytes) -> str:
    """`text` when it is a plain file name, else a name from the content's hash."""
    return text if SAFE_NAME.fullmatch(text) and text not in (".", "..") else hashlib.sha256(raw).hexdigest()[:16]


def stored_path(root: Path, record: RunRecord, raw: bytes) -> Path:
    hardware = safe_name(record.environment.hardware_class or "unknown", raw)
    return root / "runs" / hardware / f"{safe_name(record.run_id, raw)}.json"


def read_history(root: Path) -> list[Stored]:
    """Every readable record under root; an unreadable one is named and skipped (never deleted)."""
    stored = []
    if not root.exists():
        return stored
    for path in discover([root]):
        try:
            loaded = load_input(path)
        except RecordError as exc:
            warn(f"skipped: {exc}")
            continue
        if loaded is not None:
            stored.append(Stored(path, loaded.record))
    return stored


def add(new: list[str], root: Path) -> list[Path]:
    """Copy each new record into the history, byte for byte. A run id already stored with other
    content is an error naming both files; the same content is stored once."""
    by_id = {s.record.run_id: s.path for s in read_history(root)}
    planned: list[tuple[Path, bytes]] = []
    for path in discover(new):
        raw = read_bytes(path)
        loaded = load_input(path)  # a new record must be valid: RecordError names the file
        if loaded is None:
            continue
        record = loaded.record
        known = by_id.get(record.run_id)
        if known is not None:
            if read_bytes(known) == raw:
                continue
            raise RecordError(f"{display_path(path)}: field 'run_id': {record.run_id!r} is already stored in "
                              f"{display_path(known)} with different content; refusing to store one run twice")
        target = stored_path(root, record, raw)
        by_id[record.run_id] = path
        planned.append((target, raw))
    # Text mode with newline="\n" writes the bytes unchanged (records are UTF-8 JSON).
    return [write_text_atomic(target, raw.decode("utf-8")) for target, raw in planned]


def started(record: RunRecord) -> datetime:
    moment = datetime.fromisoformat(record.started_at.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def prune(root: Path, keep_days: int | None, keep_runs: int | None) -> list[Path]:
    """Remove records older than `keep_days` before the newest one, and beyond the newest `keep_runs`
    of each hardware class. Relative to the newest record, not the clock: the same history prunes
    the same way whenever it runs."""
    stored = read_history(root)
    if not stored:
        return []
    newest = max(started(s.record) for s in stored)
    doomed: set[Path] = set()
    if keep_days is not None:
        cutoff = newest - timedelta(days=keep_days)
        doomed.update(s.path for s in stored if started(s.record) < cutoff)
    if keep_runs is not None:
        by_class: dict[str, list[Stored]] = {}
        for s in stored:
            by_class.setdefault(s.record.environment.hardware_class, []).append(s)
        for runs in by_class.values():
            runs.sort(key=lambda s: (started(s.record), s.record.run_id), reverse=True)
            doomed.update(s.path for s in runs[keep_runs:])
    for path in sorted(doomed):
        path.unlink()
    return sorted(doomed)


def latest(root: Path, like: list[str], branch: str | None) -> Path | None:
    """The newest stored run of the hardware class(es) of the runs in `like` (and of `branch`)."""
    classes = set()
    for path in discover(like):
        loaded = load_input(path)
        if loaded is not None:
            classes.add(loaded.record.environment.hardware_class)
    new_ids = {load.record.run_id for load in (load_input(p) for p in discover(like)) if load is not None}
    candidates = [s for s in read_history(root) if s.record.environment.hardware_class in classes
                  and s.record.run_id not in new_ids
                  and (branch is None or (s.record.environment.model_dump().get("git") or {}).get("branch") == branch)]
    if not candidates:
        return None
    return max(candidates, key=lambda s: (started(s.record), s.record.run_id)).path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    p_add = sub.add_parser("add", help="store new run records in the history folder")
    p_add.add_argument("runs", nargs="+", metavar="RUNS", help="run record files or folders")
    p_add.add_argument("--to", required=True, type=Path, metavar="HISTORY", help="the history folder")
    p_prune = sub.add_parser("prune", help="drop old records (retention)")
    p_prune.add_argument("history", type=Path, metavar="HISTORY")
    p_prune.add_argument("--keep-days", type=int, default=None, metavar="N",
                         help="keep records started within N days of the newest one")
    p_prune.add_argument("--keep-runs", type=int, default=None, metavar="N",
                         help="keep the newest N records of each hardware class")
    p_latest = sub.add_parser("latest", help="print the newest stored run of the same hardware class")
    p_latest.add_argument("history", type=Path, metavar="HISTORY")
    p_latest.add_argument("--like", nargs="+", required=True, metavar="RUNS",
                          help="new run records whose hardware class the stored run must share")
    p_latest.add_argument("--branch", default=None, help="only runs recorded on this git branch")


def main(args: argparse.Namespace) -> int:
    if args.action == "add":
        written = add(args.runs, args.to)
        print(f"frontierbench history: stored {len(written)} new run record(s) in {args.to}")
        for path in written:
            print(path.as_posix())
        return 0
    if args.action == "prune":
        for name, value in (("--keep-days", args.keep_days), ("--keep-runs", args.keep_runs)):
            if value is not None and value < 1:
                raise RecordError(f"{name} must be at least 1, got {value}")
        removed = prune(args.history, args.keep_days, args.keep_runs)
        print(f"frontierbench history: removed {len(removed)} record(s) from {args.history}")
        return 0
    found = latest(args.history, args.like, args.branch)
    if found is None:
        print(f"frontierbench history: no stored run of the same hardware class in {args.history}", file=sys.stderr)
        return 1
    print(found.as_posix())
    return 0
