"""Regression gates: how much worse a metric may get before `frontierbench compare` fails.

A board declares them in its board.toml, and a case may override them with its marker:

    [gates]
    wall_time = "5%"            # fail when wall time is significantly more than 5% worse
    accuracy = "-0.5 points"    # fail when accuracy drops by more than 0.5 percentage points
    peak_memory = "1048576"     # a bare number: an absolute limit in the metric's own unit

    @pytest.mark.frontier(max_regression="3%")                   # this case's wall_time gate
    @pytest.mark.frontier(max_regression={"accuracy": "-1 points"})

The sign is optional and only says "worse": a gate always limits how far a metric may move in its
bad direction (up for costs, down for quality), whichever way that is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# A marker's bare string gates this metric, as pytest-benchmark's --benchmark-compare-fail does time.
DEFAULT_GATED_METRIC = "wall_time"

_GATE = re.compile(r"^\s*[-+]?\s*(?P<number>\d+(\.\d*)?|\.\d+)\s*(?P<unit>%|points?|pp)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Gate:
    """The largest tolerated worsening of one metric: relative (0.05 = 5%) or absolute."""

    metric: str
    limit: float
    kind: str  # "relative" | "points" | "absolute"
    text: str  # as written, for messages
    source: str  # where it was declared: "board digits" or "marker on tests/x.py::t"

    def exceeded_by(self, base: float, new: float, higher_is_better: bool, unit: str = "") -> float | None:
        """How far past the limit NEW is (> 0 means the gate fails), in the gate's own terms."""
        worse = (base - new) if higher_is_better else (new - base)
        if self.kind == "relative":
            if base == 0:
                return None
            return worse / abs(base) - self.limit
        if self.kind == "points":
            # Percentage points: a fraction in [0, 1] moves 0.01 per point; a figure in % moves 1.
            scale = 1.0 if unit.strip() == "%" else 0.01
            return worse / scale - self.limit
        return worse - self.limit

    def describe(self) -> str:
        return f"{self.metric} <= {self.text} worse ({self.source})"


def parse_gate(metric: str, text: Any, *, source: str) -> Gate:
    """'5%' -> relative 0.05; '-0.5 points' -> 0.5 percentage points; '0.002' -> absolute.

    Raises ValueError naming the metric and the text; callers add the file or the case.
    """
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ValueError(f"gate for {metric!r} must be text such as \"5%\" or \"-0.5 points\", got {text!r}")
    match = _GATE.match(str(text))
    if not match:
        raise ValueError(f"gate for {metric!r} is {text!r}; write a percentage (\"5%\"), percentage points "
                         f"(\"-0.5 points\") or an absolute amount in the metric's unit (\"0.002\")")
    number = float(match["number"])
    unit = (match["unit"] or "").lower()
    if unit == "%":
        return Gate(metric, number / 100.0, "relative", str(text).strip(), source)
    if unit:
        return Gate(metric, number, "points", str(text).strip(), source)
    return Gate(metric, number, "absolute", str(text).strip(), source)


def parse_gates(table: Any, *, source: str) -> dict[str, Gate]:
    """A {metric: text} table (board.toml [gates]); a bare string gates DEFAULT_GATED_METRIC."""
    if isinstance(table, (str, int, float)) and not isinstance(table, bool):
        table = {DEFAULT_GATED_METRIC: table}
    if not isinstance(table, dict):
        raise ValueError(f"gates must be a table of metric = \"limit\", got {table!r}")
    return {str(metric): parse_gate(str(metric), text, source=source) for metric, text in table.items()}
