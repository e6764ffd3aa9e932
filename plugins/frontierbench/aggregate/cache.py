"""A cache of each input file's tidy rows, keyed by the file's sha256, in Parquet (pyarrow).

Publishing a history re-reads every run record each time, and parsing and validating JSON is most
of that work (about 10,000 case rows a second). With `frontierbench aggregate --cache DIR`, the
rows of each frontierbench record (tidy.RunRows: its cases before any board definition is applied)
are written once to DIR/<sha256>.v<N>.parquet, and every later aggregate reads them back instead
of the JSON. The key is the file's content, so an edited or replaced file is simply a new entry;
a cache file that cannot be read is rebuilt, never trusted. pytest-benchmark inputs are not
cached (how they map to cases depends on the boards' objectives).

One file per input: its metric rows are the table (samples as a list column, provenance as an
index into the distinct provenance texts); the case rows, params, failures and the record's
header (everything but its cases) travel as JSON in the file's metadata.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from frontierbench.aggregate.ingest import LoadedRun, display_path, load_input, read_bytes
from frontierbench.aggregate.tidy import CASE_COLUMNS, RunRows, run_rows
from frontierbench.formats.run import RunRecord

CACHE_VERSION = 1  # part of each file's name: a new layout never reads an old one
META_KEY = b"frontierbench.tidy"


def cache_file(directory: Path, sha256: str) -> Path:
    return directory / f"{sha256}.v{CACHE_VERSION}.parquet"


def write_rows(path: Path, loaded: LoadedRun, rows: RunRows) -> None:
    texts: dict[str, int] = {}
    prov_index = [texts.setdefault(p if isinstance(p, str) else p.model_dump_json(), len(texts))
                  for p in rows.provenance]
    counts = np.asarray(rows.metrics["n"], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    table = pa.table({
        "case": pa.array(rows.metrics["case"], pa.int32()),
        "metric": pa.array(rows.metrics["metric"], pa.string()),
        "value": pa.array(rows.metrics["value"], pa.float64()),
        "unit": pa.array(rows.metrics["unit"], pa.string()),
        "higher_is_better": pa.array(rows.metrics["higher_is_better"], pa.bool_()),
        "kind": pa.array(rows.metrics["kind"], pa.string()),
        "samples": pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(rows.samples, pa.float64())),
        "provenance": pa.array(prov_index, pa.int32()),
    })
    header = loaded.record.model_dump(mode="json", by_alias=True, exclude={"cases"})
    meta = {"header": header, "format": loaded.format, "warnings": loaded.warnings, "cases": rows.cases,
            "params": [p if isinstance(p, str) else json.dumps(p) for p in rows.params],
            "failures": rows.failures, "no_board": rows.no_board, "provenance": list(texts)}
    table = table.replace_schema_metadata({META_KEY: json.dumps(meta).encode("utf-8")})
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_rows(path: Path, source: str, sha256: str) -> LoadedRun:
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[META_KEY])
    record = RunRecord.model_validate({**meta["header"], "cases": []})
    samples = table.column("samples").combine_chunks()
    texts = meta["provenance"]
    metrics = {name: table.column(name).to_pylist()
               for name in ("case", "metric", "value", "unit", "higher_is_better", "kind")}
    metrics["n"] = np.diff(samples.offsets.to_numpy()).tolist()
    rows = RunRows(cases={key: meta["cases"][key] for key in CASE_COLUMNS}, params=meta["params"],
                   metrics=metrics, provenance=[texts[i] for i in table.column("provenance").to_pylist()],
                   samples=samples.values.to_numpy(zero_copy_only=False).astype(np.float64, copy=False),
                   failures=meta["failures"], no_board=meta["no_board"])
    return LoadedRun(source, sha256, meta["format"], record, meta["warnings"], rows=rows)


def cached_loader(directory: str | Path, defined_boards: set[str]) -> Callable[..., LoadedRun | None]:
    """A drop-in for ingest.load_input that keeps and reads back each record's tidy rows.

    A record naming a board without a definition is still parsed in full (its cached rows are
    used for the rest): inferring that board's definition reads the cases themselves.
    """
    directory = Path(directory)

    def load(path: Path, **options: Any) -> LoadedRun | None:
        raw = read_bytes(path)
        sha = hashlib.sha256(raw).hexdigest()
        target = cache_file(directory, sha)
        if target.exists():
            try:
                cached = read_rows(target, display_path(path), sha)
            except Exception:  # a damaged or foreign cache file: rebuild it from the record
                cached = None
            if cached is not None:
                named = set(cached.rows.cases["board"]) | {f["board"] for f in cached.rows.failures}
                if named <= defined_boards:
                    return cached
                loaded = load_input(path, **options)
                if loaded is not None:
                    loaded.rows = cached.rows
                return loaded
        loaded = load_input(path, **options)
        if loaded is None or loaded.format != "frontierbench":
            return loaded
        loaded.rows = run_rows(loaded)
        write_rows(target, loaded, loaded.rows)
        return loaded

    return load
