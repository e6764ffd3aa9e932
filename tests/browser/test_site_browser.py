"""Every page of a built site in real headless Chromium (Debian's, driven by Playwright).

Opened from disk (file://), as a reader would open site/_build: no server. The site is built from
synthetic leaderboards with reliability reports and hostile entry names.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from site_factories import HOSTILE_NAME, HOSTILE_SCRIPT, make_leaderboard, write_leaderboards  # noqa: E402

from frontierbench.site.build import build_site  # noqa: E402

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("FRONTIERBENCH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set FRONTIERBENCH_CHROMIUM)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("browser-site")
    charlm = make_leaderboard("charlm", n_entries=7, hardware_classes=("cpu-x86_64-8c",), seed=1, with_reliability=False)
    # A zero on a log-scaled objective (a peak memory increase of 0 B happens): it must still be drawn.
    charlm.groups[0].entries[0].metrics["peak_memory"].value = 0.0
    paths = write_leaderboards(root / "leaderboards", [make_leaderboard("digits", n_entries=12), charlm])
    return build_site(paths, root / "_build")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as exc:  # a Chromium that cannot start here is an environment problem
            pytest.skip(f"Chromium at {CHROMIUM} does not start: {exc}")
        yield browser
        browser.close()


class Visit:
    """One page load that records console errors, page errors and dialogs."""

    def __init__(self, browser, path: Path):
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url}"))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def assert_clean(self) -> None:
        assert self.problems == [], self.problems
        assert self.dialogs == [], f"a dialog fired: {self.dialogs}"
        injected = self.page.evaluate(
            "() => document.querySelectorAll('img[src=\"x\"], img[onerror], [onerror], script:not([src]):not([type])').length")
        assert injected == 0, "markup from a record was injected into the page"
        # Every script that ran is one of ours.
        sources = self.page.evaluate("() => Array.from(document.scripts).map(s => s.src || s.type)")
        assert all(s == "application/json" or s.startswith("file://") and s.endswith(".js") for s in sources), sources

    def close(self) -> None:
        self.page.close()


def all_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def board_pages(site: Path) -> list[Path]:
    return sorted(p for p in (site / "boards").glob("*/*.html"))


def entries_of(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    start = text.index('id="board-data">') + len('id="board-data">')
    return json.loads(text[start:text.index("</script>", start)])["entries"]["name"]


def test_every_page_loads_without_errors_and_keeps_hostile_names_inert(site, browser):
    pages = all_pages(site)
    assert len(pages) == 2 + 3 + 2 * 12 + 7  # index, methodology, 3 board pages, entry pages
    for path in pages:
        visit = Visit(browser, path)
        try:
            visit.page.wait_for_timeout(50)
            visit.assert_clean()
        finally:
            visit.close()


def test_board_plot_has_one_point_per_entry_and_redraws_on_new_axes(site, browser):
    for path in board_pages(site):
        names = entries_of(path)
        visit = Visit(browser, path)
        page = visit.page
        try:
            page.wait_for_selector("#pareto-plot .scatterlayer .trace .points path")
            points = "() => document.querySelectorAll('#pareto-plot .scatterlayer .trace:first-child .points path').length"
            assert page.evaluate(points) == len(names)
            assert page.get_attribute("#pareto-plot", "data-points") == str(len(names))
            title = "() => document.querySelector('#pareto-plot .xtitle').textContent"
            before = page.evaluate(title)
            page.select_option("#x-axis", "energy")
            page.wait_for_function("() => document.querySelector('#pareto-plot').dataset.x === 'energy'")
            after = page.evaluate(title)
            assert after != before and after.startswith("Energy")
            assert page.evaluate(points) == len(names)
            page.select_option("#y-axis", "peak_memory")
            page.wait_for_function("() => document.querySelector('#pareto-plot .ytitle').textContent.startsWith('Peak memory')")
            assert page.evaluate(points) == len(names)
            # peak_memory asks for a log axis; with a zero among the values it stays linear instead.
            y_type = page.evaluate("() => document.getElementById('pareto-plot').layout.yaxis.type")
            assert y_type == ("linear" if "charlm" in str(path) else "log")
            # Log axes where the objective asks for them.
            assert page.evaluate("() => document.getElementById('pareto-plot').layout.xaxis.type") == "log"
            page.select_option("#x-axis", "accuracy")
            page.wait_for_function("() => document.getElementById('pareto-plot').layout.xaxis.type === 'linear'")
            visit.assert_clean()
        finally:
            visit.close()


def column_values(page, table: str, column: int) -> list[str]:
    return page.evaluate(
        "([table, column]) => Array.from(document.querySelectorAll(table + ' tbody tr'))"
        ".map(r => r.cells[column].getAttribute('data-sort') ?? r.cells[column].textContent.trim())",
        [table, column])


def test_entries_table_sorts_by_any_column(site, browser):
    visit = Visit(browser, site / "boards/digits/index.html")
    page = visit.page
    try:
        headers = page.evaluate("() => Array.from(document.querySelectorAll('#entries-table thead th')).map(t => t.textContent)")
        latency = next(i for i, h in enumerate(headers) if h.startswith("Latency"))
        page.click(f"#entries-table thead th:nth-child({latency + 1}) button")
        ascending = [float(v) for v in column_values(page, "#entries-table", latency)]
        assert ascending == sorted(ascending) and len(ascending) == 12
        assert page.get_attribute(f"#entries-table thead th:nth-child({latency + 1})", "aria-sort") == "ascending"
        page.click(f"#entries-table thead th:nth-child({latency + 1}) button")
        descending = [float(v) for v in column_values(page, "#entries-table", latency)]
        assert descending == sorted(ascending, reverse=True)
        page.click("#entries-table thead th:nth-child(1) button")
        names = column_values(page, "#entries-table", 0)
        assert names == sorted(names, key=str.lower)
        visit.assert_clean()
    finally:
        visit.close()


def test_index_table_sorts(site, browser):
    visit = Visit(browser, site / "index.html")
    page = visit.page
    try:
        assert page.locator("#boards-table tbody tr").count() == 3
        page.click("#boards-table thead th:nth-child(4) button")  # entries
        page.click("#boards-table thead th:nth-child(4) button")
        counts = [int(v) for v in column_values(page, "#boards-table", 3)]
        assert counts == sorted(counts, reverse=True)
        visit.assert_clean()
    finally:
        visit.close()


def test_hostile_names_are_text_in_table_hover_label_and_entry_page(site, browser):
    visit = Visit(browser, site / "boards/digits/index.html")
    page = visit.page
    try:
        shown = page.evaluate("() => Array.from(document.querySelectorAll('#entries-table a.entry-link')).map(a => a.textContent)")
        assert HOSTILE_NAME in shown and HOSTILE_SCRIPT in shown
        index = entries_of(site / "boards/digits/index.html").index(HOSTILE_NAME)
        page.wait_for_selector("#pareto-plot .scatterlayer .trace .points path")
        page.evaluate(f"() => Plotly.Fx.hover('pareto-plot', [{{curveNumber: 0, pointNumber: {index}}}])")
        page.wait_for_selector("#pareto-plot .hoverlayer .hovertext")
        hover = page.evaluate("() => document.querySelector('#pareto-plot .hoverlayer .hovertext').textContent")
        assert HOSTILE_NAME in hover
        assert page.evaluate("() => document.querySelectorAll('.hoverlayer img, .hoverlayer image').length") == 0
        # The entry link leads to its own page, where the name is the heading, as text.
        page.click(f"#entries-table a.entry-link >> nth={shown.index(HOSTILE_NAME)}")
        page.wait_for_selector("h1.entry-name")
        assert page.text_content("h1.entry-name") == HOSTILE_NAME
        assert page.evaluate("() => document.title").startswith(HOSTILE_NAME)
        visit.assert_clean()
    finally:
        visit.close()


def test_hardware_class_selector_switches_group(site, browser):
    visit = Visit(browser, site / "boards/digits/index.html")
    page = visit.page
    try:
        options = page.evaluate("() => Array.from(document.querySelectorAll('#group-select option')).map(o => o.value)")
        assert len(options) == 2 and options[0] == "index.html"
        page.select_option("#group-select", options[1])
        page.wait_for_url(f"**/{options[1]}")
        assert "cuda-h100-80gb" in page.evaluate("() => document.querySelector('#group-select').selectedOptions[0].textContent")
        visit.assert_clean()
    finally:
        visit.close()


def test_entry_page_draws_samples_history_and_environment(site, browser):
    page_path = next((site / "boards/digits/entries").glob("fp32-000-*.html"))
    visit = Visit(browser, page_path)
    page = visit.page
    try:
        page.wait_for_selector(".sample-plot .main-svg")
        assert page.locator(".sample-plot").count() == 3  # accuracy items, wall_time and energy rounds
        assert page.locator("#metrics-table tbody tr").count() == 5
        assert page.locator("#history-table tbody tr").count() == 3
        env = page.text_content("#environment")
        assert HOSTILE_SCRIPT in env  # the hostname field, as text
        page.click("#metrics-table thead th:nth-child(5) button")
        visit.assert_clean()
    finally:
        visit.close()
