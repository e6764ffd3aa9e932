"""Atomic file writes: a temp file in the same directory, fsync, then rename.

A reader never sees a half-written file, and a failed write leaves the old file in place. The file
gets the permissions of any file the user creates (0666 less the umask), not mkstemp's private 0600.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def current_umask() -> int:
    """The process umask, read without changing it where the system says it (Linux /proc);
    elsewhere set and restored at once."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text_atomic(path: Path, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes | list[Any], *, durable: bool = True) -> Path:
    """`data`: the bytes, or a list of buffers (bytes, C-contiguous arrays) written one after another,
    so a large file need not be joined in memory first. `durable=False`: atomic, but without
    waiting for the disk (fsync), for caches whose damage is detected when read and whose loss
    costs only time."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as handle:
            for part in data if isinstance(data, list) else [data]:
                handle.write(memoryview(part).cast("B"))
            handle.flush()
            if durable:
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
