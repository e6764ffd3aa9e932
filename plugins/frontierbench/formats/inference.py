"""Boards without a board.toml: a default board inferred from the metrics the cases report.

The rules, in this one place (aggregate, `board init` and the pytest-benchmark import use them):
- quality metrics (those a case reported with frontier.quality(), or an extra_info number with a
  known quality name) and other figures the record marks higher-is-better become max objectives;
- `wall_time`, `peak_memory` and `energy` become min objectives, in that order, when some entry
  has a value for them;
- derived figures (throughput is items / wall_time) and informational numbers are not objectives;
- the primary is the first quality metric, else `wall_time`.
Kinds come from the metric registry (formats.metrics) for the standard metrics and from the
case's provenance for its own; directions come from the record (each metric carries
`higher_is_better`), never from a guess, except for pytest-benchmark extra_info numbers, which
carry none (see `extra_info_metrics`).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Iterable

from frontierbench.formats.metrics import spec

COST_OBJECTIVES = ("wall_time", "peak_memory", "energy")
LABELS = {"wall_time": "Wall time", "peak_memory": "Peak memory", "energy": "Energy"}
INFERRED_VERSION = "inferred"

# extra_info keys that name the case rather than measure it.
EXTRA_INFO_NAMING = frozenset({"board", "entry", "family", "items", "device"})
# extra_info numbers have no direction; these names have a conventional one.
HIGHER_IS_BETTER_NAMES = frozenset({"accuracy", "acc", "top1", "top5", "f1", "precision", "recall", "auc",
                                    "roc_auc", "bleu", "rouge", "rouge_l", "exact_match", "em", "map", "ndcg",
                                    "mrr", "r2", "score", "pass_at_1", "win_rate"})
LOWER_IS_BETTER_NAMES = frozenset({"loss", "error", "error_rate", "perplexity", "ppl", "wer", "cer", "mse",
                                   "mae", "rmse", "nll", "log_loss"})


def known_quality_direction(name: str) -> bool | None:
    """True/False for a conventional quality name (accuracy, val_loss, top1_error...), else None."""
    words = [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]
    joined = "_".join(words)
    for candidate in (joined, *words[::-1]):
        if candidate in HIGHER_IS_BETTER_NAMES:
            return True
        if candidate in LOWER_IS_BETTER_NAMES:
            return False
    return None


def extra_info_metrics(extra: dict[str, Any], directions: dict[str, bool] | None = None) -> dict[str, dict]:
    """pytest-benchmark `extra_info` numbers as run-record metrics.

    A direction comes from `directions` (a board's objectives), else from a conventional quality
    name; such numbers are quality figures. Any other number is kept too, marked
    `kind: "info"` with its direction `assumed`, so it is shown but never ranked on.
    """
    metrics = {}
    for name, value in extra.items():
        if name in EXTRA_INFO_NAMING or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if value != value or value in (float("inf"), float("-inf")):
            continue
        higher = (directions or {}).get(name)
        if higher is None:
            higher = known_quality_direction(name)
        provenance = {"method": "reported", "source": "extra_info", "covers": None}
        if higher is None:
            provenance.update(kind="info", direction="assumed higher-is-better; not an objective")
            higher = True
        else:
            provenance["kind"] = "quality"
        metrics[str(name)] = {"value": float(value), "unit": "", "higher_is_better": higher, "samples": None,
                              "provenance": provenance}
    return metrics


def board_from_nodeid(nodeid: str, fallback: str = "benchmarks") -> str:
    """The board a benchmark without one belongs to: its module, as a slug
    ("tests/test_sort.py::test_quick[10]" -> "sort")."""
    module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    stem = module[:-3] if module.endswith(".py") else module
    for prefix in ("test_", "bench_", "benchmark_"):
        if stem.startswith(prefix) and len(stem) > len(prefix):
            stem = stem[len(prefix):]
            break
    slug = re.sub(r"[^a-z0-9_-]+", "-", stem.lower()).strip("-_")[:64]
    return slug if slug and re.match(r"^[a-z0-9]", slug) else fallback


@dataclass
class SeenMetric:
    """What the inputs say about one metric of one board."""

    unit: str
    higher_is_better: bool
    kind: str  # "quality" | "cost" | "derived" | "info"
    with_value: int = 0


def _kind(name: str, provenance: dict[str, Any]) -> str:
    known = spec(name)
    if known is not None:  # the registry: a rate (throughput) or a one-off cost is not an objective
        if known.kind in ("rate", "derived"):
            return "derived"
        return "info" if not known.per_call else known.kind
    declared = provenance.get("kind")
    if declared in ("quality", "info"):
        return declared
    if provenance.get("method") == "derived":
        return "derived"
    return "info" if declared == "training" else "cost"


def seen_metrics(cases: Iterable[Any]) -> OrderedDict[str, SeenMetric]:
    """Metrics of passed cases (records.Case models or plain dicts), in order of first appearance."""
    seen: OrderedDict[str, SeenMetric] = OrderedDict()
    for case in cases:
        data = case if isinstance(case, dict) else case.model_dump(mode="json")
        if data.get("outcome", "passed") != "passed":
            continue
        for name, metric in (data.get("metrics") or {}).items():
            provenance = metric.get("provenance") or {}
            entry = seen.setdefault(name, SeenMetric(metric.get("unit") or "", bool(metric["higher_is_better"]),
                                                     _kind(name, provenance)))
            if metric.get("value") is not None:
                entry.with_value += 1
    return seen


def infer_objectives(seen: OrderedDict[str, SeenMetric]) -> tuple[list, str | None]:
    """(objectives, primary) by the rules above; ([], None) when nothing can be ranked."""
    from frontierbench.formats.leaderboard import Objective  # pydantic: not at pytest plugin import

    quality = [n for n, m in seen.items() if m.with_value and m.higher_is_better
               and m.kind in ("quality", "cost") and n not in COST_OBJECTIVES]
    lower_quality = [n for n, m in seen.items() if m.with_value and not m.higher_is_better and m.kind == "quality"]
    costs = [n for n in COST_OBJECTIVES if n in seen and seen[n].with_value]
    objectives = [Objective(metric=n, direction="max", label=n.replace("_", " "), unit=seen[n].unit or None)
                  for n in quality]
    objectives += [Objective(metric=n, direction="min", label=n.replace("_", " "), unit=seen[n].unit or None)
                   for n in lower_quality]
    objectives += [Objective(metric=n, direction="min", label=LABELS[n], unit=seen[n].unit or None,
                             log_scale=n != "peak_memory") for n in costs]
    qualities = [n for n in quality + lower_quality if seen[n].kind == "quality"]
    if qualities:
        primary = qualities[0]
    elif "wall_time" in costs:
        primary = "wall_time"
    else:
        primary = objectives[0].metric if objectives else None
    return objectives, primary


def inferred_board_data(name: str, cases: Iterable[Any]) -> dict[str, Any] | None:
    """A BoardDefinition's fields for `name`, inferred from its cases; None when no metric can rank."""
    objectives, primary = infer_objectives(seen_metrics(cases))
    if not objectives:
        return None
    return {"name": name, "title": name, "version": INFERRED_VERSION, "inferred": True,
            "objectives": [o.model_dump(exclude_defaults=True) for o in objectives], "primary": primary}
