"""A cache of each input file's tidy rows, keyed by the file's sha256, in Arrow's columnar format.

Publishing a history re-reads every run record each time, and parsing and validating JSON is most
of that work (about 10,000 case rows a second). With `frontierbench aggregate --cache DIR`, the
rows of each frontierbench record (tidy.RunRows: its cases before any board definition is applied)
are written once to DIR/<sha256>.v<N>.arrow, and every later aggregate reads them back instead
of the JSON. The Arrow IPC file format, uncompressed: it is read through a memory map, without
parsing or copying, in about half a millisecond a file (Parquet took 6 to 10 ms, which for a
thousand-run history was seconds of every re-aggregation). The key is the file's content, so an
edited or replaced file is simply a new entry; a cache file that cannot be read, or whose content
does not match the CRC-32 stored in it, is rebuilt from its record. CACHE_VERSION is part of each
file's name: change it whenever tidy.run_rows or this layout changes what a file holds.
pytest-benchmark inputs are not cached (how they map to cases depends on the boards' objectives).
Nothing is ever deleted from the folder: after `history prune`, delete it to reclaim the space.

One file per input: its metric rows are the table (strings dictionary-encoded, samples as a list
column, provenance as an index into the distinct provenance texts). Its case rows are a second
Arrow table, kept in the file's metadata as an IPC stream; params, failures and the record's
header (everything but its cases) travel there as JSON.
"""

from __future__ import annotations

import json
import os
import tempfile
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as np
import orjson
import pyarrow as pa

from frontierbench.aggregate.file_hashes import KnownHashes
from frontierbench.aggregate.ingest import LoadedRun, display_path, load_input
from frontierbench.aggregate.tidy import STRING_COLUMNS, Coded, RunRows, run_rows
from frontierbench.formats.atomic import current_umask
from frontierbench.formats.run import RunRecord

CACHE_VERSION = 5  # part of each file's name: a new layout never reads an old one
META_KEY = b"frontierbench.tidy"
CASES_KEY = b"frontierbench.cases"
CRC_KEY = b"frontierbench.crc32"


def cache_file(directory: Path, sha256: str) -> Path:
    return directory / f"{sha256}.v{CACHE_VERSION}.arrow"


def _strings(values: Any) -> pa.DictionaryArray:
    coded = Coded.of(values)
    return pa.DictionaryArray.from_arrays(pa.array(coded.codes, pa.int32()), pa.array(coded.names, pa.string()))


def _coded(column: pa.ChunkedArray | pa.DictionaryArray) -> Coded:
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return Coded(array.indices.to_numpy(zero_copy_only=False), array.dictionary.to_pylist())


def _cases_stream(cases: dict[str, Any]) -> bytes:
    table = pa.table({**{key: _strings(cases[key]) for key in STRING_COLUMNS},
                      "items": pa.array(np.asarray(cases["items"], dtype=np.float64)),
                      "process": pa.array(np.asarray(cases["process"], dtype=np.int64))})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _read_cases(stream: bytes) -> dict[str, Any]:
    table = pa.ipc.open_stream(stream).read_all()
    cases: dict[str, Any] = {key: _coded(table.column(key)) for key in STRING_COLUMNS}
    cases["items"] = table.column("items").to_numpy()
    cases["process"] = table.column("process").to_numpy()
    return cases


def _checksum(meta: bytes, cases: bytes, metrics: dict[str, Any], samples: np.ndarray, provenance: Coded) -> int:
    """CRC-32 of everything a cache file holds, in the form read_rows returns it: a file damaged in a
    way that still parses is rebuilt, not counted (about 0.06 s per 240 MB of samples)."""
    crc = zlib.crc32(meta)
    crc = zlib.crc32(cases, crc)
    for key, dtype in (("case", np.int32), ("value", np.float64), ("higher_is_better", np.uint8), ("n", np.int64)):
        crc = zlib.crc32(np.ascontiguousarray(np.asarray(metrics[key]).astype(dtype, copy=False)), crc)
    for coded in (metrics["metric"], metrics["unit"], metrics["kind"], provenance):
        crc = zlib.crc32(np.ascontiguousarray(coded.codes, dtype=np.int32), crc)
        crc = zlib.crc32("\0".join(coded.names).encode("utf-8"), crc)
    return zlib.crc32(np.ascontiguousarray(samples, dtype=np.float64), crc)


def write_rows(path: Path, loaded: LoadedRun, rows: RunRows) -> None:
    provenance = rows.provenance
    metrics = dict(rows.metrics, **{key: Coded.of(rows.metrics[key]) for key in ("metric", "unit", "kind")})
    counts = np.asarray(metrics["n"], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    table = pa.table({
        "case": pa.array(np.asarray(metrics["case"], dtype=np.int32)),
        "metric": _strings(metrics["metric"]),
        "value": pa.array(np.asarray(metrics["value"], dtype=np.float64)),
        "unit": _strings(metrics["unit"]),
        "higher_is_better": pa.array(np.asarray(metrics["higher_is_better"], dtype=bool)),
        "kind": _strings(metrics["kind"]),
        "samples": pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(rows.samples, pa.float64())),
        "provenance": pa.array(provenance.codes, pa.int32()),
    })
    header = loaded.record.model_dump(mode="json", by_alias=True, exclude={"cases"})
    meta = json.dumps({"header": header, "format": loaded.format, "warnings": loaded.warnings,
                       "params": [p if isinstance(p, str) else json.dumps(p) for p in rows.params],
                       "failures": rows.failures, "no_board": rows.no_board,
                       "provenance": provenance.names}).encode("utf-8")
    cases = _cases_stream(rows.cases)
    crc = _checksum(meta, cases, metrics, rows.samples, provenance)
    table = table.replace_schema_metadata({META_KEY: meta, CASES_KEY: cases, CRC_KEY: str(crc).encode()})
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~current_umask())  # a cache shared by a team's accounts, like any file they write
        with os.fdopen(fd, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_rows(path: Path, source: str, sha256: str) -> LoadedRun:
    """The rows cached in `path`; ValueError if its content is not what was written."""
    with pa.memory_map(str(path)) as source_map:
        table = pa.ipc.open_file(source_map).read_all()
    stored = table.schema.metadata
    samples = table.column("samples").combine_chunks()
    metrics: dict[str, Any] = {
        "case": table.column("case").to_numpy(), "value": table.column("value").to_numpy(),
        "higher_is_better": table.column("higher_is_better").to_numpy(zero_copy_only=False),
        "metric": _coded(table.column("metric")), "unit": _coded(table.column("unit")),
        "kind": _coded(table.column("kind")), "n": np.diff(samples.offsets.to_numpy())}
    values = samples.values.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    provenance_codes = table.column("provenance").to_numpy()
    meta = orjson.loads(stored[META_KEY])
    provenance = Coded(provenance_codes, meta["provenance"])
    if int(stored.get(CRC_KEY, b"-1")) != _checksum(stored[META_KEY], stored[CASES_KEY], metrics, values, provenance):
        raise ValueError(f"{path}: its content does not match its checksum")
    record = RunRecord.model_validate({**meta["header"], "cases": []})
    rows = RunRows(cases=_read_cases(stored[CASES_KEY]), params=meta["params"], metrics=metrics,
                   provenance=provenance, samples=values, failures=meta["failures"], no_board=meta["no_board"])
    return LoadedRun(source, sha256, meta["format"], record, meta["warnings"], rows=rows)


class RowsLoader:
    """A drop-in for ingest.load_input that turns each record into its tidy rows as it is read, and
    with a cache `directory` keeps them there and reads them back.

    A record whose boards all have definitions keeps only its header once its rows are built: a
    million cases as validated objects took gigabytes, their rows a few hundred megabytes. A record
    naming a board without a definition is kept whole (from the cache, it is parsed again):
    inferring that board's definition reads the cases themselves. `save()` after loading keeps the
    input files' hashes for next time (aggregate.file_hashes).
    """

    def __init__(self, directory: str | Path | None, defined_boards: set[str],
                 warn: Callable[[str], None] = lambda message: None):
        self.directory = Path(directory) if directory is not None else None
        self.defined_boards = defined_boards
        self.hashes = KnownHashes(self.directory) if self.directory is not None else None
        self.warn = warn
        self.writable = True  # until a write there fails: then read what is there, keep nothing new
        self.served: dict[str, Path] = {}  # sha256 -> the first input it was given for

    def _cannot_write(self, exc: OSError) -> None:
        if self.writable:
            self.writable = False
            self.warn(f"--cache {self.directory}: cannot write there ({exc.strerror or exc}); aggregating "
                      f"without keeping the rows of new records")

    def __call__(self, path: Path, **options: Any) -> LoadedRun | None:
        target = None
        if self.directory is not None and self.hashes is not None:
            sha = self.hashes.sha256(path)
            if self.served.setdefault(sha, path) != path:  # two files, one remembered hash: make sure
                sha = self.hashes.sha256(path, verify=True)
                self.served.setdefault(sha, path)
            target = cache_file(self.directory, sha)
            cached = _read_cached(target, display_path(path), sha)
            if cached is not None:
                if _boards_named(cached.rows) <= self.defined_boards:
                    return cached
                loaded = load_input(path, **options)
                if loaded is not None:
                    loaded.rows = cached.rows
                return loaded
        loaded = load_input(path, **options)
        if loaded is None or loaded.format != "frontierbench":
            return loaded
        if target is not None and self.hashes is not None and loaded.sha256 != sha:
            target = cache_file(self.directory, loaded.sha256)  # changed since it was hashed: key by what was read
            self.hashes.remember(path, loaded.sha256)
        loaded.rows = run_rows(loaded)
        if target is not None and self.writable:
            try:
                write_rows(target, loaded, loaded.rows)
            except OSError as exc:
                self._cannot_write(exc)
        if _boards_named(loaded.rows) <= self.defined_boards:
            loaded.record = loaded.record.model_copy(update={"cases": []})
        return loaded

    def save(self) -> None:
        if self.hashes is not None and self.writable:
            try:
                self.hashes.save()
            except OSError as exc:
                self._cannot_write(exc)


def rows_loader(directory: str | Path | None, defined_boards: set[str],
                warn: Callable[[str], None] = lambda message: None) -> RowsLoader:
    return RowsLoader(directory, defined_boards, warn)


def _read_cached(target: Path, source: str, sha: str) -> LoadedRun | None:
    if not target.exists():
        return None
    try:
        return read_rows(target, source, sha)
    except Exception:  # a damaged or foreign cache file: rebuilt from the record
        return None


def _boards_named(rows: RunRows) -> set[str]:
    return set(rows.cases["board"].names) | {f["board"] for f in rows.failures}
