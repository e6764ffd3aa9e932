"""An entry's history as the site draws it, and a board's recent changes.

Per objective, one chart: a point per run in commit-time order (each linked to its commit), the
level between detected changes with its 95% interval as a band (stats.changepoints.segment_levels),
and a marker at each change the leaderboard lists. The numbers are the leaderboard's own: the site
draws the `history` and `changes` that aggregate wrote, and refits nothing.
"""

from __future__ import annotations

import re
from typing import Any

from frontierbench.formats.leaderboard import Change, Group, Leaderboard, LeaderboardEntry
from frontierbench.stats.changepoints import segment_levels

COMMIT = re.compile(r"[0-9a-fA-F]{7,64}")
RECENT_CHANGES = 20


def check_commit_url(template: str) -> str:
    """`--commit-url`: an http(s) address with `{commit}` where the hash goes."""
    if "{commit}" not in template or not re.match(r"https?://[^\s\"'<>]+$", template):
        raise ValueError(f"expected an http(s) address holding {{commit}}, such as "
                         f"https://github.com/OWNER/REPO/commit/{{commit}}, got {template!r}")
    return template


def commit_href(template: str | None, commit: str | None, fallback: str) -> str:
    """Where a point or a row links to: the commit's page when an address is configured and the
    hash looks like one, else the run's row in the history table on the same page."""
    if template and commit and COMMIT.fullmatch(commit):
        return template.replace("{commit}", commit)
    return fallback


def history_view(board: Leaderboard, entry: LeaderboardEntry, commit_url: str | None = None) -> dict[str, Any]:
    metrics = [o.metric for o in board.objectives]
    units = {name: m.unit for name, m in entry.metrics.items()}
    points = sorted(entry.history, key=lambda p: (p.started_at, p.run_id))
    rows = []
    for i, p in enumerate(points):
        rows.append([p.started_at, p.run_id, (p.git_commit or "")[:12], p.board_version or "",
                     [p.values.get(m) for m in metrics], commit_href(commit_url, p.git_commit, f"#history-run-{i}")])
    charts = []
    for metric in metrics:
        at = [i for i, p in enumerate(points) if p.values.get(metric) is not None]
        if not at:
            continue
        values = [points[i].values[metric] for i in at]
        position = {points[i].run_id: k for k, i in enumerate(at)}
        changes = [c for c in entry.changes if c.metric == metric and c.run_id in position]
        estimate = entry.metrics.get(metric)
        higher = bool(estimate.higher_is_better) if estimate is not None else False
        levels = segment_levels(values, [position[c.run_id] for c in changes])
        charts.append({
            "metric": metric, "unit": units.get(metric, ""), "higher_is_better": higher,
            "x": [points[i].started_at for i in at], "y": values, "row": at,
            "levels": [{"x0": points[at[lv.start]].started_at, "x1": points[at[lv.stop - 1]].started_at,
                        "value": lv.value, "low": lv.low, "high": lv.high} for lv in levels],
            "changes": [change_view(c, values[position[c.run_id]], higher) | {"row": at[position[c.run_id]]}
                        for c in changes],
        })
    return {"metrics": metrics, "units": [units.get(m, "") for m in metrics], "rows": rows, "charts": charts}


def change_view(change: Change, value: float | None, higher_is_better: bool) -> dict[str, Any]:
    worse = change.ratio < 1 if higher_is_better else change.ratio > 1
    return {"metric": change.metric, "run_id": change.run_id, "commit": (change.git_commit or "")[:12],
            "started_at": change.started_at, "ratio": change.ratio, "low": change.low, "high": change.high,
            "value": value, "worse": worse}


def recent_changes(group: Group, entry_href: dict[str, str], commit_url: str | None = None,
                   limit: int = RECENT_CHANGES) -> list[dict[str, Any]]:
    """The group's newest changes across its entries, newest first, each linked to its entry."""
    found = []
    for entry in group.entries:
        for change in entry.changes:
            estimate = entry.metrics.get(change.metric)
            view = change_view(change, None, bool(estimate.higher_is_better) if estimate else False)
            view.update(entry=entry.name, href=entry_href[entry.name],
                        commit_href=commit_href(commit_url, change.git_commit, entry_href[entry.name] + "#history"))
            found.append(view)
    found.sort(key=lambda c: (c["started_at"], c["entry"], c["metric"]), reverse=True)
    return found[:limit]
