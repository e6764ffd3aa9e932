"""Each input file's sha256, remembered by its stat (as git's index does), so a re-aggregation
of an unchanged history does not read and hash every record again.

A file's entry holds its size, modification and change times (in nanoseconds) and inode number;
any write to the file changes its change time, which nothing can set back, so a matching entry
means the same bytes. As in git, a file written in the last RACY_SECONDS is not remembered: on a
file system with coarse timestamps, a second write within the same tick would keep its times. A
file checked out afresh (a CI job) has new times and is hashed as usual. The memo lives in the
cache folder (`hashes.v1.json`); one that cannot be read is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from frontierbench.formats.atomic import write_json_atomic
from frontierbench.formats.versioned import read_bytes

MEMO_NAME = "hashes.v1.json"
RACY_SECONDS = 2


class KnownHashes:
    def __init__(self, directory: Path):
        self.path = directory / MEMO_NAME
        self.known: dict[str, list[Any]] = {}
        self.changed = False
        try:
            loaded = json.loads(self.path.read_bytes())
            if isinstance(loaded, dict):
                self.known = loaded
        except (OSError, ValueError):
            pass

    def sha256(self, path: Path, *, verify: bool = False) -> str:
        """The file's sha256: remembered if its stat is unchanged (unless `verify`), else read and
        hashed (and remembered)."""
        key = os.path.abspath(path)
        stamp = _stamp(key)
        entry = self.known.get(key)
        if not verify and stamp is not None and isinstance(entry, list) and len(entry) == 5 and entry[:4] == stamp:
            return str(entry[4])
        sha = hashlib.sha256(read_bytes(path)).hexdigest()  # names the file if it cannot be read
        self.remember(path, sha, stamp)
        return sha

    def remember(self, path: Path, sha: str, stamp: list[int] | None = None) -> None:
        """Remember `sha` as the file's (the caller read it), unless the file is too new to tell apart."""
        key = os.path.abspath(path)
        stamp = stamp if stamp is not None else _stamp(key)
        if stamp is None or time.time_ns() - max(stamp[1], stamp[2]) < RACY_SECONDS * 1_000_000_000:
            self.known.pop(key, None)
        else:
            self.known[key] = [*stamp, sha]
        self.changed = True

    def save(self) -> None:
        if self.changed:
            write_json_atomic(self.path, self.known)
            self.changed = False


def _stamp(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
