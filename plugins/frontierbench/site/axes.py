"""The board page's axes: which objectives a plot shows first, and the unit each is drawn in."""

from __future__ import annotations

from typing import Any

from frontierbench.formats.leaderboard import Group, Leaderboard
from frontierbench.formats.metrics import display_scale
from frontierbench.site.views import metric_unit


def default_axes(board: Leaderboard) -> tuple[str, str | None]:
    """(x, y): quality (the first max objective) on y, the first cost (min objective) on x.

    A board without a quality objective plots its first two costs; a one-objective board has no y.
    """
    metrics = [o.metric for o in board.objectives]
    costs = [o.metric for o in board.objectives if o.direction == "min"]
    quality = [o.metric for o in board.objectives if o.direction == "max"]
    if len(metrics) == 1:
        return metrics[0], None
    if quality and costs:
        return costs[0], quality[0]
    return metrics[0], metrics[1]


def display_units(board: Leaderboard, group: Group) -> dict[str, dict[str, Any]]:
    """Per objective, the scale the plot and the axis selectors use (e.g. seconds shown as ms):
    chosen from the median of the group's values, so a selector says what the axis shows."""
    shown = {}
    for objective in board.objectives:
        unit = metric_unit(board, group, objective.metric)
        values = sorted(e.metrics[objective.metric].value for e in group.entries
                        if objective.metric in e.metrics and e.metrics[objective.metric].value is not None)
        middle = values[len(values) // 2] if values else 1.0
        factor, name = display_scale(middle, unit)
        shown[objective.metric] = {"factor": factor, "unit": name}
    return shown
