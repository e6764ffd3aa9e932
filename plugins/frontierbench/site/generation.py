"""The latency-against-throughput view of a generation board (frontier.measure_generation entries).

Measured figures (medians and percentiles over requests, throughput per timed pass) and normalised
ones (the idealized-runtime fit) sit side by side in separate, labelled column groups; money
appears only where the board declares [prices]. Plain data: board.html renders it.
"""

from __future__ import annotations

from typing import Any

from frontierbench.formats.leaderboard import Group, MetricEstimate
from frontierbench.formats.metrics import format_value

MEASURED = (("ttft", "TTFT (median)"), ("tpot", "TPOT (median)"), ("request_latency_p50", "latency p50"),
            ("request_latency_p90", "latency p90"), ("request_latency_p99", "latency p99"),
            ("output_throughput", "output tokens/s"), ("request_throughput", "requests/s"),
            ("energy_per_output_token", "energy / output token"))
NORMALISED = (("idealized_runtime_overhead", "a: overhead"),
              ("idealized_runtime_per_prompt_token", "b: per prompt token"),
              ("idealized_runtime_per_output_token", "c: per output token"),
              ("idealized_request_latency", "fitted latency at the median request"))
MONEY = (("cost_per_request", "$ / request"), ("cost_per_million_output_tokens", "$ / M output tokens"),
         ("cost_of_pass", "$ / correct answer"))


def _cell(estimate: MetricEstimate | None) -> dict[str, Any]:
    if estimate is None:
        return {"text": "—", "title": "not recorded"}
    if estimate.value is None:
        note = estimate.provenance.get("note") or "no value"
        return {"text": "not supported", "title": note}
    title = estimate.provenance.get("note") or estimate.provenance.get("formula") or ""
    return {"text": format_value(estimate.value, estimate.unit, estimate.low, estimate.high), "title": title}


def generation_view(group: Group) -> dict[str, Any] | None:
    """Columns and rows for the board page, and points for the plot; None for other boards."""
    entries = [e for e in group.entries if "request_latency" in e.metrics and "output_throughput" in e.metrics]
    if not entries:
        return None
    money = any("cost_per_request" in e.metrics for e in entries)
    fitted = any(name in e.metrics for e in entries for name, _ in NORMALISED)
    column_groups = [("measured", MEASURED)]
    if fitted:
        column_groups.append(("normalised (fitted, HELM idealized runtime)", NORMALISED))
    if money:
        column_groups.append(("money (board [prices])", MONEY))
    rows, points = [], []
    for entry in entries:
        metrics = entry.metrics
        rows.append({"name": entry.name,
                     "cells": [_cell(metrics.get(name)) for _, columns in column_groups for name, _ in columns]})
        latency, throughput = metrics["request_latency"], metrics["output_throughput"]
        if latency.value is not None and throughput.value is not None:
            points.append({"name": entry.name, "family": entry.family,
                           "latency": [latency.value, latency.low, latency.high],
                           "throughput": [throughput.value, throughput.low, throughput.high]})
    return {"groups": [{"label": label, "columns": [title for _, title in columns]}
                       for label, columns in column_groups],
            "rows": rows, "points": points, "money": money,
            "normalised_note": None if fitted else (
                "No normalised figures: in every entry all requests have the same prompt and output "
                "length, so the idealized-runtime model cannot tell its terms apart."),
            "frontier_cost_of_pass": getattr(group, "money", None)}
