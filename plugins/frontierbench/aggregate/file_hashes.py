"""Each input file's sha256, remembered by its stat (as git's index does), so a re-aggregation
of an unchanged history does not read and hash every record again.

A file's entry holds its size, modification and change times (in nanoseconds) and inode number;
any write to the file changes its change time, which nothing can set back, so a matching entry
means the same bytes. A file checked out afresh (a CI job) has new times and is hashed as usual.
The memo lives in the cache folder (`hashes.v1.json`); one that cannot be read is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from frontierbench.formats.atomic import write_json_atomic
from frontierbench.formats.versioned import read_bytes

MEMO_NAME = "hashes.v1.json"


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

    def sha256(self, path: Path) -> str:
        """The file's sha256: remembered if its stat is unchanged, else read and hashed (and remembered)."""
        key = os.path.abspath(path)
        try:
            st = os.stat(key)
        except OSError:
            st = None
        stamp = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino] if st is not None else None
        entry = self.known.get(key)
        if stamp is not None and isinstance(entry, list) and entry[:4] == stamp and len(entry) == 5:
            return str(entry[4])
        sha = hashlib.sha256(read_bytes(path)).hexdigest()  # names the file if it cannot be read
        if stamp is not None:
            self.known[key] = [*stamp, sha]
            self.changed = True
        return sha

    def save(self) -> None:
        if self.changed:
            write_json_atomic(self.path, self.known)
            self.changed = False
