"""The metric registry: what each standard metric means, in one place.

A metric's meaning is its unit, its direction (lower or higher is better), its kind and how its
unit is shown:

- ``cost``: a resource spent per call of the measured function (time, memory, energy, carbon), or
  once per model (training); lower is better;
- ``rate``: work done per unit of a resource (throughput); higher is better, and not a cost;
- ``quality``: what the case scores (accuracy); higher is better unless the case says otherwise;
- ``derived``: computed by `aggregate` from an entry's pooled estimates (per item, per correct
  answer, per watt, full cycle).

Only the metrics that frontierbench itself measures or derives are named here. A suite's own
metrics (``kv_cache_bytes``, ``acceptance_rate`` ...) are declared by the case that records
them: their unit and direction travel in the run record, and their round samples say so with
``provenance.sample_kind``. Nothing in the package guesses a metric's meaning from its name.

Plain Python (no numpy, no pydantic): the pytest plugin's summary reads it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["cost", "rate", "quality", "derived"]
SampleKind = Literal["rounds", "items"]
EnergySource = Literal["meter", "training"]


# ---------------------------------------------------------------- units and their display rules

@dataclass(frozen=True)
class Unit:
    """A unit and its display rule: the prefixed units it may be shown in, largest first."""

    name: str
    steps: tuple[tuple[float, str], ...]
    time: bool = False  # a duration: "faster"/"slower" rather than "less"/"more"


UNITS: dict[str, Unit] = {unit.name: unit for unit in (
    Unit("s", ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")), time=True),
    Unit("ms", ((1.0, "ms"),), time=True),
    Unit("J", ((1e6, "MJ"), (1e3, "kJ"), (1.0, "J"), (1e-3, "mJ"), (1e-6, "µJ"))),
    Unit("W", ((1e3, "kW"), (1.0, "W"), (1e-3, "mW"))),
    Unit("gCO2e", ((1e6, "tCO2e"), (1e3, "kgCO2e"), (1.0, "gCO2e"), (1e-3, "mgCO2e"), (1e-6, "µgCO2e"))),
    Unit("B", ((2.0**40, "TiB"), (2.0**30, "GiB"), (2.0**20, "MiB"), (2.0**10, "KiB"), (1.0, "B"))),
    Unit("items/s", ((1e9, "G items/s"), (1e6, "M items/s"), (1e3, "k items/s"), (1.0, "items/s"))),
    Unit("tokens/s", ((1e6, "M tokens/s"), (1e3, "k tokens/s"), (1.0, "tokens/s"))),
    Unit("requests/s", ((1e3, "k requests/s"), (1.0, "requests/s"), (1e-3, "m requests/s"))),
    Unit("$", ((1.0, "$"), (1e-3, "m$"), (1e-6, "µ$"))),
)}


def is_time_unit(unit: str | None) -> bool:
    known = UNITS.get(unit or "")
    return known is not None and known.time


def display_scale(value: float, unit: str) -> tuple[float, str]:
    """(factor, display unit) for showing `value` of `unit`: 0.012 s -> (1e-3, "ms")."""
    known = UNITS.get(unit)
    if known is None:
        return 1.0, unit
    magnitude = abs(value)
    for factor, name in known.steps:
        if magnitude >= factor:
            return factor, name
    return known.steps[-1]


def format_number(x: float) -> str:
    """Four significant digits; three in exponent form for very large or small numbers."""
    if x == 0:
        return "0"
    if abs(x) >= 1e5 or abs(x) < 1e-3:
        return f"{x:.3g}"
    return f"{x:.4g}"


def format_value(value: float | None, unit: str = "", low: float | None = None,
                 high: float | None = None) -> str:
    """'412 ms [405, 431]': the value and its interval in one display unit (site.js does the same)."""
    if value is None:
        return "—"
    factor, name = display_scale(value, unit)
    text = f"{format_number(value / factor)} {name}".strip()
    if low is not None and high is not None:
        text += f" [{format_number(low / factor)}, {format_number(high / factor)}]"
    return text


# ---------------------------------------------------------------- the standard metrics

@dataclass(frozen=True)
class MetricSpec:
    name: str
    unit: str
    higher_is_better: bool
    kind: Kind
    description: str
    samples: SampleKind | None = None  # what one recorded sample is, when it has samples
    per_call: bool = True  # False for a cost paid once per model (training), not per call
    energy: EnergySource | None = None  # where an energy-based figure's method comes from
    per_item: bool = False  # aggregate derives <name>_per_item from the case's items
    per_correct: bool = False  # aggregate derives <cost>_per_correct (cost of pass) from it

    @property
    def is_cost(self) -> bool:
        return self.kind == "cost" or (self.kind == "derived" and not self.higher_is_better)


STANDARD: dict[str, MetricSpec] = {spec.name: spec for spec in (
    MetricSpec("wall_time", "s", False, "cost", "seconds per call (median of timed rounds)",
               samples="rounds", per_item=True),
    MetricSpec("peak_memory", "B", False, "cost", "peak resident memory during the timed rounds",
               samples="rounds"),
    MetricSpec("cuda_peak_memory", "B", False, "cost", "peak CUDA memory allocated during the timed rounds",
               samples="rounds"),
    MetricSpec("energy", "J", False, "cost", "joules per call, from a counter (rapl, nvml) or estimated",
               samples="rounds", energy="meter", per_item=True),
    MetricSpec("carbon", "gCO2e", False, "cost", "grams CO2-equivalent per call: energy x grid intensity",
               samples="rounds", energy="meter", per_item=True),
    MetricSpec("throughput", "items/s", True, "rate", "items per second (items / wall_time)",
               samples="rounds"),
    MetricSpec("training_time", "s", False, "cost", "seconds to train the model, once",
               samples="rounds", per_call=False),
    MetricSpec("training_energy", "J", False, "cost", "joules to train the model, once",
               samples="rounds", per_call=False, energy="training"),
    MetricSpec("accuracy", "", True, "quality", "share of items answered correctly (per-item 0/1)",
               samples="items"),
    # frontier.measure_generation (capture/generation.py): one sample per served request or timed pass
    MetricSpec("ttft", "s", False, "cost", "time to first token: the call to the first output token",
               samples="rounds"),
    MetricSpec("tpot", "s", False, "cost", "time per output token after the first",
               samples="rounds"),
    MetricSpec("request_latency", "s", False, "cost", "the call to the end of the answer",
               samples="rounds"),
    MetricSpec("output_tokens", "tokens", False, "cost",
               "output tokens per request (fewer for the same answer is cheaper)", samples="rounds"),
    MetricSpec("output_throughput", "tokens/s", True, "rate", "output tokens per second over a timed pass",
               samples="rounds"),
    MetricSpec("request_throughput", "requests/s", True, "rate", "completed requests per second over a timed pass",
               samples="rounds"),
    MetricSpec("energy_per_request", "J", False, "cost",
               "joules per request: window power x time inside generate", energy="meter"),
    MetricSpec("energy_per_output_token", "J", False, "cost",
               "joules per output token: window power x time inside generate", energy="meter"),
)}

# What aggregate derives (aggregate/derived.py computes them; the formulas are stats/pareto.py's).
DERIVED: dict[str, MetricSpec] = {spec.name: spec for spec in (
    *(MetricSpec(f"{base.name}_per_item", base.unit, False, "derived", f"{base.name} / items",
                 energy=base.energy, per_correct=base.name in ("wall_time", "energy"))
      for base in STANDARD.values() if base.per_item),
    *(MetricSpec(f"{cost}_per_correct", STANDARD[cost].unit, False, "derived",
                 f"{cost}_per_item / quality: the cost of one correct answer",
                 energy=STANDARD[cost].energy) for cost in ("wall_time", "energy")),
)}
PER_WATT_SUFFIX = "_per_watt"  # <quality>_per_watt: quality / mean power, higher is better
FULL_CYCLE_PREFIX = "full_cycle_energy_"  # full_cycle_energy_<N>: training_energy + N x energy_per_item


def spec(name: str) -> MetricSpec | None:
    """The registered meaning of `name`, or None for a metric the suite declares itself."""
    return STANDARD.get(name) or DERIVED.get(name)


def is_standard(name: str) -> bool:
    return name in STANDARD


def is_cost_or_rate(name: str) -> bool:
    """A registered cost or rate: never the quality figure a cost of pass divides by."""
    known = STANDARD.get(name)
    return known is not None and known.kind in ("cost", "rate")


def sample_kind(name: str, provenance: Mapping[str, Any] | None = None) -> SampleKind:
    """What one sample of the metric is: "rounds" (timed rounds) or "items" (per-item scores).

    The case's declaration wins (provenance.sample_kind, or kind "quality" for items); otherwise the
    registry says; a metric it does not know with samples is per item.
    """
    extra = provenance or {}
    declared = extra.get("sample_kind")
    if declared in ("rounds", "items"):
        return declared
    if extra.get("kind") == "quality":
        return "items"
    known = STANDARD.get(name)
    return known.samples if known is not None and known.samples is not None else "items"


def from_energy_meter(name: str) -> bool:
    """Measured by the per-case energy meter, so its provenance method is the meter's (energy, carbon)."""
    known = STANDARD.get(name)
    return known is not None and known.energy == "meter"


def energy_based(name: str, provenance: Mapping[str, Any] | None = None) -> bool:
    """Energy or a figure computed from it: measured and estimated values must not be ranked together."""
    known = spec(name)
    return (known is not None and known.energy is not None) or "energy_method" in (provenance or {})


def is_timing(name: str, unit: str, provenance: Mapping[str, Any] | None = None) -> bool:
    """A per-call duration, whose round-to-round noise makes a timing noisy. A one-off cost (training,
    by the registry or by the case's provenance kind) is not."""
    if not is_time_unit(unit):
        return False
    known = spec(name)
    if known is not None and not known.per_call:
        return False
    return (provenance or {}).get("kind") != "training"
