"""Atomic file writes: a temp file in the same directory, fsync, then rename.

A reader never sees a half-written file, and a failed write leaves the old file in place.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_text_atomic(path: Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def dumps_canonical(data: Any) -> str:
    """Sorted keys, compact separators and a trailing newline: the same data always gives the same
    bytes. Compact, because indentation forces json's pure-Python encoder (3x slower on records
    with many samples); `python -m json.tool FILE` shows one indented."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n"


def write_json_atomic(path: Path, data: Any) -> Path:
    return write_text_atomic(path, dumps_canonical(data))
