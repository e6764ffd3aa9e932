"""Shared file-format pieces: atomic writes."""

from __future__ import annotations

import os

import pytest

from frontierbench.formats.atomic import write_json_atomic


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_writes_honour_the_umask(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        path = write_json_atomic(tmp_path / "board" / "leaderboard.json", {"a": 1})
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == mode  # as `touch` would make it, not mkstemp's 0600
