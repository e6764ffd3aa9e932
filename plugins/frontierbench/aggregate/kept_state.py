"""What `aggregate --cache DIR` keeps of its last aggregate, so the next one can add new runs to it
(aggregate.incremental) instead of recomputing a whole history.

Three files in DIR, the JSON last:
- `kept.history.<name>`: every entry's history as the JSON text its leaderboard holds, appended to
  run by run (aggregate.history_log);
- `kept.v<N>.arrays`: the pools' units (aggregate.pool_units), the run-level series and each
  entry's runs, as raw arrays back to back, read through a memory map;
- `kept.v<N>.json`: the runs, entries, groups and reliability reports, where the arrays and the
  histories lie, the `key` (everything the result depends on besides the runs: boards, options,
  the code) and a `generation` that the arrays file starts with, so files of two different
  aggregates are never read as one.
The JSON is written last (atomically) and keeps the CRC-32 of the arrays and of the log; a missing,
foreign, damaged or inconsistent state is simply not used: the aggregate is then computed in full.
So nothing here waits for the disk (fsync): a state a crash left half-written is found when read,
and costs one full aggregate. aggregate.pipeline.aggregate_into holds the
cache's lock (`kept.lock`) from reading the state to keeping the next one, so two aggregates
sharing a cache take turns.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import secrets
import tempfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import orjson

from frontierbench.aggregate.entries import EntryFacts
from frontierbench.aggregate.assemble import GroupInputs, RunInfo
from frontierbench.aggregate.history_log import HistoryLog, read_pieces, remove_other_logs, write_log
from frontierbench.aggregate.pool_units import PoolUnits, Segments
from frontierbench.aggregate.reuse import GroupKey
from frontierbench.formats.atomic import current_umask, write_bytes_atomic
from frontierbench.formats.reliability import ReliabilityReport

STATE_VERSION = 1
Series = dict[int, dict[str, tuple[np.ndarray, np.ndarray]]]  # entry -> metric -> (positions, values)


@dataclass
class KeptState:
    key: str
    runs: list[RunInfo]  # in time order
    labels: list[tuple[str, ...]]  # per entry id: board, hardware class, board version, entry
    facts: list[EntryFacts]
    units: PoolUnits
    history: list[list[Any]]  # per entry: its history's JSON text in pieces (history_log.joined_text)
    series: Series
    groups: list[GroupInputs]
    failures: dict[GroupKey, list[str]]  # notes of the cases that did not pass, by group
    reports: dict[GroupKey, tuple[str | None, ReliabilityReport | None]]
    history_log: HistoryLog | None = None  # where `history` is kept (None: not yet)
    history_added: list[bytes | None] | None = None  # per entry, the text of its points not yet in the log


@contextmanager
def kept_state_lock(directory: Path) -> Iterator[None]:
    """Held from reading a cache's state to keeping the next one: aggregates sharing a cache take
    turns (each would otherwise append to the history log at the same place). Without a folder to
    lock (it cannot be made), nothing is kept there anyway (aggregate.cache says so)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle = open(directory / "kept.lock", "a+b")
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def state_paths(directory: Path) -> dict[str, Path]:
    return {suffix: directory / f"kept.v{STATE_VERSION}.{suffix}" for suffix in ("json", "arrays")}


_SEGMENTS = ("run_values", "unit_medians", "samples", "unit_values", "items")
_ARRAYS = ("entry", "higher_is_better", "directions", "runs", "sampled_kind", "mixed_kinds", "unit_sizes",
           "item_rows", "item_equal")


def save_state(directory: Path, state: KeptState) -> None:
    generation = secrets.token_hex(16)
    paths = state_paths(directory)
    units = state.units
    arrays: dict[str, np.ndarray] = {}
    for name in _SEGMENTS:
        segments: Segments = getattr(units, name)
        arrays[f"{name}.values"], arrays[f"{name}.bounds"] = segments.values, segments.bounds
    for name in _ARRAYS:
        arrays[name] = getattr(units, name)
    series_keys, positions, values = [], [], []
    for entry, by_metric in state.series.items():
        for metric, (position, value) in by_metric.items():
            series_keys.append([entry, metric, int(position.size)])
            positions.append(position)
            values.append(value)
    arrays["series.positions"] = np.concatenate(positions) if positions else np.zeros(0, np.int64)
    arrays["series.values"] = np.concatenate(values) if values else np.zeros(0)
    runs = [facts.runs for facts in state.facts]  # a run index per point: arrays, not JSON
    arrays["facts.runs"] = np.concatenate([np.asarray(r, np.int64) for r in runs]) if runs else np.zeros(0, np.int64)
    arrays["facts.runs.sizes"] = np.asarray([len(r) for r in runs], np.int64)
    log = write_log(directory, state.history, state.history_log, state.history_added)
    index = _save_arrays(paths["arrays"], generation, arrays)
    meta = {
        "version": STATE_VERSION, "key": state.key, "generation": generation, "arrays": index,
        "history_log": vars(log),
        "runs": [vars(run) for run in state.runs], "labels": state.labels,
        "facts": [dict(vars(facts), runs=None, params=facts.params if isinstance(facts.params, str)
                       else orjson.dumps(facts.params).decode()) for facts in state.facts],
        "metric": units.metric, "unit": units.unit, "excluded_runs": units.excluded_runs,
        "provenance": [p if isinstance(p, str) else p.model_dump_json() for p in units.provenance],
        "series": series_keys, "groups": [vars(group) for group in state.groups],
        "failures": [[list(key), notes] for key, notes in state.failures.items()],
        "reports": [[list(key), fingerprint, report.model_dump(mode="json") if report is not None else None]
                    for key, (fingerprint, report) in state.reports.items()],
    }
    write_bytes_atomic(paths["json"], orjson.dumps(meta, option=orjson.OPT_SERIALIZE_NUMPY), durable=False)
    remove_other_logs(directory, log.name)


def _split(values: np.ndarray, sizes: np.ndarray) -> list[list[int]]:
    ends = np.cumsum(sizes).tolist()
    flat = values.tolist()
    return [flat[end - size:end] for end, size in zip(ends, sizes.tolist())]


ALIGN = 64


def _save_arrays(path: Path, generation: str, arrays: dict[str, np.ndarray]) -> dict[str, list[Any]]:
    """The arrays back to back in one file after the generation (each at a multiple of ALIGN bytes),
    written atomically (not waited for on disk: the JSON naming them keeps their CRC-32). Returns
    where each lies: [offset, dtype, length]."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    index: dict[str, list[Any]] = {}
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(generation.encode())
            offset, crc = len(generation), zlib.crc32(generation.encode())
            for name, array in arrays.items():
                array = np.ascontiguousarray(array)
                padding = b"\0" * (-offset % ALIGN)
                handle.write(padding)
                offset, crc = offset + len(padding), zlib.crc32(padding, crc)
                index[name] = [offset, array.dtype.str, int(array.size)]
                data = memoryview(array).cast("B")
                handle.write(data)
                offset, crc = offset + array.nbytes, zlib.crc32(data, crc)
            index["crc32"] = [offset, "", crc]  # of the whole file, `offset` bytes
        os.chmod(temporary, 0o666 & ~current_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return index


def _read_arrays(path: Path, generation: str, index: dict[str, list[Any]]) -> dict[str, np.ndarray] | None:
    """The arrays, as read-only views of the file mapped into memory (nothing is copied until used)."""
    index = dict(index)
    size, _, crc = index.pop("crc32")
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size != size or handle.read(len(generation)) != generation.encode():
            return None
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    if zlib.crc32(mapped) != crc:  # damaged since it was written
        return None
    arrays = {}
    for name, (offset, dtype, length) in index.items():
        kind = np.dtype(dtype)
        if offset + kind.itemsize * length > size:
            return None
        arrays[name] = np.frombuffer(mapped, dtype=kind, count=length, offset=offset)
    return arrays


def load_state(directory: Path, key: str) -> KeptState | None:
    """The kept state for `key`, or None where there is none (or it cannot be read as one whole)."""
    paths = state_paths(directory)
    try:
        meta = orjson.loads(paths["json"].read_bytes())
        if meta.get("version") != STATE_VERSION or meta.get("key") != key:
            return None
        arrays = _read_arrays(paths["arrays"], meta["generation"], meta["arrays"])
        log = HistoryLog(**meta["history_log"])
        history = read_pieces(directory, log)
        if arrays is None or history is None or len(history) != len(meta["labels"]):
            return None
        units = PoolUnits(
            metric=meta["metric"], unit=meta["unit"], excluded_runs=meta["excluded_runs"],
            provenance=meta["provenance"],
            **{name: Segments(arrays[f"{name}.values"], arrays[f"{name}.bounds"]) for name in _SEGMENTS},
            **{name: arrays[name] for name in _ARRAYS})
        series: Series = {}
        offset = 0
        for entry, metric, size in meta["series"]:
            series.setdefault(entry, {})[metric] = (arrays["series.positions"][offset:offset + size],
                                                    arrays["series.values"][offset:offset + size])
            offset += size
        return KeptState(
            key=key, runs=[RunInfo(**run) for run in meta["runs"]],
            labels=[tuple(label) for label in meta["labels"]],
            facts=[EntryFacts(**dict(facts, runs=runs)) for facts, runs in zip(meta["facts"], _split(
                arrays["facts.runs"], arrays["facts.runs.sizes"]))], units=units, history=history,
            series=series, groups=[GroupInputs(**group) for group in meta["groups"]],
            failures={tuple(key): notes for key, notes in meta["failures"]},
            reports={tuple(key): (fingerprint, ReliabilityReport.model_validate(report) if report else None)
                     for key, fingerprint, report in meta["reports"]},
            history_log=log)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def code_fingerprint() -> str:
    """A hash of the package's source: a state kept by other code is never extended by this one."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def state_key(**settings: Any) -> str:
    """The key of a state: everything an aggregate depends on besides its input runs."""
    settings = dict(settings, state_version=STATE_VERSION, code=code_fingerprint())
    return hashlib.sha256(orjson.dumps(settings, option=orjson.OPT_SORT_KEYS)).hexdigest()
