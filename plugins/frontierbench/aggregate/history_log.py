"""Every entry's history, as the JSON text its leaderboard holds (a table), in one append-only file.

A history only grows at its end: each aggregate that extends a kept state (aggregate.incremental)
appends each entry's new points to the log and notes where they lie, so a million-point history
is not written again for every run. The kept JSON (aggregate.kept_state) names the log, its valid
length and each entry's chunks; an entry's text is its chunks joined, and the table closed. Appends
go past the valid length, which the next append overwrites; the CRC-32 of the valid length, kept
with it, finds a log that a crash left short or damaged (it is then not used; nothing here waits
for the disk), and the appends of another aggregate, which the cache's lock keeps out. Once an
entry has MAX_CHUNKS chunks, the log is written afresh under a new name (and the old one removed
once nothing names it).
"""

from __future__ import annotations

import mmap
import os
import secrets
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from frontierbench.formats.atomic import write_bytes_atomic

MAX_CHUNKS = 32
PREFIX = "kept.history."


@dataclass
class HistoryLog:
    name: str  # the file's name in the cache folder
    size: int  # its valid length
    chunks: list[list[list[int]]] = field(default_factory=list)  # per entry: [offset, length] of each chunk
    crc32: int = 0  # of the valid length: damage, or another aggregate's appends, are found when read


def joined_text(pieces: list[Any]) -> bytes:
    """An entry's history, as JSON text (a table: formats/history_table.py), from its pieces: the
    first holds the table's start and its first points, each later one more points."""
    return b",".join(pieces) + b"]}"


def pieces_of(text: bytes | None) -> list[Any]:
    """The pieces of a history's JSON text (a table, or none): all of it but the closing brackets."""
    if not text or text == b"[]":
        return []
    if not text.endswith(b"]}"):
        raise ValueError("a history's text is not a table")
    return [memoryview(text)[:-2]]


def read_pieces(directory: Path, log: HistoryLog) -> list[list[Any]] | None:
    """Each entry's history as pieces of JSON text; None if the log is shorter than it should be."""
    with open(directory / log.name, "rb") as handle:
        if os.fstat(handle.fileno()).st_size < log.size:
            return None
        # Mapped, not read: the pieces are copied once, into the leaderboard's texts.
        view = memoryview(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if log.size else b"")
    if zlib.crc32(view[:log.size]) != log.crc32:
        return None
    return [[view[offset:offset + length] for offset, length in chunks] for chunks in log.chunks]


def write_log(directory: Path, pieces: list[list[Any]], log: HistoryLog | None,
              added: list[bytes | None] | None) -> HistoryLog:
    """The log after this aggregate: `added` (per entry, its new points' text, or None) appended
    to `log`, or, with no log to append to (or too many chunks), every entry's `pieces` afresh."""
    if log is None or added is None or any(len(chunks) >= MAX_CHUNKS for chunks in log.chunks):
        return _fresh(directory, pieces)
    chunks = [list(entry_chunks) for entry_chunks in log.chunks]
    offset, crc = log.size, log.crc32
    with open(directory / log.name, "r+b") as handle:
        handle.seek(offset)
        for entry, text in enumerate(added):
            if text:
                handle.write(text)
                crc = zlib.crc32(text, crc)
                chunks[entry] = chunks[entry] + [[offset, len(text)]]
                offset += len(text)
        handle.truncate()
    return HistoryLog(log.name, offset, chunks, crc)


def _fresh(directory: Path, pieces: list[list[Any]]) -> HistoryLog:
    name = f"{PREFIX}{secrets.token_hex(8)}"
    texts = [b",".join(entry_pieces) for entry_pieces in pieces]
    chunks, offset = [], 0
    for text in texts:
        chunks.append([[offset, len(text)]] if text else [])
        offset += len(text)
    content = b"".join(texts)
    write_bytes_atomic(directory / name, content, durable=False)
    return HistoryLog(name, offset, chunks, zlib.crc32(content))


def remove_other_logs(directory: Path, keep: str) -> None:
    for path in directory.glob(f"{PREFIX}*"):
        if path.name != keep and not path.name.endswith(".tmp"):
            path.unlink(missing_ok=True)
