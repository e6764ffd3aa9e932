"""The raw samples of a large leaderboard, kept beside it in one compact binary file.

At history scale most of a leaderboard is its estimates' samples: a thousand runs of ten timed
rounds is ten thousand numbers per entry, and as JSON text they are slow to write and to read.
When a leaderboard holds at least SIDECAR_MIN_SAMPLES of them, `save_leaderboard` moves them all
into one float64 array in numpy's .npy format (a short header, then the values), written beside it
as `leaderboard.samples.<sha256>.npy`; `samples_sidecar` names that file and its sha256, and each
estimate keeps `samples_at: [offset, length]` instead of the list. `load_leaderboard` puts them back, so
`check`, `compare`, `report`, the reliability checks and the site read the same estimates either
way. Smaller leaderboards keep their samples inline and stay one self-contained file.

The name is the content's hash: a new leaderboard never overwrites the sidecar an older copy of
it still names, and a reader that finds the wrong bytes says so instead of ranking on them.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
from numpy.lib import format as npy_format

from frontierbench.formats.atomic import write_bytes_atomic
from frontierbench.formats.leaderboard import SIDECAR_FIELD  # the Leaderboard field that names the file
from frontierbench.formats.versioned import RecordError, read_bytes

SIDECAR_MIN_SAMPLES = 1_000_000  # about 10 MB of JSON text; a board of a few runs stays one file
RANGE_FIELD = "samples_at"


def sidecar_prefix(leaderboard: Path) -> str:
    """Sidecars are named after their leaderboard's file, so two leaderboards in one folder keep theirs."""
    return f"{leaderboard.stem}.samples."


def use_sidecar(samples: Iterable[list[float] | None]) -> bool:
    """Whether a leaderboard with these estimates' samples keeps them in a sidecar."""
    return sum(len(values) for values in samples if values) >= SIDECAR_MIN_SAMPLES


def pack_samples(data: dict[str, Any], holders: Iterable[tuple[dict[str, Any], Any]], prefix: str) -> list[Any]:
    """The .npy sidecar holding each (estimate's JSON dict, its samples) pair's samples, as the
    buffers to write one after another (its header, then each estimate's values as they are, never
    joined: ten million of them are 88 MB); each dict gets `samples_at` (and `samples: null`), and
    `data` names the file. The bytes are np.save's of the values joined (tests check it)."""
    parts, offset = [], 0
    for estimate, samples in holders:
        estimate["samples"] = None
        if samples is not None and len(samples):
            values = np.ascontiguousarray(samples, dtype=np.float64)
            if not np.isfinite(values).all():  # JSON could not have held them either
                raise ValueError("a sample is not a finite number")
            estimate[RANGE_FIELD] = [offset, int(values.size)]
            offset += values.size
            parts.append(values)
    header = io.BytesIO()
    npy_format.write_array_header_1_0(header, {"descr": npy_format.dtype_to_descr(np.dtype(np.float64)),
                                               "fortran_order": False, "shape": (offset,)})
    parts.insert(0, header.getvalue())
    digest = hashlib.sha256()
    for part in parts:
        digest.update(memoryview(part).cast("B"))
    sha = digest.hexdigest()
    data[SIDECAR_FIELD] = {"file": f"{prefix}{sha}.npy", "sha256": sha, "values": int(offset),
                           "format": "npy float64"}
    return parts


def write_sidecar(folder: Path, data: dict[str, Any], parts: list[Any]) -> Path:
    return write_bytes_atomic(folder / data[SIDECAR_FIELD]["file"], parts)


def remove_stale_sidecars(folder: Path, prefix: str, keep: str | None) -> None:
    """The sidecars of a leaderboard just written in `folder` that it no longer names."""
    for path in folder.glob(f"{prefix}*.npy"):
        if path.name != keep:
            path.unlink(missing_ok=True)


def read_sidecar(folder: Path, sidecar: dict[str, Any], source: str) -> np.ndarray:
    """The sidecar's values, refused with an error naming the file unless its bytes are the ones the
    leaderboard names."""
    name = str(sidecar.get("file", ""))
    if Path(name).name != name or ".samples." not in name or not name.endswith(".npy"):
        raise RecordError(f"{source}: field '{SIDECAR_FIELD}.file': {name!r} is not a sidecar file name")
    path = folder / name
    try:
        raw = read_bytes(path)
    except RecordError as exc:
        raise RecordError(f"{source}: field '{SIDECAR_FIELD}.file': the samples sidecar it names cannot be read "
                          f"({exc}); a leaderboard's .samples.<sha256>.npy file travels with it") from None
    if hashlib.sha256(raw).hexdigest() != sidecar.get("sha256"):
        raise RecordError(f"{path}: its sha256 is not the one {source} names in '{SIDECAR_FIELD}.sha256'; "
                          f"the samples file was changed or belongs to another leaderboard")
    try:
        values = np.load(io.BytesIO(raw), allow_pickle=False)
    except ValueError as exc:
        raise RecordError(f"{path}: not a .npy array of samples: {exc}") from None
    if values.dtype != np.float64 or values.ndim != 1 or values.size != sidecar.get("values"):
        raise RecordError(f"{path}: holds {values.size} {values.dtype} values, not the "
                          f"{sidecar.get('values')} float64 samples {source} names")
    return values


def attach_samples(estimates: Iterator[Any], values: np.ndarray, source: str) -> None:
    """Give each loaded estimate (a MetricEstimate with `samples_at` among its extra fields) its
    samples back, as a list like the inline ones."""
    for estimate in estimates:
        extra = estimate.__pydantic_extra__
        where = extra.pop(RANGE_FIELD, None) if extra else None
        if where is None:
            continue
        offset, length = (where + [None, None])[:2] if isinstance(where, list) else (None, None)
        if not (isinstance(offset, int) and isinstance(length, int) and 0 <= offset
                and 0 < length <= values.size - offset):
            raise RecordError(f"{source}: field '{RANGE_FIELD}': {where!r} is not an [offset, length] inside "
                              f"the {values.size} samples of its sidecar")
        estimate.samples = values[offset:offset + length].tolist()
