"""The static site: reproducible, escaped, contained, small, and locked down by a CSP."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from frontierbench.site import build as sitegen
from frontierbench.site import pages
from frontierbench.site.badges import entry_badges
from frontierbench.site import views as sitedata
from frontierbench.cli import main as cli_main
from frontierbench.formats.leaderboard import save_leaderboard
from frontierbench.formats.metrics import format_value
from frontierbench.formats.run import RecordError
from site_factories import HOSTILE_NAME, HOSTILE_SCRIPT, make_leaderboard, write_leaderboards

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("leaderboards")
    return write_leaderboards(root, [
        make_leaderboard("digits"),
        make_leaderboard("charlm", n_entries=6, hardware_classes=("cpu-x86_64-8c",), seed=1,
                         with_reliability=False),
    ])


@pytest.fixture(scope="module")
def site(inputs, tmp_path_factory) -> Path:
    return sitegen.build_site(inputs, tmp_path_factory.mktemp("site") / "_build")


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def html_pages(root: Path) -> list[Path]:
    return sorted(root.rglob("*.html"))


def test_site_has_index_methodology_board_entry_pages_and_board_json(site, inputs):
    assert (site / "index.html").is_file() and (site / "methodology.html").is_file()
    assert (site / "static/vendor/plotly/plotly-basic.min.js").is_file()
    assert (site / "static/vendor/plotly/LICENSE").is_file()
    digits = site / "boards/digits"
    assert (digits / "index.html").is_file()
    assert len(list(digits.glob("*.html"))) == 2  # one page per hardware class
    assert len(list((digits / "entries").glob("*.html"))) == 2 * 12
    # One JSON per board: the validated leaderboard, byte for byte.
    assert (digits / "leaderboard.json").read_bytes() == inputs[0].read_bytes()


def test_rebuild_is_byte_identical_whatever_the_worker_count(inputs, site, tmp_path):
    again = sitegen.build_site(inputs, tmp_path / "again", workers=1)
    assert files_of(again) == files_of(site)
    # Rebuilding over an existing build replaces it whole, with the same bytes.
    sitegen.build_site(list(reversed(inputs)), again, workers=2)
    assert files_of(again) == files_of(site)


def test_hostile_names_never_reach_markup_unescaped(site):
    for page in html_pages(site):
        text = page.read_text(encoding="utf-8")
        assert HOSTILE_NAME not in text, page
        assert "<script>alert" not in text, page
        assert "onerror=alert" not in text.replace("&lt;img src=x onerror=alert(1)&gt;", "") \
            .replace("\\u003cimg src=x onerror=alert(1)\\u003e", ""), page
        # Every script tag is either our own file or an inert JSON data block.
        for attrs in SCRIPT_TAG.findall(text):
            assert re.search(r'\bsrc="[a-z0-9./_-]+\.js"', attrs) or 'type="application/json"' in attrs, (page, attrs)


def test_hostile_names_are_shown_as_text(site):
    index = (site / "boards/digits/index.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;" in index  # the reliability banner, server-rendered
    data = re.search(r'<script type="application/json" id="board-data">(.*?)</script>', index, re.S).group(1)
    assert "\\u003c/script\\u003e" in data  # '</script>' cannot close the data block
    names = json.loads(data)["entries"]["name"]
    assert HOSTILE_NAME in names and HOSTILE_SCRIPT in names


def test_every_page_carries_a_strict_content_security_policy(site):
    for page in html_pages(site):
        text = page.read_text(encoding="utf-8")
        head = text[: text.index("</head>")]
        match = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', head)
        assert match, page
        policy = match.group(1).replace("&#39;", "'")
        assert "default-src 'none'" in policy and "script-src 'self';" in policy
        assert "connect-src 'none'" in policy  # no fetch, no XHR: the data is embedded
        assert head.index("Content-Security-Policy") < head.index("<link"), "the CSP must come before any resource"
        assert not re.search(r'(src|href)="(https?:)?//[^"]*\.(js|css)', text), page  # nothing from a CDN


def test_board_and_entry_file_names_cannot_escape_the_output(tmp_path):
    board = make_leaderboard("paths", n_entries=6, hardware_classes=("../../etc",), hostile=False)
    evil = ["../../../../tmp/owned", "/etc/passwd", "..", "a/b\\c", "CON", "é" * 300]
    for entry, name in zip(board.groups[0].entries, evil):
        entry.name = name
    board.groups[0].reliability = None
    path = save_leaderboard(board, tmp_path / "in" / "paths.json")
    out = sitegen.build_site([path], tmp_path / "site")
    entries = sorted(p.name for p in (out / "boards/paths/entries").iterdir())
    assert len(entries) == 6
    assert all(re.fullmatch(r"[a-z0-9-]{1,40}-[0-9a-f]{10}\.html", name) for name in entries), entries
    for page in out.rglob("*"):
        assert out.resolve() in page.resolve().parents
    assert not (tmp_path / "owned").exists()


def test_an_unsafe_board_name_is_an_error_naming_file_and_field(tmp_path):
    board = make_leaderboard("digits", n_entries=3, hardware_classes=("cpu",))
    data = board.to_json_dict()
    data["board"] = "../escape"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RecordError, match=r"bad\.json: field 'board'"):
        sitegen.build_site([path], tmp_path / "site")
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("corrupt, field", [
    (lambda d: d["groups"][0]["entries"][0]["metrics"]["wall_time"].update(value=float("nan")), "value"),
    (lambda d: d.update(primary="nope"), "primary"),
    (lambda d: d["groups"][0]["entries"][1].update(name=d["groups"][0]["entries"][0]["name"]), "entries"),
    (lambda d: d.update(schema="frontierbench.leaderboard/99"), "schema"),
    (lambda d: d["groups"][0]["entries"][0].pop("name"), "name"),
])
def test_bad_input_is_an_error_naming_file_and_field(tmp_path, corrupt, field):
    data = make_leaderboard("digits", n_entries=3, hardware_classes=("cpu",)).to_json_dict()
    corrupt(data)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data), encoding="utf-8")  # json writes NaN, as Python can
    with pytest.raises(RecordError) as error:
        sitegen.build_site([path], tmp_path / "site")
    assert "broken.json" in str(error.value) and field in str(error.value)


def test_duplicate_boards_are_refused(tmp_path):
    paths = write_leaderboards(tmp_path / "a", [make_leaderboard("same", n_entries=3)])
    paths += write_leaderboards(tmp_path / "b", [make_leaderboard("same", n_entries=3)])
    with pytest.raises(RecordError, match="also the board of"):
        sitegen.build_site(paths, tmp_path / "site")


def test_a_folder_that_is_not_a_site_build_is_never_replaced(inputs, tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("do not delete", encoding="utf-8")
    with pytest.raises(RecordError, match="refusing to replace"):
        sitegen.build_site(inputs, precious)
    assert (precious / "thesis.tex").read_text(encoding="utf-8") == "do not delete"


def test_a_folder_of_leaderboards_is_searched(inputs, tmp_path):
    out = sitegen.build_site([inputs[0].parents[1]], tmp_path / "site")
    assert sorted(p.name for p in (out / "boards").iterdir()) == ["charlm", "digits"]


def test_board_page_of_500_entries_stays_under_300_kb(tmp_path):
    board = make_leaderboard("big", n_entries=500, hardware_classes=("cpu-x86_64-8c",), rounds=10, items=50)
    paths = write_leaderboards(tmp_path / "in", [board])
    out = sitegen.build_site(paths, tmp_path / "site")
    page = out / "boards/big/index.html"
    assert page.stat().st_size <= sitegen.MAX_PAGE_BYTES
    entry_sizes = [p.stat().st_size for p in (out / "boards/big/entries").iterdir()]
    assert len(entry_sizes) == 500 and max(entry_sizes) < 50_000


def test_cli_builds_the_site_and_prints_where_to_open_it(inputs, tmp_path, capsys):
    assert cli_main(["site", *map(str, inputs), "-o", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "index.html").as_uri() in capsys.readouterr().out
    assert cli_main(["site", str(tmp_path / "missing.json"), "-o", str(tmp_path / "out2")]) == 2
    assert "missing.json" in capsys.readouterr().err


def test_templates_and_assets_ship_inside_the_package():
    source = sitegen.site_source()
    assert source.parent.name == "frontierbench"
    for name in ("templates/base.html", "templates/board.html", "templates/entry.html", "templates/index.html",
                 "templates/methodology.html", "static/site.css", "static/site.js", "static/board.js",
                 "static/entry.js", "static/vendor/plotly/plotly-basic.min.js", "static/vendor/plotly/LICENSE"):
        assert (source / name).is_file(), name


# ---------------------------------------------------------------- the arithmetic behind the pages

def test_values_read_with_their_interval_on_one_scale():
    assert format_value(0.412, "s", 0.405, 0.431) == "412 ms [405, 431]"
    assert format_value(3 * 2**20, "B") == "3 MiB"
    assert format_value(0.8564, "") == "0.8564"
    assert format_value(None, "J") == "—"


def test_json_for_script_cannot_close_its_tag():
    text = str(pages.json_for_script({"name": "</script><!-- & \u2028"}))
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"name": "</script><!-- & \u2028"}


def test_slugs_are_safe_and_entry_pages_distinct():
    assert pages.safe_slug("../../etc/passwd") == "etc-passwd"
    assert pages.safe_slug("<img src=x>") == "img-src-x"
    assert pages.safe_slug("...") == "x"
    group = make_leaderboard("digits", n_entries=3, hardware_classes=("cpu",)).groups[0]
    assert pages.entry_page(group, "A b") != pages.entry_page(group, "a-b")


def test_large_samples_are_thinned_to_a_histogram_deterministically():
    samples = [math.sin(i) for i in range(10_000)]
    hist = sitedata.histogram(samples)
    assert hist == sitedata.histogram(list(reversed(samples)))
    assert sum(hist["count"]) == 10_000 and len(hist["x"]) == sitedata.MAX_BINS
    assert sitedata.histogram([1.0, 0.0, 1.0]) == {"x": [0.0, 1.0], "width": [0.8, 0.8], "count": [1, 2]}


def test_badges_flag_estimated_energy_noisy_timing_ties_and_sole_dominators():
    board = make_leaderboard("digits", n_entries=12, hardware_classes=("cpu",))
    group = board.groups[0]
    badges = {e.name: entry_badges(e, group) for e in group.entries}
    assert "estimated-energy" in badges[group.entries[2].name]  # every fourth entry, from index 2
    assert "noisy-timing" in badges[group.entries[3].name]  # run spread 22%
    assert "tie" in badges[group.entries[5].name] and "tie" in badges[group.entries[4].name]
    report = group.reliability
    shadowed = [n for n, r in report.entries.items() if r.sole_dominator]
    assert all("shadowed" in badges[n] for n in shadowed)
    fronts = {n: r.front_label for n, r in report.entries.items()}
    assert all((fronts[n] in badges[n]) == (fronts[n] != "off") for n in badges)
