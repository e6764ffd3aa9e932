"""What `frontierbench compare` prints: a rich table, or markdown for a pull-request comment.

Each row: base and new, the change and its 95% interval, the minimum detectable effect (MDE),
P(new is worse) (for a time: slower), the p-value, the processes compared on each side, and
the verdict.
"""

from __future__ import annotations

from frontierbench.commands.compare import Comparison, ComparisonResult
from frontierbench.formats.markdown import code_span, escape_text, table
from frontierbench.stats.nested import WITHIN_ONE_PROCESS


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _ratio_text(row: Comparison) -> str:
    if row.ratio is None:
        return "-"
    text = f"{row.ratio:.3f}"
    if row.low is not None:
        text += f" [{row.low:.3f}, {row.high:.3f}]"
    return text


def _change_text(row: Comparison) -> str:
    if row.ratio is None:
        return "-"
    return f"{(row.ratio - 1.0) * 100:+.1f}%"


VERDICT_STYLE = {"regression": "bold red", "improvement": "green", "unchanged": "dim", "inconclusive": "yellow",
                 "untested": "yellow", "n/a": "dim"}
COLUMNS = ["board", "entry", "metric", "base", "new", "change", "ratio [95% CI]", "MDE", "P(worse)", "p",
           "processes", "verdict"]


def _processes_text(row: Comparison) -> str:
    if row.processes is None:
        return "-"
    text = f"{row.processes[0]} vs {row.processes[1]}"
    return text + " (within one process)" if row.scope == WITHIN_ONE_PROCESS else text


def _cells(row: Comparison) -> list[str]:
    unit = f" {row.unit}" if row.unit else ""
    verdict = row.verdict + (" (gate failed)" if row.gate_failed else "")
    return [row.board, row.entry, f"{row.metric} ({row.statistic})", _fmt(row.base) + unit,
            _fmt(row.new) + unit, _change_text(row), _ratio_text(row),
            "-" if row.mde is None else f"{row.mde:.1%}", "-" if row.p_worse is None else f"{row.p_worse:.0%}",
            "-" if row.p_value is None else f"{row.p_value:.3g}", _processes_text(row), verdict]


def summary_line(result: ComparisonResult, threshold: float | None, allow_inconclusive: bool = False) -> str:
    counts = {v: sum(r.verdict == v for r in result.rows) for v in VERDICT_STYLE}
    text = (f"{len(result.rows)} comparisons: {counts['regression']} regression(s), "
            f"{counts['improvement']} improvement(s), {counts['unchanged']} unchanged, "
            f"{counts['inconclusive']} inconclusive (could miss a change of their threshold), "
            f"{counts['untested']} untested (no samples)")
    if threshold is not None:
        failing = result.regressions(threshold)
        text += f"; {len(failing)} regression(s) worse than {threshold:.1%}"
        if counts["inconclusive"]:
            text += ", inconclusive rows " + ("allowed" if allow_inconclusive else "fail the gate")
        text += " -> FAIL" if result.fails(threshold, allow_inconclusive=allow_inconclusive) else " -> ok"
    gated = sum(r.gate is not None for r in result.rows)
    if gated:
        text += f"; {len(result.gate_failures)} of {gated} gate(s) failed"
        text += " -> FAIL" if result.gate_failures else ""
    return text


# Verdicts a reader should look at although they do not gate: flagged in the Markdown table.
FLAGGED_VERDICTS = frozenset({"untested", "inconclusive"})
MARKDOWN_ORDER = {"regression": 0, "inconclusive": 1, "untested": 2, "improvement": 3, "unchanged": 4, "n/a": 5}


def render_markdown(result: ComparisonResult, threshold: float | None, allow_inconclusive: bool = False) -> str:
    """GitHub Markdown (a PR comment): regressions first, then rows that could not be decided,
    flagged; every name escaped (formats.markdown), so no entry name can inject HTML or columns."""
    lines = [f"### frontierbench compare: {code_span(result.new)} vs {code_span(result.base)}", "",
             escape_text(summary_line(result, threshold, allow_inconclusive)), ""]
    rows = []
    for row in sorted(result.rows, key=lambda r: (MARKDOWN_ORDER.get(r.verdict, 9), r.board, r.entry, r.metric)):
        cells = [escape_text(c) for c in _cells(row)]
        if row.verdict == "regression":
            cells[-1] = f"**{cells[-1]}**"
        elif row.verdict in FLAGGED_VERDICTS:
            cells[-1] = f"⚠️ {cells[-1]}"
        rows.append(cells)
    lines.extend(table(COLUMNS, rows))
    lines.extend(f"\n> {escape_text(note)}" for note in result.notes)
    lines.extend(f"\n> **{escape_text(line)}**" for line in result.gate_failures)
    return "\n".join(lines) + "\n"


def render_table(result: ComparisonResult, threshold: float | None, allow_inconclusive: bool = False) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{result.new} vs {result.base}", title_justify="left")
    for column in COLUMNS:
        table.add_column(column, justify="right" if column in ("base", "new", "change", "MDE", "P(worse)", "p")
                         else "left")
    for row in result.rows:
        table.add_row(*_cells(row), style=VERDICT_STYLE.get(row.verdict))
    console = Console()
    if not console.is_terminal:  # a CI log or a file: the table's full width, never cut to 80 columns
        console = Console(width=max(80, Console(width=100_000).measure(table).maximum))
    console.print(table)
    for note in result.notes:
        console.print(f"note: {note}", style="yellow", markup=False, soft_wrap=True)
    for line in result.gate_failures:
        console.print(line, style="bold red", markup=False, soft_wrap=True)
    console.print(summary_line(result, threshold, allow_inconclusive), markup=False, soft_wrap=True)
