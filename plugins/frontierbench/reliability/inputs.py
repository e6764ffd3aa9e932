"""What the reliability checks take: a board as arrays (`BoardSamples`), and the adapter that builds
it from a leaderboard group and its board definition (`samples_from_group`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from frontierbench.stats.nested import nested_median


@dataclass(frozen=True)
class ObjectiveSpec:
    metric: str
    maximize: bool
    margin: float = 0.0  # practical margin for the delta-front
    margin_kind: Literal["relative", "absolute"] = "relative"
    kind: Literal["cost", "quality"] | None = None  # informational; defaults from the direction

    def __post_init__(self):
        if self.kind is None:
            object.__setattr__(self, "kind", "quality" if self.maximize else "cost")
        if self.margin_kind not in ("relative", "absolute"):
            raise ValueError(f"objective {self.metric!r}: margin_kind must be relative or absolute")


@dataclass(kw_only=True)
class BoardSamples:
    """One board and hardware class, as arrays.

    Every objective's values come from exactly one source:
    - `cost_rounds[m]`: per entry, an array of per-round measurements (point: the median;
      family A resamples them). An entry with no rounds falls back to `point[m]`.
    - `quality_items[m]`: (n_entries, n_items) per-item scores, item j the same item for every
      entry, NaN where an entry lacks it (point: the mean; family B resamples the items).
      An entry with no items at all falls back to `point[m]`.
    - `subtasks` (for metric `subtask_metric`): sub-task name -> (n_entries, n_items) per-item
      scores; the metric is the average over sub-tasks of the per-sub-task means
      (`quality_aggregate="mean"`) or their mean win rate (`"mean_win_rate"`, relative: only
      for demonstrating the design rule).
    - `point[m]`: (n_entries,) fixed values for metrics without samples.
    """

    entries: list[str]
    objectives: list[ObjectiveSpec]
    primary: str
    cost_rounds: dict[str, list[np.ndarray]] = field(default_factory=dict)
    # Per cost metric and entry: rounds per process (or run), in the order of cost_rounds; None
    # or one process: run-to-run variation was not measured, family A resamples rounds only.
    cost_units: dict[str, list[list[int] | None]] = field(default_factory=dict)
    quality_items: dict[str, np.ndarray] = field(default_factory=dict)
    subtasks: dict[str, np.ndarray] | None = None
    subtask_metric: str | None = None
    point: dict[str, np.ndarray] = field(default_factory=dict)
    top_k: int = 3
    families: list[str | None] | None = None
    quality_aggregate: Literal["mean", "mean_win_rate"] = "mean"
    reference: dict[str, float] | None = None  # fixed hypervolume reference point

    def __post_init__(self):
        n = len(self.entries)
        if len(set(self.entries)) != n:
            raise ValueError("entry names must be unique")
        metrics = [o.metric for o in self.objectives]
        if self.primary not in metrics:
            raise ValueError(f"primary {self.primary!r} is not an objective {metrics}")
        if self.families is not None and len(self.families) != n:
            raise ValueError(f"{len(self.families)} families for {n} entries")
        if self.subtasks is not None and self.subtask_metric is None:
            self.subtask_metric = next((o.metric for o in self.objectives if o.kind == "quality"), None)
        if self.quality_aggregate not in ("mean", "mean_win_rate"):
            raise ValueError(f"unknown quality_aggregate {self.quality_aggregate!r}")
        if self.quality_aggregate == "mean_win_rate" and not self.subtasks:
            raise ValueError("a mean win rate needs sub-tasks to win on")
        for m in metrics:
            sources = [m in self.cost_rounds, m in self.quality_items,
                       bool(self.subtasks) and m == self.subtask_metric]
            if sum(sources) > 1:
                raise ValueError(f"metric {m!r} has more than one sample source")
            if not any(sources) and m not in self.point:
                raise ValueError(f"metric {m!r} has neither samples nor point values")
        for m, rounds in self.cost_rounds.items():
            if len(rounds) != n:
                raise ValueError(f"cost_rounds[{m!r}] has {len(rounds)} entries, expected {n}")
        for m, units in self.cost_units.items():
            if m not in self.cost_rounds or len(units) != n:
                raise ValueError(f"cost_units[{m!r}] must give one entry per cost_rounds[{m!r}] entry")
            for name, sizes, rounds in zip(self.entries, units, self.cost_rounds[m]):
                if sizes is not None and sum(sizes) != np.size(rounds):
                    raise ValueError(f"cost_units[{m!r}] for {name!r}: {list(sizes)} do not add up to "
                                     f"its {np.size(rounds)} rounds")
        for m, q in self.quality_items.items():
            if np.ndim(q) != 2 or np.shape(q)[0] != n:
                raise ValueError(f"quality_items[{m!r}] must be (n_entries={n}, n_items), got {np.shape(q)}")
        for s, q in (self.subtasks or {}).items():
            if np.ndim(q) != 2 or np.shape(q)[0] != n:
                raise ValueError(f"subtasks[{s!r}] must be (n_entries={n}, n_items), got {np.shape(q)}")
        for m, p in self.point.items():
            if np.shape(p) != (n,):
                raise ValueError(f"point[{m!r}] must have shape ({n},), got {np.shape(p)}")


def samples_from_group(group, board, *, quality_aggregate: str = "mean") -> tuple[BoardSamples, list[str]]:
    """BoardSamples from a frontierbench.formats.leaderboard.Group; also notes on what was left out.

    - samples with sample_kind "rounds" or "runs" feed family A (point: median), "items" feed
      family B (point: mean; items are aligned by index, shorter lists padded as missing);
      a metric without samples is held at its reported value.
    - Round samples whose median differs from the reported value (a unit conversion by
      aggregate, e.g. per call -> per item) are rescaled to it.
    - Sub-tasks: an estimate may carry `subtasks: {name: [per-item scores]}` (extra field) on a
      quality objective; with two or more, families C and E apply to that metric.
    - An entry lacking a value for any objective is left out, and named in the notes.
    """
    notes: list[str] = []
    objectives = [ObjectiveSpec(metric=o.metric, maximize=o.direction == "max", margin=o.margin,
                                margin_kind=o.margin_kind) for o in board.objectives]
    metrics = [o.metric for o in objectives]
    entries = []
    for entry in group.entries:
        missing = [m for m in metrics if m not in entry.metrics or entry.metrics[m].value is None
                   or not math.isfinite(entry.metrics[m].value)]
        if missing:
            notes.append(f"entry {entry.name!r} left out of the reliability checks: no value for {missing}")
        else:
            entries.append(entry)
    n = len(entries)
    cost_rounds: dict[str, list[np.ndarray]] = {}
    cost_units: dict[str, list[list[int] | None]] = {}
    quality_items: dict[str, np.ndarray] = {}
    point: dict[str, np.ndarray] = {}
    subtasks = None
    subtask_metric = None
    for o in objectives:
        m = o.metric
        ests = [e.metrics[m] for e in entries]
        point[m] = np.array([est.value for est in ests], dtype=np.float64)
        subs = [getattr(est, "subtasks", None) or (est.model_extra or {}).get("subtasks") for est in ests]
        if o.maximize and subtasks is None and n and all(isinstance(s, dict) and len(s) >= 2 for s in subs):
            names = sorted(set().union(*[set(s) for s in subs]))
            subtasks = {}
            for name in names:
                rows = [np.asarray(s.get(name, []), dtype=np.float64) for s in subs]
                subtasks[name] = pad_rows(rows)
            subtask_metric = m
            continue
        kinds = {est.sample_kind for est in ests if est.samples}
        if kinds and kinds <= {"rounds", "runs"}:
            rounds, units = [], []
            for e, est in zip(entries, ests):
                r = np.asarray(est.samples or [], dtype=np.float64)
                sizes = est.unit_sizes if est.unit_sizes and sum(est.unit_sizes) == len(r) else None
                units.append(sizes)
                if len(r):
                    med = nested_median(r, sizes)
                    if med != 0 and math.isfinite(med) and not math.isclose(med, est.value, rel_tol=1e-9):
                        r = r * (est.value / med)
                        notes.append(f"{e.name}: {m} rounds rescaled to the reported value (x{est.value / med:.6g})")
                rounds.append(r)
            cost_rounds[m] = rounds
            cost_units[m] = units
        elif kinds == {"items"}:
            quality_items[m] = pad_rows([np.asarray(est.samples or [], dtype=np.float64) for est in ests])
        elif kinds:
            notes.append(f"{m}: mixed sample kinds {sorted(kinds)}; held at the reported values")
    samples = BoardSamples(
        entries=[e.name for e in entries],
        objectives=objectives,
        primary=board.primary,
        cost_rounds=cost_rounds,
        cost_units=cost_units,
        quality_items=quality_items,
        subtasks=subtasks,
        subtask_metric=subtask_metric,
        point=point,
        top_k=board.top_k,
        families=[e.family for e in entries],
        quality_aggregate=quality_aggregate if subtasks else "mean",
        reference=dict(board.reference_point),
    )
    return samples, notes


def pad_rows(rows: list[np.ndarray]) -> np.ndarray:
    width = max([len(r) for r in rows] or [0])
    out = np.full((len(rows), width), np.nan)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out
