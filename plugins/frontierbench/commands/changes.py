"""The steps found in each entry's history, as `check` shows and gates them (`--fail-on-change`).

A step is a regression when it made the metric worse in its own direction (slower, hungrier, less
accurate); only regressions larger than the threshold fail the check. Improvements are listed.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import datetime, timezone

from rich.console import Console
from rich.table import Table
from rich.text import Text

from frontierbench.formats.leaderboard import Change, Group, LeaderboardEntry


@dataclass(frozen=True)
class ChangeRow:
    entry: str
    change: Change
    higher_is_better: bool

    @property
    def worse_by(self) -> float:
        """How much worse the metric became (0.1 = 10% worse); negative when it got better."""
        return 1.0 - self.change.ratio if self.higher_is_better else self.change.ratio - 1.0


def parse_since(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 date or time such as 2026-11-01, got {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _started(change: Change) -> datetime | None:
    try:
        return parse_since(change.started_at)
    except argparse.ArgumentTypeError:
        return None


def change_rows(entries: list[LeaderboardEntry], since: datetime | None = None) -> list[ChangeRow]:
    rows = []
    for entry in entries:
        for change in entry.changes:
            started = _started(change)
            if since is not None and started is not None and started < since:
                continue
            estimate = entry.metrics.get(change.metric)
            rows.append(ChangeRow(entry.name, change, bool(estimate.higher_is_better) if estimate else False))
    return sorted(rows, key=lambda r: (r.change.started_at, r.entry, r.change.metric))


def gated(rows: list[ChangeRow], threshold: float | None) -> list[ChangeRow]:
    if threshold is None:
        return []
    return [row for row in rows if row.worse_by > threshold]


def render_changes(console: Console, group: Group, threshold: float | None, since: datetime | None) -> list[ChangeRow]:
    """Print the group's changes; return the regressions that fail the gate."""
    rows = change_rows(group.entries, since)
    if not rows:
        return []
    table = Table(title="Steps in the history (first run after each step; ratio after/before, 95% interval)",
                  title_justify="left")
    for column in ("entry", "metric", "run", "commit", "started", "ratio [95%]", ""):
        table.add_column(column, justify="right" if column == "ratio [95%]" else "left")
    for row in rows:
        change = row.change
        kind = Text("worse", style="bold red") if row.worse_by > 0 else Text("better", style="green")
        cells = (row.entry, change.metric, change.run_id, (change.git_commit or "")[:12], change.started_at,
                 f"{change.ratio:.3f} [{change.low:.3f}, {change.high:.3f}]")
        table.add_row(*(Text(cell) for cell in cells), kind)  # Text: names are never read as markup
    console.print(table)
    failing = gated(rows, threshold)
    for row in failing:
        console.print(Text(f"✗ {row.entry}: {row.change.metric} got {row.worse_by:.1%} worse at run "
                           f"{row.change.run_id} (more than {threshold:.1%})", style="bold red"))
    return failing
