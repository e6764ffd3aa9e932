"""Shared test set-up: `pytester` runs small pytest sessions that use the frontierbench plugin."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["pytester"]

# pytester's in-process runs forget every module first imported inside them, and numpy's C
# extension cannot be imported twice in one process. So import here, once, what the plugin only
# imports when a session ends (codecarbon, which loads pandas and numpy). It also saves each run
# the second or so those imports take.
import numpy  # noqa: E402,F401
import pandas  # noqa: E402,F401
import codecarbon  # noqa: E402,F401
import codecarbon.core.cpu  # noqa: E402,F401
import codecarbon.core.units  # noqa: E402,F401
import codecarbon.external.hardware  # noqa: E402,F401
import codecarbon.external.ram  # noqa: E402,F401
import codecarbon.input  # noqa: E402,F401


@dataclass
class FrontierRun:
    """One inner pytest session: its result, and the run record it wrote (None if it wrote none)."""

    result: pytest.RunResult
    out_dir: Path
    record_path: Path | None
    record: dict[str, Any] | None

    def case(self, name: str) -> dict[str, Any]:
        """The recorded case whose nodeid ends with `name` (e.g. "test_busy" or "test_x[fp32]")."""
        assert self.record is not None, "the session wrote no run record"
        found = [c for c in self.record["cases"] if c["nodeid"].split("::")[-1] == name]
        assert len(found) == 1, f"{name!r} not recorded once in {[c['nodeid'] for c in self.record['cases']]}"
        return found[0]


@pytest.fixture
def run_frontier(pytester):
    """Run pytest on the files made with `pytester`, writing run records into a fresh directory.

    In-process by default (fast, and fakes installed by the test are seen by the inner session);
    `subprocess=True` for what needs its own interpreter (xdist workers, real Ctrl-C semantics).
    """
    runs = 0

    def run(*args: str, subprocess: bool = False) -> FrontierRun:
        nonlocal runs
        runs += 1
        out_dir = pytester.path / f"runs-{runs}"
        argv = ["-p", "no:cacheprovider", "--frontier-out", str(out_dir), *args]
        result = pytester.runpytest_subprocess(*argv) if subprocess else pytester.runpytest_inprocess(*argv)
        written = sorted(out_dir.glob("*.json"))
        assert len(written) <= 1, f"one session must write one run record, found {written}"
        path = written[0] if written else None
        record = json.loads(path.read_text()) if path else None
        return FrontierRun(result, out_dir, path, record)

    return run
