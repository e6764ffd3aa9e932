"""The package's flow is checked, not just described (docs/architecture.md).

`lint-imports` (import-linter, contracts in pyproject.toml) fails on an import against the flow;
an AST walk fails on a private name taken from another module. Each check is also shown failing
on a copy of the package with a planted violation, so neither can pass by checking nothing.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "plugins" / "frontierbench"


def lint_imports(project: Path) -> subprocess.CompletedProcess:
    command = shutil.which("lint-imports")
    if command is None:
        pytest.fail("lint-imports is missing: pip install import-linter (it is in the test extra)")
    env = {**os.environ, "PYTHONPATH": str(project / "plugins")}
    return subprocess.run([command, "--no-cache"], cwd=project, env=env, capture_output=True, text=True,
                          timeout=120)


def private_imports(package: Path) -> list[str]:
    """`from frontierbench.x import _name`, anywhere in the package: each one a finding."""
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("frontierbench"):
                found += [f"{path.relative_to(package)} takes {alias.name} from {node.module}"
                          for alias in node.names if alias.name.startswith("_") and not alias.name.startswith("__")]
    return found


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    """A copy of the project (package and pyproject.toml) to plant violations in."""
    shutil.copytree(PACKAGE, tmp_path / "plugins" / "frontierbench",
                    ignore=shutil.ignore_patterns("__pycache__", "static", "templates"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_imports_point_down_the_flow():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_upward_import_is_caught(planted):
    rounding = planted / "plugins" / "frontierbench" / "stats" / "rounding.py"
    rounding.write_text(rounding.read_text() + "\nfrom frontierbench.aggregate import pipeline  # planted\n")
    done = lint_imports(planted)
    assert done.returncode != 0
    assert "frontierbench.stats.rounding -> frontierbench.aggregate.pipeline" in done.stdout


def test_site_never_imports_reliability(planted):
    views = planted / "plugins" / "frontierbench" / "site" / "views.py"
    views.write_text(views.read_text() + "\nfrom frontierbench.reliability import assess  # planted\n")
    done = lint_imports(planted)
    assert done.returncode != 0 and "frontierbench.site.views -> frontierbench.reliability" in done.stdout


def test_no_private_name_crosses_a_module_boundary():
    assert private_imports(PACKAGE) == []


def test_a_private_import_is_caught(planted):
    package = planted / "plugins" / "frontierbench"
    views = package / "site" / "views.py"
    views.write_text(views.read_text() + "\nfrom frontierbench.stats.pareto import _as_2d  # planted\n")
    assert private_imports(package) == ["site/views.py takes _as_2d from frontierbench.stats.pareto"]


def test_the_plugin_imports_no_heavy_library():
    # Every pytest session imports these; numpy costs 0.35 s, scipy.stats 0.7 s, pydantic 0.14 s.
    code = ("import sys\n"
            "import frontierbench.plugin, frontierbench.capture.fixture, frontierbench.capture.session\n"
            "import frontierbench.capture.summary\n"
            "print(sorted(m for m in ('numpy', 'scipy', 'pandas', 'pydantic') if m in sys.modules))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "plugins")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
