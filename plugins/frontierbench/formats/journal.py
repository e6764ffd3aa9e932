"""The journal of a run: `<out>/<run_id>.journal.jsonl`, written as cases finish.

A run record is written once, at the end of a session; a process that dies before then (the OOM
killer's SIGKILL, a segfault, a cancelled CI job) would lose every case. So each finished case is
also appended here, one JSON object per line, flushed and fsynced (the way MLPerf's LoadGen logs as
it goes). At a normal end the record is written from the journal and the journal is removed; a
journal left behind is turned into a record with `status: "crashed"` by `recover_journal`.

Lines, each one JSON object with one of these keys:
- `journal`: the header (first line): schema, run_id, started_at, environment and config;
- `started`: a case has begun (its names), flushed but not fsynced: only a process death, not a
  power cut, must leave it readable, and it saves a disk round trip per case;
- `case`: a finished case, exactly as the record will hold it (already checked), flushed at once
  and fsynced (see JournalWriter for how often);
- `config`: fields merged into the record's config (the grid intensity, board versions);
- `died`: a case whose worker process died, with the cause (written by the supervisor).

The writer holds an exclusive `flock` on the file for as long as it runs. The kernel drops it when
the process dies, however it dies, so a journal whose lock can be taken belongs to a dead run.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from frontierbench.formats.atomic import dumps_canonical, write_json_atomic
from frontierbench.formats.run import RUN_SCHEMA, RecordError, parse_run

JOURNAL_SCHEMA = "frontierbench.journal/1"
JOURNAL_SUFFIX = ".journal.jsonl"
DIED = "the process died during this case"


def journal_path(out_dir: Path, run_id: str) -> Path:
    return Path(out_dir) / f"{run_id}{JOURNAL_SUFFIX}"


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- values as JSON can hold them --------------------------------------------------------------


class UnrecordableValue(RecordError):
    """A value that JSON cannot hold faithfully; the message names the field."""


def plain_json(value: Any, where: str) -> Any:
    """`value` with numpy scalars and arrays turned into numbers and lists, tuples into lists.

    Refused, naming the field: NaN and infinities, strings that are not valid Unicode (a lone
    surrogate cannot be written as UTF-8), non-string keys and any other object.
    """
    kind = type(value)
    if value is None or kind is bool or kind is int:
        return value
    if kind is str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise UnrecordableValue(f"field {where!r}: {value!r} is not valid Unicode "
                                    f"({exc.reason} at position {exc.start})") from None
        return value
    if kind is float:
        if value != value or value in (float("inf"), float("-inf")):
            raise UnrecordableValue(f"field {where!r}: {value!r} cannot be recorded; only finite numbers are")
        return value
    if kind is dict:
        plain = {}
        for key, item in value.items():
            if type(key) is not str:
                raise UnrecordableValue(f"field {where!r}: key {key!r} is not a string")
            plain[plain_json(key, f"{where}.<key>")] = plain_json(item, f"{where}.{key}")
        return plain
    if kind in (list, tuple):
        return [plain_json(item, f"{where}.{index}") for index, item in enumerate(value)]
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return plain_json(value.tolist(), where)  # numpy scalar -> Python number, array -> lists
    if isinstance(value, (bool, int, float, str)):  # subclasses, e.g. an IntEnum
        return plain_json((bool if isinstance(value, bool) else int if isinstance(value, int)
                           else float if isinstance(value, float) else str)(value), where)
    raise UnrecordableValue(f"field {where!r}: a {type(value).__name__} ({value!r:.80}) cannot be recorded; "
                            f"give a number, a string, a list or a dict")


# -- writing -----------------------------------------------------------------------------------


class JournalWriter:
    """Appends lines to a journal. `create` makes a new one and locks it; `attach` is for worker
    processes that append to the journal their supervisor holds.

    Every line is written and flushed at once: from then on it is in the kernel, and no death of
    the process (SIGKILL, a segfault, os._exit) can lose it. A durable line is also fsynced, for
    what only a crash of the machine itself could lose, but at most once per SYNC_INTERVAL_S: a
    case that finishes sooner after the previous fsync is synced with the next line, or when the
    journal is closed. fsync costs 0.1 to 3 ms on this VM's disk, depending on the other writers;
    for cases that take milliseconds it would otherwise cost more than the measurement itself.
    """

    SYNC_INTERVAL_S = 0.25

    def __init__(self, path: Path, handle, *, locked: bool):
        self.path = path
        self._handle = handle
        self.locked = locked
        self._synced_at = 0.0
        self._unsynced = False

    @classmethod
    def create(cls, path: Path, header: dict[str, Any]) -> JournalWriter:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_APPEND: worker processes append to the same file; every write must land at its end.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o666)
        handle = os.fdopen(descriptor, "w", encoding="utf-8", newline="\n")
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        writer = cls(path, handle, locked=True)
        writer.append({"journal": {"schema": JOURNAL_SCHEMA, **header}})
        return writer

    @classmethod
    def attach(cls, path: Path) -> JournalWriter:
        return cls(Path(path), open(path, "a", encoding="utf-8", newline="\n"), locked=False)

    def append(self, line: dict[str, Any], *, durable: bool = True) -> None:
        self._handle.write(dumps_canonical(line))
        self._handle.flush()
        if durable:
            self._unsynced = True
            if time.monotonic() - self._synced_at >= self.SYNC_INTERVAL_S:
                self.sync()

    def sync(self) -> None:
        if self._unsynced and not self._handle.closed:
            os.fsync(self._handle.fileno())
            self._unsynced = False
            self._synced_at = time.monotonic()

    def close(self) -> None:
        if not self._handle.closed:
            self.sync()
            self._handle.close()  # also drops the lock

    def remove(self) -> None:
        if not self._handle.closed:
            self._handle.close()
        self.path.unlink(missing_ok=True)


# -- reading -----------------------------------------------------------------------------------


@dataclass
class JournalContents:
    header: dict[str, Any]
    cases: list[dict[str, Any]] = field(default_factory=list)
    started: dict[tuple[str, Any], dict[str, Any]] = field(default_factory=dict)  # not finished
    config: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return self.header["run_id"]

    def add(self, line: dict[str, Any]) -> None:
        if "case" in line:
            case = line["case"]
            self.started.pop((case["nodeid"], case.get("process")), None)
            self.cases.append(case)
        elif "started" in line:
            names = line["started"]
            self.started[(names["nodeid"], names.get("process"))] = names
        elif "died" in line:
            died = line["died"]
            names = self.started.pop((died["nodeid"], died.get("process")), None) or died
            self.cases.append(cut_short_case(names, died["cause"]))
        elif "config" in line:
            self.config.update(line["config"])


def read_journal(path: Path) -> JournalContents:
    """Every complete line of a journal. A last line cut short by the death is skipped with a
    warning; a damaged line elsewhere, or a missing header, is an error naming the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise RecordError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    lines = text.split("\n")
    contents: JournalContents | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            parsed = json.loads(line)
            if not isinstance(parsed, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            if number >= len(lines) - 1:  # the last line, cut short when the process died
                if contents is not None:
                    contents.warnings.append(f"{path}: line {number} is incomplete (the process died "
                                             f"while writing it); skipped")
                    break
            raise RecordError(f"{path}: line {number}: not a journal line ({exc})") from None
        if contents is None:
            if not isinstance(parsed.get("journal"), dict) or parsed["journal"].get("schema") != JOURNAL_SCHEMA:
                raise RecordError(f"{path}: line 1: field 'journal': expected a header with schema "
                                  f"{JOURNAL_SCHEMA!r}")
            contents = JournalContents(header=parsed["journal"])
            contents.config.update(contents.header.get("config") or {})
            continue
        contents.add(parsed)
    if contents is None:
        raise RecordError(f"{path}: empty journal (the process died before writing its header)")
    return contents


def cut_short_case(names: dict[str, Any], cause: str) -> dict[str, Any]:
    """The record's case for one that never finished: failed, with the cause."""
    case = {key: names.get(key) for key in ("nodeid", "entry", "board", "family", "params", "device",
                                            "hardware_class", "process") if names.get(key) is not None}
    case.setdefault("entry", case["nodeid"])
    return {**case, "outcome": "failed", "duration": None, "error": cause, "metrics": {},
            "cut_short": True}


def record_from_journal(contents: JournalContents, *, status: str, finished_at: str | None = None,
                        cause: str = DIED) -> dict[str, Any]:
    """The run record a journal holds. Cases begun but not finished are failed with `cause`."""
    header = contents.header
    cases = list(contents.cases)
    cases.extend(cut_short_case(names, cause) for names in contents.started.values())
    return {"schema": RUN_SCHEMA, "run_id": header["run_id"], "started_at": header["started_at"],
            "finished_at": finished_at or utc_now(), "status": status,
            "environment": header["environment"], "config": dict(contents.config), "cases": cases}


# -- recovery ----------------------------------------------------------------------------------


def is_locked(path: Path) -> bool:
    """True while a living process writes this journal (it holds the lock)."""
    try:
        with open(path, "rb") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    except FileNotFoundError:
        return False
    return False


def find_journals(directory: Path) -> list[Path]:
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(directory.rglob(f"*{JOURNAL_SUFFIX}"))


@dataclass
class Recovered:
    journal: Path
    record_path: Path | None  # None when nothing was written (a dry run, or a folder one cannot write)
    record: dict[str, Any]
    warnings: list[str]


def recover_journal(path: Path, *, write: bool = True) -> Recovered:
    """Turn a dead run's journal into a valid record with status "crashed" (validated), written
    atomically beside it as `<run_id>.json`; then the journal is removed. A record of that run
    already beside it with as many cases (the process died just after writing it) is kept; one
    with fewer (the run was resumed, and the journal holds its cases and more) is replaced."""
    path = Path(path)
    if is_locked(path):
        raise RecordError(f"{path}: a running frontierbench session still writes this journal")
    contents = read_journal(path)
    record = record_from_journal(contents, status="crashed")
    parse_run(record, source=str(path))  # a journal only ever holds checked cases: this must pass
    target = path.with_name(f"{contents.run_id}.json")
    if not write:
        return Recovered(path, None, record, contents.warnings)
    if not _holds_at_least(target, len(record["cases"])):
        write_json_atomic(target, record)
    path.unlink(missing_ok=True)
    return Recovered(path, target, record, contents.warnings)


def recover_dead_journals(directory: Path) -> list[str]:
    """Recover every dead run's journal directly in `directory`; what was done, one line each."""
    said = []
    for path in sorted(Path(directory).glob(f"*{JOURNAL_SUFFIX}")) if Path(directory).is_dir() else []:
        if is_locked(path):
            continue
        try:
            recovered = recover_journal(path)
        except (RecordError, OSError) as exc:
            said.append(f"could not recover {path}: {exc}")
            continue
        said.append(f"recovered the journal of a run that died: {recovered.record_path} "
                    f"(status crashed, {len(recovered.record['cases'])} cases)")
    return said


def _holds_at_least(record_path: Path, cases: int) -> bool:
    try:
        existing = json.loads(record_path.read_text(encoding="utf-8"))
        return isinstance(existing, dict) and len(existing.get("cases") or []) >= cases
    except (OSError, ValueError):
        return False
