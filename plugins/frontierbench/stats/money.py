"""Cost in money from a board's hourly prices: per request, per million output tokens, per correct
answer (Cost-of-Pass: cost per attempt / accuracy), and the board's frontier cost-of-pass with
its leave-one-family-out counterfactuals. Plain arithmetic on (value, low, high) triples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

SECONDS_PER_HOUR = 3600.0
TOKENS_PER_MILLION = 1_000_000


@dataclass(frozen=True)
class Amount:
    """A figure with its 95% interval (low/high None when it has none)."""

    value: float
    low: float | None = None
    high: float | None = None

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None


def per_unit_of_rate(dollars_per_hour: float, rate: Amount, scale: float = 1.0) -> Amount:
    """Dollars per unit of work done at `rate` units per second: price / 3600 / rate x scale.

    1 / rate reverses the interval: the rate's high end gives the cost's low end.
    """
    per_second = dollars_per_hour / SECONDS_PER_HOUR * scale
    if rate.value <= 0:
        raise ValueError(f"a rate must be positive to price it, got {rate.value!r}")
    low = per_second / rate.high if rate.has_interval and rate.high > 0 else None
    high = per_second / rate.low if rate.has_interval and rate.low > 0 else None
    return Amount(per_second / rate.value, low if high is not None else None, high if low is not None else None)


def cost_of_pass(cost_per_attempt: Amount, accuracy: Amount) -> Amount | None:
    """Expected dollars per correct answer: cost / accuracy; None when nothing is ever correct.

    The interval combines the two intervals' ends (cheapest cost over best accuracy, dearest cost
    over worst accuracy): conservative, since both ends rarely happen together.
    """
    if accuracy.value <= 0:
        return None
    value = cost_per_attempt.value / accuracy.value
    if not (cost_per_attempt.has_interval and accuracy.has_interval) or accuracy.low <= 0:
        return Amount(value)
    return Amount(value, cost_per_attempt.low / accuracy.high, cost_per_attempt.high / accuracy.low)


@dataclass(frozen=True)
class FrontierCostOfPass:
    entry: str | None  # the cheapest entry, None when no entry has a cost of pass
    value: float | None
    without_family: dict[str, tuple[str | None, float | None]]  # family -> (cheapest entry, value) without it


def frontier_cost_of_pass(entries: Iterable[tuple[str, str | None, float | None]]) -> FrontierCostOfPass:
    """The minimum cost-of-pass over (entry, family, cost_of_pass) rows, and the minimum with each
    family left out (Cost-of-Pass's counterfactual frontiers: what that family contributed)."""
    rows = [(name, family, value) for name, family, value in entries if value is not None]

    def cheapest(candidates):
        best = min(candidates, key=lambda row: (row[2], row[0]), default=None)
        return (None, None) if best is None else (best[0], best[2])

    entry, value = cheapest(rows)
    families = sorted({family for _, family, _ in rows if family is not None})
    without = {family: cheapest([row for row in rows if row[1] != family]) for family in families}
    return FrontierCostOfPass(entry, value, without)
