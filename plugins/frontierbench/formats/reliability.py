"""The reliability report stored in each leaderboard group (see docs/reliability.md).

Computed by reliability.py; read by `frontierbench check` and the site.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from frontierbench.formats.values import Count, Flag, Fraction, Number, OpenModel, PositiveCount

FrontLabel = Literal["robust", "likely", "borderline", "off"]


class EntryReliability(OpenModel):
    p_front: Fraction
    front_label: FrontLabel
    rank: PositiveCount  # on the primary objective, 1 = best, ties share the better rank
    rank_interval: tuple[PositiveCount, PositiveCount]
    p_top1: Fraction
    p_topk: Fraction
    intervals: dict[str, tuple[Number, Number]] = Field(default_factory=dict)
    sole_dominator: str | None = None
    # entries whose order with this one on the primary is not resolved: neither is strictly
    # better in >= 97.5% of the joint A+B draws
    tied_with: list[str] = Field(default_factory=list)
    on_front: Flag = False  # at the point estimate
    in_delta_front: Flag = False
    dominated_by: list[str] = Field(default_factory=list)  # at the point estimate
    values: dict[str, Number | None] = Field(default_factory=dict)  # point estimates used
    p_front_by_family: dict[str, Fraction] = Field(default_factory=dict)  # A alone, B alone
    processes: Count | None = None  # processes or runs behind its costs (1: run-to-run variation not measured)


class FamilyReport(OpenModel):
    """One perturbation family (A measurement, B items, C benchmarks, D entries, E sub-tasks)."""

    family: Literal["A", "B", "C", "D", "E"]
    description: str
    applicable: Flag
    reason: str | None = None  # why it does not apply, when it does not
    draws: Count = 0
    dior_front: Number | None = None  # 2.5th percentile of Jaccard(front, front_draw)
    dior_rank: Number | None = None  # 2.5th percentile of Kendall tau
    dior_leader: Number | None = None  # Wilson lower bound of P(same top-1)
    leader_agreement: Fraction | None = None  # the raw share of draws with the same top-1
    exact: Flag = False  # D and E enumerate every alternative: dior_leader is the exact share
    # Family A: entries whose costs come from one process, so their draws resample rounds only and
    # run-to-run variation is not in this family's DIoR for them; `note` says so in words.
    one_process_entries: list[str] = Field(default_factory=list)
    note: str | None = None


class BudgetPoint(OpenModel):
    fraction: Fraction
    rounds: Count | None = None
    items: Count | None = None
    dior_front: Number | None = None
    dior_rank: Number | None = None
    dior_leader: Number | None = None
    draws: Count = 0


class NeedsMore(OpenModel):
    entry: str
    p_front: Fraction
    suggested_rounds: Count | None = None
    suggested_items: Count | None = None


class ReliabilityReport(OpenModel):
    seed: Count
    draws: Count
    min_dior: Fraction = 0.95
    leader: str | None = None
    leader_stable_loo: Flag = True
    leader_flipped_by: list[str] = Field(default_factory=list)
    delta_front: list[str] = Field(default_factory=list)
    entries: dict[str, EntryReliability] = Field(default_factory=dict)
    families: list[FamilyReport] = Field(default_factory=list)
    budget: list[BudgetPoint] = Field(default_factory=list)
    smallest_reliable_fraction: Fraction | None = None
    needs_more: list[NeedsMore] = Field(default_factory=list)
    reliable: Flag = False  # every applicable DIoR >= min_dior
    primary: str | None = None
    leaders: list[str] = Field(default_factory=list)  # every rank-1 entry (several on an exact tie)
    front: list[str] = Field(default_factory=list)  # at the point estimate
    headline_families: str = "AB"  # which families the joint per-entry draws resampled
    hypervolume: Number | None = None  # against the board's fixed reference point
    hypervolume_interval: tuple[Number, Number] | None = None  # 95%, over up to 200 joint draws
    subtask_names: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
