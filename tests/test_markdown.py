"""Markdown output (compare --format markdown, report, the PR comment) cannot be broken by names."""

from __future__ import annotations

import numpy as np
import pytest
from markdown_it import MarkdownIt

from factories import board_definition, case, run_record, write_board
from frontierbench.cli import main as cli
from frontierbench.commands.compare_output import COLUMNS
from frontierbench.formats.markdown import code_span, escape_text, table
from frontierbench.formats.run import save_run

NASTY = ["<img src=x onerror=alert(1)>", "a|b", "tick`tock", "``", "[link](javascript:x)", "two\nlines",
         "*bold* _it_ ~~no~~", "&lt;script&gt;", "back\\slash|"]


def render(markdown: str) -> str:
    """HTML as GitHub would produce it: raw HTML allowed, tables on."""
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


def table_rows(html: str) -> list[int]:
    """Number of cells in each row of the first table."""
    body = html.split("<table>", 1)[1].split("</table>", 1)[0]
    return [row.count("<td") + row.count("<th") for row in body.split("<tr>")[1:]]


@pytest.mark.parametrize("name", NASTY)
def test_escaped_text_renders_as_the_same_characters_and_never_as_html(name):
    html = render(f"x {escape_text(name)} y")
    assert "<img" not in html and "<a " not in html and "<em>" not in html and "<code>" not in html
    shown = MarkdownIt("commonmark").render(f"{escape_text(name)}")
    assert "<del>" not in shown


@pytest.mark.parametrize("name", NASTY)
def test_a_code_span_holds_any_text_and_a_table_keeps_its_columns(name):
    lines = table(["entry", "value"], [[code_span(name, in_table=True), escape_text(name)], ["plain", "1"]])
    html = render("\n".join(lines))
    assert table_rows(html) == [2, 2, 2]
    assert "<img" not in html and "<a " not in html


def write_runs(tmp_path, names, slow=1.0, run_id="r"):
    rng = np.random.default_rng(len(run_id))
    cases = [case(name, wall_time=0.01 * slow * rng.lognormal(0, 0.01, 12), accuracy=[1, 0, 1, 1], energy=0.5 * slow)
             for name in names]
    return save_run(run_record(cases, run_id=run_id), tmp_path / f"{run_id}.json")


def test_compare_markdown_escapes_entry_names_and_puts_regressions_first(tmp_path, capsys):
    names = ["<img src=x>", "pipe|name", "back`tick", "plain"]
    base = write_runs(tmp_path, names, run_id="base")
    new = write_runs(tmp_path, names, slow=1.3, run_id="new")
    assert cli(["compare", str(base), str(new), "--format", "markdown", "--fail-on-regression", "5%"]) == 1
    markdown = capsys.readouterr().out
    html = render(markdown)
    assert "<img" not in html
    rows = table_rows(html)
    assert len(rows) > 1 and set(rows) == {len(COLUMNS)}  # no name adds or removes a column
    body = [line for line in markdown.splitlines() if line.startswith("| ")][1:]
    verdicts = [line.rsplit("|", 2)[-2].strip() for line in body]
    first_other = next(i for i, v in enumerate(verdicts) if v != "**regression**")
    assert all(v != "**regression**" for v in verdicts[first_other:])  # regressions come first
    assert any(v.startswith("⚠️") for v in verdicts)  # energy has no samples: untested, flagged
    assert "&lt;img src=x>" in markdown and "pipe\\|name" in markdown


def test_report_escapes_entry_names_from_the_board(tmp_path, capsys):
    board = board_definition("toy")
    root = write_board(tmp_path / "boards", board).parent
    with open(root / "board.toml", "a", encoding="utf-8") as toml:
        toml.write('\n[[comparisons]]\ntitle = "<b>claim</b>"\nbaseline = "plain"\ncandidate = "a|<img src=x>"\n'
                   'metrics = ["wall_time", "accuracy"]\nclaim = "it is `faster` | really"\n')
    runs = write_runs(tmp_path, ["plain", "a|<img src=x>"], run_id="only")
    assert cli(["aggregate", str(runs), "--boards", str(tmp_path / "boards"), "-o", str(tmp_path / "out"),
                "--no-reliability"]) == 0
    capsys.readouterr()
    assert cli(["report", str(tmp_path / "out"), "--boards", str(tmp_path / "boards")]) == 0
    html = render(capsys.readouterr().out)
    assert "<img" not in html and "<b>" not in html
    assert set(table_rows(html)) == {4}
