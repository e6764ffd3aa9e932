"""The terminal summary: one rich table row per case.

It reads the run record as written (plain JSON data), so a pytest session needs no pydantic.
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.table import Table

from frontierbench.formats.metrics import format_value, is_cost_or_rate
from frontierbench.stats.intervals import median_interval
from frontierbench.stats.scope import ONE_PROCESS_NOTE

Metric = dict[str, Any]  # one entry of a case's "metrics", as in the run record


def format_time_cell(metric: Metric | None) -> str:
    if metric is None or metric.get("value") is None:
        return "-"
    samples = metric.get("samples")
    interval = median_interval(samples) if samples and len(samples) > 1 else None
    low, high = (interval.low, interval.high) if interval else (None, None)
    return format_value(metric["value"], metric.get("unit", "s"), low, high)


def format_generation_cell(metrics: dict[str, Metric]) -> str:
    """A measure_generation case has no wall_time: its time to first token and time per token."""
    parts = [f"{label} {format_time_cell(metrics[name])}" for name, label in (("ttft", "TTFT"), ("tpot", "TPOT"))
             if name in metrics]
    return " · ".join(parts) or "-"


def format_energy_cell(metric: Metric | None) -> str:
    if metric is None:
        return "-"
    method = metric["provenance"]["method"]
    if metric.get("value") is None:
        return method
    return f"{format_value(metric['value'], metric.get('unit', 'J'))} ({method})"


def format_quality_cell(metrics: dict[str, Metric]) -> str:
    """The figures the case reported through frontier.quality()."""
    parts = []
    for name in sorted(metrics):
        metric = metrics[name]
        if is_cost_or_rate(name) or metric.get("value") is None or metric["provenance"].get("kind") != "quality":
            continue
        parts.append(f"{name}={metric['value']:.4g}")
    return ", ".join(parts)


def interval_scope_line(cases) -> str:
    """What the wall-time intervals above cover: each row's rounds, in the process that ran it."""
    processes = {case.get("process") for case in cases if case.get("process") is not None}
    if len(processes) >= 2:
        return (f"wall time intervals: within each row's process; `frontierbench aggregate` pools the "
                f"{len(processes)} processes into intervals between them")
    return (f"wall time intervals: {ONE_PROCESS_NOTE} (pool repeated runs with `frontierbench aggregate`, "
            f"or run worker processes, to measure it)")


def skipped_lines(cases) -> list[str]:
    """Skipped cases, one line per reason: a row each would bury the measured ones."""
    reasons: dict[str, int] = {}
    for case in cases:
        reason = case.get("error") or "no reason given"
        reasons[reason] = reasons.get(reason, 0) + 1
    return [f"skipped {count} case{'s' if count > 1 else ''}: {reason}" for reason, count in reasons.items()]


def render_summary(record: dict[str, Any], *, width: int = 120, color: bool = False, max_rows: int = 50) -> str:
    """The table, capped at `max_rows` rows (0 = all): rich costs about 1.6 ms per row, and the
    run record holds every case anyway."""
    table = Table(title=f"frontierbench · {record['environment']['hardware_class']} · {record['status']}",
                  title_justify="left", expand=False)
    for column in ("entry", "board", "device", "outcome", "wall time (median [95% CI])", "peak mem",
                   "energy / call", "quality"):
        table.add_column(column, overflow="fold")
    ran = [case for case in record["cases"] if case["outcome"] != "skipped"]
    ran.sort(key=lambda case: case["outcome"] == "passed")  # failures first; stable otherwise
    shown = ran if max_rows <= 0 else ran[:max_rows]
    for case in shown:
        metrics = case["metrics"]
        memory = metrics.get("cuda_peak_memory") or metrics.get("peak_memory")
        outcome, error = case["outcome"], case.get("error")
        if error and outcome != "passed":
            outcome = f"{outcome}: {error[:60]}"
        memory_text = (format_value(memory["value"], memory.get("unit", "B"))
                       if memory and memory.get("value") is not None else "-")
        table.add_row(case["entry"], case.get("board") or "-", case.get("device", "cpu"), outcome,
                      format_time_cell(metrics.get("wall_time")) if "wall_time" in metrics
                      else format_generation_cell(metrics), memory_text,
                      format_energy_cell(metrics.get("energy")), format_quality_cell(metrics))
    buffer = io.StringIO()
    Console(file=buffer, width=max(width, 150), force_terminal=color, color_system="standard" if color else None,
            highlight=False).print(table)
    for line in skipped_lines([case for case in record["cases"] if case["outcome"] == "skipped"]):
        buffer.write(line + "\n")
    buffer.write(interval_scope_line(ran) + "\n")
    hidden = len(ran) - len(shown)
    if hidden:
        buffer.write(f"... and {hidden} more cases, all in the run record (--frontier-summary-rows=0 shows all)\n")
    return "\n" + buffer.getvalue()
