"""Markdown that names cannot break: escaping for text, code spans and table cells (GitHub-flavoured).

Entry, board and file names come from users' test suites and end up in pull-request comments and
reports. A name such as `<img src=x>` must show as those characters, not become HTML; a `|` must not
end a table cell; a backtick must not open a code span; a newline must not end a table row.

    escape_text("<b>fast</b> | x")      -> "&lt;b>fast&lt;/b> \\| x"
    code_span("a`b")                     -> "``a`b``"
    table(["entry", "ratio"], [["x|y", "1.2"]])
"""

from __future__ import annotations

import re

# Characters that start Markdown syntax inline: code, emphasis, links and images, strike-through,
# table cells. `_` only at a word's edge (inside a word, as in wall_time, it is not emphasis), so
# ordinary metric names stay readable in the raw text.
_SPECIAL = re.compile(r"([\\`*\[\]|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
# `<` opens every HTML tag and `&` every entity; with both escaped no HTML can form (`>` alone cannot).
_HTML = {"&": "&amp;", "<": "&lt;"}


def one_line(text: str) -> str:
    """Line breaks and tabs become spaces (a newline would end a table row or a paragraph)."""
    return re.sub(r"[\r\n\t\f\v]+", " ", str(text))


def escape_text(text: str) -> str:
    """Plain text inside Markdown: HTML-escaped, and each character that could start inline syntax
    backslashed."""
    flat = one_line(text)
    flat = "".join(_HTML.get(ch, ch) for ch in flat)
    return _SPECIAL.sub(r"\\\1", flat)


def code_span(text: str, *, in_table: bool = False) -> str:
    """A code span that holds `text` as it is (backticks too): HTML is never parsed inside one.

    The fence is one backtick longer than the longest run in the text (CommonMark's rule). In a
    table, `|` is escaped as `\\|` (GitHub's table rule applies even inside code spans).
    """
    flat = one_line(text)
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    if flat.startswith("`") or flat.endswith("`") or (flat.startswith(" ") and flat.endswith(" ") and flat.strip()):
        flat = f" {flat} "
    if in_table:
        flat = flat.replace("|", "\\|")
    return f"{fence}{flat or ' '}{fence}"


def table(header: list[str], rows: list[list[str]], *, align: list[str] | None = None) -> list[str]:
    """A GitHub table from cells that are already Markdown (escape user text with escape_text).

    Any unescaped `|` left in a cell is escaped here too, so no cell can add a column.
    """
    def cell(text: str) -> str:
        return re.sub(r"(?<!\\)\|", r"\\|", one_line(text)).strip() or " "

    marks = {"left": ":---", "right": "---:", "center": ":---:"}
    rule = [marks.get(a, "---") for a in (align or [""] * len(header))]
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "|".join(rule) + "|"]
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"table row has {len(row)} cells, header has {len(header)}")
        lines.append("| " + " | ".join(cell(c) for c in row) + " |")
    return lines
