"""Step 4 of `frontierbench aggregate`: metrics derived from an entry's pooled estimates.

Per-item costs, cost of pass, accuracy per watt and full-cycle energy (stats/pareto.py's formulas),
marked `estimator="derived"`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from frontierbench.stats import pareto as frontier
from frontierbench.formats.board import BoardDefinition
from frontierbench.formats import metrics as registry
from frontierbench.formats.float_array import FloatArray
from frontierbench.formats.leaderboard import MetricEstimate
from frontierbench.stats.rounding import round_array, round_or_none


def _per_item(estimate: MetricEstimate, items: int, unit: str, name: str) -> MetricEstimate:
    # Constructed without validation: a pooled estimate scaled down by a positive count (a thousand
    # run values each, for every entry of a history) stays as valid as the estimate it came from.
    scale = 1.0 / items
    return MetricEstimate.model_construct(
        value=round_or_none(estimate.value * scale),
        low=round_or_none(estimate.low * scale) if estimate.low is not None else None,
        high=round_or_none(estimate.high * scale) if estimate.high is not None else None, unit=unit,
        higher_is_better=estimate.higher_is_better, estimator="derived", interval=estimate.interval,
        n=estimate.n, sample_kind=estimate.sample_kind,
        run_values=_scaled(estimate.run_values, scale), run_spread=estimate.run_spread,
        interval_scope=estimate.interval_scope, interval_note=estimate.interval_note, replicates=estimate.replicates,
        provenance={"method": "derived", "formula": f"{name} / items", "items": items,
                    "interval_from": f"{name} (exact: a constant scale)",
                    **({"energy_method": estimate.provenance.get("method")}
                       if registry.from_energy_meter(name) else {})})


def _scaled(values: Any, scale: float) -> Any:
    """Run values times `scale`, rounded, in the form they came in (a list, or a FloatArray)."""
    scaled = round_array(np.asarray(values, dtype=np.float64) * scale)
    return FloatArray(scaled) if isinstance(values, FloatArray) else scaled.tolist()


def _derived(value: float | None, unit: str, higher_is_better: bool, formula: str,
             **extra: Any) -> MetricEstimate | None:
    if value is None:
        return None
    return MetricEstimate(value=round_or_none(value), unit=unit, higher_is_better=higher_is_better, estimator="derived",
                          provenance={"method": "derived", "formula": formula, **extra})


def quality_metric(metrics: dict[str, MetricEstimate], board: BoardDefinition) -> str | None:
    """The quality figure that cost-of-pass divides by: the registry's quality metric (accuracy) when
    measured, else the board's first higher-is-better objective that is not a cost or a rate."""
    for name, spec in registry.STANDARD.items():
        if spec.kind == "quality" and name in metrics:
            return name
    for objective in board.objectives:
        if (objective.direction == "max" and not registry.is_cost_or_rate(objective.metric)
                and objective.metric in metrics):
            return objective.metric
    return None


def derive_metrics(metrics: dict[str, MetricEstimate], items: int | None, board: BoardDefinition,
                   energy_method: str) -> dict[str, MetricEstimate]:
    """Per-item costs, cost of pass, accuracy per watt and full-cycle energy for one entry."""
    out: dict[str, MetricEstimate] = {}

    def value(name: str) -> float | None:
        estimate = metrics.get(name) or out.get(name)
        return None if estimate is None else estimate.value

    energy_note = {"energy_method": energy_method}
    if items:
        for name, spec in registry.STANDARD.items():
            if spec.per_item and name in metrics and metrics[name].value is not None:
                out[f"{name}_per_item"] = _per_item(metrics[name], items, spec.unit, name)
    quality = quality_metric(metrics, board)
    if quality is not None:
        for cost, spec in registry.DERIVED.items():
            if not spec.per_correct:
                continue
            result = frontier.cost_per_correct(value(cost), value(quality))
            name = cost.replace("_per_item", "_per_correct")
            extra = energy_note if spec.energy else {}
            derived = _derived(result, spec.unit, False, f"{cost} / {quality}", quality=quality, **extra)
            if derived is not None:
                out[name] = derived
        derived = _derived(frontier.accuracy_per_watt(value(quality), value("energy"), value("wall_time")),
                           f"{metrics[quality].unit or quality}/W", True,
                           f"{quality} / (energy / wall_time)", quality=quality, **energy_note)
        if derived is not None:
            out[f"{quality}{registry.PER_WATT_SUFFIX}"] = derived
    training = metrics.get("training_energy")
    if training is not None and value("energy_per_item") is not None:
        for n, result in frontier.full_cycle_energies(training.value, value("energy_per_item"),
                                                      board.usage_intensities).items():
            derived = _derived(result, "J", False, f"training_energy + {n} * energy_per_item",
                               usage_intensity=n, training_energy_method=training.provenance.get("method"),
                               **energy_note)
            if derived is not None:
                out[f"{registry.FULL_CYCLE_PREFIX}{n}"] = derived
    return out


def energy_based(name: str, estimate: MetricEstimate) -> bool:
    return registry.energy_based(name, estimate.provenance)
