"""`ruff check` (rules in pyproject.toml) passes on the whole repository: a finding fails the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def ruff(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "ruff", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)
    if "No module named ruff" in done.stderr:
        pytest.fail("ruff is missing: pip install ruff (it is in the test extra)")
    return done


def test_ruff_finds_nothing():
    done = ruff("check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_uses_the_projects_rules(tmp_path):
    # The same configuration flags an unused import: the check above is not vacuous.
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (tmp_path / "bad.py").write_text("import os\n")
    done = ruff("check", "--no-cache", ".", cwd=tmp_path)
    assert done.returncode == 1 and "F401" in done.stdout
