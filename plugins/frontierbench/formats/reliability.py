"""The reliability report stored in each leaderboard group (see docs/reliability.md).

Computed by reliability.py; read by `frontierbench check` and the site.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FrontLabel = Literal["robust", "likely", "borderline", "off"]


class EntryReliability(BaseModel):
    model_config = ConfigDict(extra="allow")

    p_front: float
    front_label: FrontLabel
    rank: int  # on the primary objective, 1 = best, ties share the better rank
    rank_interval: tuple[int, int]
    p_top1: float
    p_topk: float
    intervals: dict[str, tuple[float, float]] = Field(default_factory=dict)
    sole_dominator: str | None = None
    # entries whose order with this one on the primary is not resolved: neither is strictly
    # better in >= 97.5% of the joint A+B draws
    tied_with: list[str] = Field(default_factory=list)
    on_front: bool = False  # at the point estimate
    in_delta_front: bool = False
    dominated_by: list[str] = Field(default_factory=list)  # at the point estimate
    values: dict[str, float | None] = Field(default_factory=dict)  # point estimates used
    p_front_by_family: dict[str, float] = Field(default_factory=dict)  # A alone, B alone
    processes: int | None = None  # processes or runs behind its costs (1: run-to-run variation not measured)


class FamilyReport(BaseModel):
    """One perturbation family (A measurement, B items, C benchmarks, D entries, E sub-tasks)."""

    model_config = ConfigDict(extra="allow")

    family: Literal["A", "B", "C", "D", "E"]
    description: str
    applicable: bool
    reason: str | None = None  # why it does not apply, when it does not
    draws: int = 0
    dior_front: float | None = None  # 2.5th percentile of Jaccard(front, front_draw)
    dior_rank: float | None = None  # 2.5th percentile of Kendall tau
    dior_leader: float | None = None  # Wilson lower bound of P(same top-1)
    leader_agreement: float | None = None  # the raw share of draws with the same top-1
    exact: bool = False  # D and E enumerate every alternative: dior_leader is the exact share
    # Family A: entries whose costs come from one process, so their draws resample rounds only and
    # run-to-run variation is not in this family's DIoR for them; `note` says so in words.
    one_process_entries: list[str] = Field(default_factory=list)
    note: str | None = None


class BudgetPoint(BaseModel):
    model_config = ConfigDict(extra="allow")

    fraction: float
    rounds: int | None = None
    items: int | None = None
    dior_front: float | None = None
    dior_rank: float | None = None
    dior_leader: float | None = None
    draws: int = 0


class NeedsMore(BaseModel):
    model_config = ConfigDict(extra="allow")

    entry: str
    p_front: float
    suggested_rounds: int | None = None
    suggested_items: int | None = None


class ReliabilityReport(BaseModel):
    model_config = ConfigDict(extra="allow")

    seed: int
    draws: int
    min_dior: float = 0.95
    leader: str | None = None
    leader_stable_loo: bool = True
    leader_flipped_by: list[str] = Field(default_factory=list)
    delta_front: list[str] = Field(default_factory=list)
    entries: dict[str, EntryReliability] = Field(default_factory=dict)
    families: list[FamilyReport] = Field(default_factory=list)
    budget: list[BudgetPoint] = Field(default_factory=list)
    smallest_reliable_fraction: float | None = None
    needs_more: list[NeedsMore] = Field(default_factory=list)
    reliable: bool = False  # every applicable DIoR >= min_dior
    primary: str | None = None
    leaders: list[str] = Field(default_factory=list)  # every rank-1 entry (several on an exact tie)
    front: list[str] = Field(default_factory=list)  # at the point estimate
    headline_families: str = "AB"  # which families the joint per-entry draws resampled
    hypervolume: float | None = None  # against the board's fixed reference point
    hypervolume_interval: tuple[float, float] | None = None  # 95%, over up to 200 joint draws
    subtask_names: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
