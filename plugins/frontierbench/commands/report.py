"""`frontierbench report`: the trade-offs a board set out to show, as measured.

A board lists its claims in board.toml as `[[comparisons]]` (a baseline entry, a candidate entry,
the metrics to compare, and what the literature reports). The report puts the measured figures
next to each claim, with 95% intervals, whichever way they came out.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from frontierbench.formats.atomic import write_text_atomic
from frontierbench.formats.board import BoardDefinition, Comparison, load_boards
from frontierbench.formats.metrics import is_time_unit
from frontierbench.formats.markdown import code_span, escape_text, table
from frontierbench.stats.bootstrap import bootstrap_statistic, percentile_interval, ratio_interval
from frontierbench.formats.leaderboard import Group, Leaderboard, MetricEstimate, find_leaderboards, load_leaderboard
from frontierbench.formats.run import RecordError

DRAWS = 2000


@dataclass
class MetricComparison:
    metric: str
    unit: str
    higher_is_better: bool
    baseline: MetricEstimate | None
    candidate: MetricEstimate
    ratio: float | None  # candidate / baseline
    ratio_interval: tuple[float, float] | None
    difference: float | None  # candidate - baseline
    difference_interval: tuple[float, float] | None


def ratio_of_rounds(base: MetricEstimate, cand: MetricEstimate, rng: np.random.Generator):
    """Interval of candidate/baseline from each side's own samples (rounds are independent)."""
    if base.sample_kind != "rounds" or cand.sample_kind != "rounds" or not base.samples or not cand.samples:
        return None
    statistic = "median" if base.estimator == "median" else "mean"
    return ratio_interval(cand.samples, base.samples, rng, DRAWS, statistic)


def paired_difference(base: MetricEstimate, cand: MetricEstimate, rng: np.random.Generator):
    """Paired interval of candidate - baseline over the same items (quality per item)."""
    if base.sample_kind != "items" or cand.sample_kind != "items" or not base.samples or not cand.samples:
        return None
    if len(base.samples) != len(cand.samples):
        return None
    diff = np.asarray(cand.samples) - np.asarray(base.samples)
    return percentile_interval(bootstrap_statistic(diff, rng, DRAWS, "mean"))


def compare_entries(group: Group, comparison: Comparison, seed: int = 0) -> list[MetricComparison] | str:
    """The comparison's figures, or why it cannot be made in this group."""
    entries = {entry.name: entry for entry in group.entries}
    missing = [name for name in (comparison.baseline, comparison.candidate) if name not in entries]
    if missing:
        return f"not measured in this group: {', '.join(missing)}"
    rng = np.random.default_rng(seed)
    rows = []
    for metric in comparison.metrics:
        base = entries[comparison.baseline].metrics.get(metric)
        cand = entries[comparison.candidate].metrics.get(metric)
        if cand is None or cand.value is None:
            continue
        if base is None or base.value is None:  # a figure only the candidate has (acceptance rate)
            rows.append(MetricComparison(metric, cand.unit, cand.higher_is_better, None, cand,
                                         None, None, None, None))
            continue
        ratio = cand.value / base.value if base.value else None
        rows.append(MetricComparison(metric, base.unit, base.higher_is_better, base, cand, ratio,
                                     ratio_of_rounds(base, cand, rng), cand.value - base.value,
                                     paired_difference(base, cand, rng)))
    return rows


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


def _estimate(estimate: MetricEstimate | None) -> str:
    if estimate is None:
        return "–"
    text = _number(estimate.value)
    if estimate.low is not None and estimate.high is not None and estimate.interval != "none":
        text += f" [{_number(estimate.low)}, {_number(estimate.high)}]"
    return text


def _change(row: MetricComparison) -> str:
    if row.baseline is None:
        return "candidate only"
    if row.difference_interval is not None or (row.ratio is None and row.difference is not None):
        text = f"{row.difference:+.4g}"
        if row.difference_interval:
            text += f" [{row.difference_interval[0]:+.4g}, {row.difference_interval[1]:+.4g}]"
        return text + " (difference)"
    if row.ratio is None:
        return "–"
    text = f"×{row.ratio:.3g}"
    if row.ratio_interval:
        text += f" [{row.ratio_interval[0]:.3g}, {row.ratio_interval[1]:.3g}]"
    if not row.higher_is_better and row.ratio > 0:
        timed = is_time_unit(row.unit)
        if row.ratio <= 1:
            text += f" ({1 / row.ratio:.3g}× faster)" if timed else f" ({1 / row.ratio:.3g}× less)"
        else:
            text += f" ({row.ratio:.3g}× slower)" if timed else f" ({row.ratio:.3g}× more)"
    return text


def render_board(leaderboard: Leaderboard, board: BoardDefinition) -> str:
    """One board's section. Every name is escaped (formats.markdown): an entry called `<img src=x>`
    or holding `|` shows as those characters and cannot inject HTML or break the table."""
    lines = [f"## {escape_text(leaderboard.title)} ({code_span(leaderboard.board)})", ""]
    if not board.comparisons:
        return "\n".join(lines + ["No comparisons are declared in this board's board.toml.", ""])
    older = [g for g in leaderboard.groups if g.board_version != board.version]
    for group in leaderboard.groups:
        if group in older:  # its metrics may not be the ones today's comparisons name
            continue
        energy = group.energy_method
        lines += [f"### {escape_text(group.hardware_class)} · board v{escape_text(group.board_version)} · "
                  f"energy {escape_text(energy)}", ""]
        for comparison in board.comparisons:
            lines += [f"**{escape_text(comparison.title)}** — {code_span(comparison.candidate)} against "
                      f"{code_span(comparison.baseline)}.", ""]
            if comparison.claim:
                lines += [f"The literature: {escape_text(comparison.claim)}", ""]
            result = compare_entries(group, comparison)
            if isinstance(result, str):
                lines += [f"*Not compared: {escape_text(result)}.*", ""]
                continue
            rows = []
            for row in result:
                unit = f" ({row.unit})" if row.unit else ""
                rows.append([escape_text(f"{row.metric}{unit}"), _estimate(row.baseline), _estimate(row.candidate),
                             _change(row)])
            lines += table(["metric", "baseline", "candidate", "change (95% interval)"], rows)
            lines.append("")
    if older:
        described = ", ".join(f"{g.hardware_class} v{g.board_version}" for g in older)
        lines += [f"*Not compared: groups recorded under an older board version ({described}); this board is "
                  f"now version {board.version}, whose comparisons may name other metrics.*", ""]
    return "\n".join(lines)


def render_report(leaderboards: list[Leaderboard], boards: dict[str, BoardDefinition]) -> str:
    parts = ["# Trade-offs reproduced by the reference suite", "",
             "Generated by `frontierbench report` from the leaderboards; every figure is a measurement of",
             "this run (medians of timed rounds, or of requests for generation metrics; means of per-item",
             "quality; 95% intervals by bootstrap).",
             "Energy marked `estimated` comes from codecarbon's power model, not from a counter.", ""]
    for leaderboard in sorted(leaderboards, key=lambda lb: lb.board):
        if leaderboard.board in boards:
            parts.append(render_board(leaderboard, boards[leaderboard.board]))
    return "\n".join(parts).rstrip() + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("leaderboards", nargs="+", help="leaderboard.json files or folders holding them")
    parser.add_argument("--boards", default="leaderboards", help="board definitions (default: leaderboards/)")
    parser.add_argument("-o", "--output", default=None, help="write the markdown here (default: print it)")


def build_report(leaderboards: list[str | Path], boards: dict[str, BoardDefinition]) -> str:
    """The markdown report of the leaderboard files (or folders holding them)."""
    return render_report([load_leaderboard(p) for p in find_leaderboards(leaderboards)], boards)


def main(args: argparse.Namespace) -> int:
    if args.output and Path(args.output).is_dir():
        raise RecordError(f"{args.output}: -o/--output must be a file to write the markdown to; this is a folder")
    boards = load_boards(args.boards)
    if not boards:
        raise RecordError(f"{args.boards}: no <board>/board.toml found; pass --boards")
    report = build_report(args.leaderboards, boards)
    if args.output:
        write_text_atomic(Path(args.output), report)
        print(f"frontierbench report: wrote {args.output}")
    else:
        print(report)
    return 0
