"""The main job end to end: `frontierbench run` on the reference suite (quick profile).

This is the README's first command minus the set-up. It trains the suite's models from the
shared model cache, runs every board, aggregates, checks and builds the site.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from frontierbench.formats.leaderboard import load_leaderboard
from frontierbench.formats.run import load_run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def main_job(tmp_path_factory):
    work = tmp_path_factory.mktemp("work")
    site = work / "site"
    done = subprocess.run(
        [sys.executable, "-m", "frontierbench.cli", "run", "--work", str(work), "--site", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=900)
    return work, site, done


def test_main_job_succeeds_and_says_where_the_site_is(main_job):
    work, site, done = main_job
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert f"open file://{site.resolve()}/index.html" in done.stdout


def test_one_record_covers_every_board_with_samples(main_job):
    work, _, _ = main_job
    (record_path,) = list((work / "runs").glob("*.json"))
    record = load_run(record_path)
    boards = {case.board for case in record.cases if case.outcome == "passed"}
    assert {"digits", "charlm"} <= boards
    for case in record.cases:
        if case.outcome != "passed":
            assert case.outcome == "skipped", (case.nodeid, case.error)
            continue
        # frontier.measure keeps its rounds; frontier.measure_generation one sample per request
        timed = case.metrics.get("wall_time") or case.metrics["request_latency"]
        assert len(timed.samples) >= 3, case.nodeid
        assert case.metrics["energy"].provenance.method in {"rapl", "nvml", "estimated", "unavailable"}
        per_item = [m for m in case.metrics.values() if m.provenance.model_extra.get("kind") == "quality"
                    and m.samples]
        assert per_item, f"{case.nodeid} reports no per-item quality samples"


def test_leaderboards_and_site_are_written(main_job):
    work, site, _ = main_job
    for board in ("digits", "charlm"):
        leaderboard = load_leaderboard(work / "leaderboards" / board / "leaderboard.json")
        (group,) = [g for g in leaderboard.groups if g.hardware_class.startswith("cpu-")]
        assert group.frontier, board
        assert group.reliability is not None, board
        assert (site / "index.html").exists()
    assert json.loads((work / "leaderboards" / "digits" / "leaderboard.json").read_text())["schema"] == \
        "frontierbench.leaderboard/2"
