"""An entry's history chart in real headless Chromium: one point per run, the change marked.

The site is built from a real aggregate of 20 daily runs in which one entry steps up by 20%
(tests/history_factories.py), opened from disk like the other browser tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from test_site_browser import Visit, browser  # noqa: E402,F401  (browser: the shared Chromium fixture)
from history_factories import STEPPER, daily_history  # noqa: E402

from frontierbench.aggregate.pipeline import aggregate, write_leaderboards  # noqa: E402
from frontierbench.formats.board import load_boards  # noqa: E402
from frontierbench.site.build import build_site  # noqa: E402
from frontierbench.site.pages import entry_page  # noqa: E402

pytestmark = pytest.mark.browser
COMMIT_URL = "https://example.org/repo/commit/{commit}"


@pytest.fixture(scope="module")
def history_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("history-site")
    daily_history(root)
    boards = aggregate([root / "runs"], load_boards(root / "leaderboards"), draws=100, reliability=False)
    paths = write_leaderboards(boards, root / "out")
    return build_site(paths, root / "_build", commit_url=COMMIT_URL), boards["toy"]


def test_entry_history_chart_has_one_point_per_run_and_the_change_marker(history_site, browser):
    site, board = history_site
    group = board.groups[0]
    entry = next(e for e in group.entries if e.name == STEPPER)
    [change] = [c for c in entry.changes if c.metric == "wall_time"]
    visit = Visit(browser, site / "boards" / "toy" / entry_page(group, STEPPER))
    page = visit.page
    chart = '#history .history-plot[data-metric="wall_time"]'
    try:
        page.wait_for_selector(f"{chart} .scatterlayer .trace .points path")
        runs = page.evaluate(f"() => document.querySelectorAll('{chart} .scatterlayer .trace:nth-child(1) .points path').length")
        marks = page.evaluate(f"() => document.querySelectorAll('{chart} .scatterlayer .trace:nth-child(2) .points path').length")
        assert runs == len(entry.history) == 20
        assert marks == 1
        # The marker sits at the first run after the step, and a dashed line crosses the chart there.
        marker_x = page.evaluate(f"() => document.querySelector('{chart}').data[1].x")
        assert marker_x == [change.started_at]
        assert page.evaluate(f"() => document.querySelectorAll('{chart} .shapelayer path').length") >= 3
        # Every run's point and table row link to its commit.
        links = page.evaluate("() => Array.from(document.querySelectorAll('#history-table tbody a')).map(a => a.href)")
        assert links == [COMMIT_URL.replace("{commit}", p.git_commit) for p in entry.history]
        hrefs = page.evaluate(f"() => document.querySelector('{chart}').data[0].customdata.map(c => c[2])")
        assert hrefs == links
        visit.assert_clean()
    finally:
        visit.close()


def test_board_page_lists_recent_changes_linked_to_their_entries(history_site, browser):
    site, board = history_site
    visit = Visit(browser, site / "boards" / "toy" / "index.html")
    page = visit.page
    try:
        rows = page.evaluate("() => Array.from(document.querySelectorAll('#recent-changes tbody tr')).map(r => r.textContent)")
        assert any(STEPPER in row and "wall_time" in row for row in rows)
        page.click(f"#recent-changes a.entry-link:text-is('{STEPPER}') >> nth=0")
        page.wait_for_selector("h1.entry-name")
        assert page.text_content("h1.entry-name") == STEPPER
        visit.assert_clean()
    finally:
        visit.close()
