"""What each site page shows, computed from a Leaderboard: no HTML here, only plain data.

build.py renders these views with jinja2. Keeping the arithmetic (thinning, histograms, rounding)
here and in badges.py makes it testable without a browser, and keeps the templates free of logic.
Everything is deterministic: the same leaderboard gives the same views.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from frontierbench.formats.leaderboard import Group, Leaderboard, LeaderboardEntry
from frontierbench.site.badges import BADGES, data_ranks, data_ties, entry_badges
from frontierbench.site.history import history_view
from frontierbench.site.pages import entry_page
from frontierbench.stats.rounding import PAGE_DIGITS, round_sig

# A board page must stay small; entry pages show at most this many histogram bins.
MAX_BINS = 30


def histogram(samples: list[float]) -> dict[str, list[float]]:
    """Bins for a sample: one bar per value when the values are few and repeat (0/1 item scores).

    This is how large sample arrays are thinned for display: an entry page carries at most
    MAX_BINS bars, computed from every sample, however many rounds or items were kept.
    """
    if not samples:
        return {"x": [], "width": [], "count": []}
    distinct = sorted(set(samples))
    if len(distinct) <= 12 and (len(samples) >= 2 * len(distinct) or all(v == int(v) for v in distinct)):
        counts = dict.fromkeys(distinct, 0)
        for s in samples:
            counts[s] += 1
        gaps = [b - a for a, b in zip(distinct, distinct[1:])]
        width = 0.8 * min(gaps) if gaps else 1.0
        return {"x": distinct, "width": [width] * len(distinct), "count": [counts[v] for v in distinct]}
    lo, hi = distinct[0], distinct[-1]
    bins = min(MAX_BINS, max(5, int(math.sqrt(len(samples)))))
    width = (hi - lo) / bins or 1.0
    if len(samples) > 256:
        counts_array, _ = np.histogram(np.asarray(samples, dtype=float), bins=bins, range=(lo, hi))
        counts_list = [int(c) for c in counts_array]
    else:
        counts_list = [0] * bins
        last = bins - 1
        for s in samples:
            i = int((s - lo) / width)
            counts_list[i if i < last else last] += 1
    step = round_sig(width, 6)
    return {"x": [round_sig(lo + (i + 0.5) * width, 6) for i in range(bins)], "width": [step] * bins,
            "count": counts_list}


def objectives_view(board: Leaderboard) -> list[dict[str, Any]]:
    return [{"metric": o.metric, "label": o.label or o.metric, "unit": o.unit or "",
             "direction": o.direction, "log": o.log_scale} for o in board.objectives]


def metric_unit(board: Leaderboard, group: Group, metric: str) -> str:
    objective = next((o for o in board.objectives if o.metric == metric), None)
    if objective is not None and objective.unit:
        return objective.unit
    for entry in group.entries:
        if metric in entry.metrics:
            return entry.metrics[metric].unit
    return ""


def leader(board: Leaderboard, group: Group) -> str | None:
    """The leader's name, or "tie: a, b, c" when several share the best rank (as `check` says)."""
    if group.reliability is not None and group.reliability.leader:
        leaders = list(getattr(group.reliability, "leaders", None) or [])
        if len(leaders) > 1:
            return "tie: " + ", ".join(leaders)
        return group.reliability.leader
    ranks = data_ranks(board, group)
    best = sorted((r, n) for n, r in ranks.items() if r is not None)
    tied = [n for r, n in best if best and r == best[0][0]]
    if len(tied) > 1:
        return "tie: " + ", ".join(tied)
    return best[0][1] if best else None


def reliability_status(group: Group) -> dict[str, Any]:
    report = group.reliability
    if report is None:
        return {"code": "none", "text": "no reliability report", "min_dior": None}
    diors = [d for f in report.families if f.applicable
             for d in (f.dior_front, f.dior_rank, f.dior_leader) if d is not None]
    lowest = min(diors) if diors else None
    if report.reliable:
        return {"code": "reliable", "text": "reliable", "min_dior": lowest}
    return {"code": "unreliable", "text": "not all decisions reliable", "min_dior": lowest}


def board_data(board: Leaderboard, group: Group, badges: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The JSON embedded in a board page: columns of numbers, no samples (they stay on entry pages)."""
    report = group.reliability
    if badges is None:
        ties = data_ties(board, group) if report is None else set()
        badges = {entry.name: entry_badges(entry, group, ties) for entry in group.entries}
    ranks = data_ranks(board, group)
    columns: dict[str, list[Any]] = {k: [] for k in (
        "name", "href", "family", "on_front", "p_front", "rank", "rank_lo", "rank_hi", "p_top1",
        "badges", "tied_with", "shadowed_by", "energy_method")}
    metrics = [o.metric for o in board.objectives]
    values: dict[str, list[Any]] = {m: [] for m in metrics}
    for entry in group.entries:
        rel = report.entries.get(entry.name) if report else None
        columns["name"].append(entry.name)
        columns["href"].append(entry_page(group, entry.name))
        columns["family"].append(entry.family)
        columns["on_front"].append(entry.on_front)
        columns["p_front"].append(round_sig(rel.p_front, 3) if rel else None)
        columns["rank"].append(rel.rank if rel else ranks[entry.name])
        columns["rank_lo"].append(rel.rank_interval[0] if rel else None)
        columns["rank_hi"].append(rel.rank_interval[1] if rel else None)
        columns["p_top1"].append(round_sig(rel.p_top1, 3) if rel else None)
        columns["badges"].append(badges[entry.name])
        columns["tied_with"].append(list(rel.tied_with) if rel else [])
        shadow = rel.sole_dominator if rel else (entry.dominated_by[0] if len(entry.dominated_by) == 1 else None)
        columns["shadowed_by"].append(shadow)
        columns["energy_method"].append(entry.energy_method)
        for m in metrics:
            metric = entry.metrics.get(m)
            if metric is None or metric.value is None:
                values[m].append(None)
                continue
            low, high = metric.low, metric.high
            if (low is None or high is None) and rel is not None and m in rel.intervals:
                low, high = rel.intervals[m]
                if low == high:  # a figure without samples (one energy window): no interval, not [x, x]
                    low = high = None
            values[m].append([round_sig(v, PAGE_DIGITS) for v in (metric.value, low, high)])
    return {
        "board": board.board,
        "primary": board.primary,
        "objectives": objectives_view(board),
        "units": {m: metric_unit(board, group, m) for m in metrics},
        "reliable_report": report is not None,
        "badges": {code: list(text) for code, text in BADGES.items()},
        "entries": columns,
        "values": values,
    }


def budget_text(group: Group) -> str | None:
    report = group.reliability
    if report is None or not report.budget:
        return None
    fraction = report.smallest_reliable_fraction
    if fraction is None:
        return (f"No subsampled budget reached DIoR ≥ {report.min_dior:g}: "
                "the full measurement budget is needed, and may not be enough.")
    point = next((p for p in report.budget if p.fraction == fraction), None)
    parts = []
    if point is not None and point.rounds is not None:
        parts.append(f"{point.rounds} rounds")
    if point is not None and point.items is not None:
        parts.append(f"{point.items} items")
    detail = f" ({', '.join(parts)})" if parts else ""
    saving = f", {1 / fraction:g}× cheaper" if fraction < 1 else ""
    return (f"The smallest budget that keeps DIoR ≥ {report.min_dior:g} is {fraction:g} of what was measured"
            f"{detail}{saving}.")


def flatten(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested dicts and lists as sorted (dotted key, text) rows."""
    rows: list[tuple[str, str]] = []
    if isinstance(data, dict):
        for key in sorted(data, key=str):
            rows.extend(flatten(data[key], f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list) and any(isinstance(x, (dict, list)) for x in data):
        for i, item in enumerate(data):
            rows.extend(flatten(item, f"{prefix}[{i}]"))
    else:
        rows.append((prefix or "value", _scalar_text(data)))
    return rows


def _scalar_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def entry_data(board: Leaderboard, group: Group, entry: LeaderboardEntry, environment: list[tuple[str, str]],
               badges: list[str], commit_url: str | None = None) -> dict[str, Any]:
    """The JSON embedded in an entry page; entry.js renders it (text only, never HTML).

    The history (site.history) links each run to its commit through `commit_url`, a template
    holding {commit}; without one, to the run's row in the page's history table.

    Samples are summarised as histograms (bins from all samples), so a page stays small however
    many rounds or items were kept.
    """
    report = group.reliability
    rel = report.entries.get(entry.name) if report else None
    metrics = []
    for name in sorted(entry.metrics):
        metric = entry.metrics[name]
        low, high = metric.low, metric.high
        if (low is None or high is None) and rel is not None and name in rel.intervals:
            low, high = rel.intervals[name]
        metrics.append({
            "metric": name, "unit": metric.unit, "higher_is_better": metric.higher_is_better,
            "value": metric.value, "low": low, "high": high, "estimator": metric.estimator,
            "interval": metric.interval, "n": metric.n, "kind": metric.sample_kind,
            "run_spread": metric.run_spread, "run_values": metric.run_values,
            "interval_note": metric.interval_note, "replicates": metric.replicates,
            "provenance": flatten(metric.provenance) if metric.provenance else [],
            "hist": histogram(metric.samples) if metric.samples else None,
        })
    return {
        "name": entry.name, "primary": board.primary, "top_k": board.top_k,
        "on_front": entry.on_front, "dominated_by": entry.dominated_by[:20],
        "dominated_count": len(entry.dominated_by), "badges": badges,
        "badge_text": {code: list(BADGES[code]) for code in badges},
        "reliability": None if rel is None else {
            "p_front": rel.p_front, "label": rel.front_label, "rank": rel.rank,
            "rank_interval": list(rel.rank_interval), "p_top1": rel.p_top1, "p_topk": rel.p_topk,
            "sole_dominator": rel.sole_dominator, "tied_with": rel.tied_with},
        "metrics": metrics,
        "history": history_view(board, entry, commit_url),
        "params": flatten(entry.params) if entry.params else [],
        "nodeids": entry.nodeids, "runs": entry.runs, "environment": environment,
    }
