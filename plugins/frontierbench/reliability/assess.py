"""Decision impact on reliability (DIoR) for every leaderboard decision (docs/reliability.md).

A board makes three decisions: which entries are on the Pareto front, how the entries rank on the
primary objective, and which entry leads. Each perturbation family draws alternative, equally
valid instantiations of the board, recomputes the decisions and compares them with the decisions
of the board as measured, through a similarity f in [0, 1]:

- front:  Jaccard similarity of the two front sets;
- rank:   Kendall tau-b between the two rankings (ties kept, ties share the better rank);
- leader: 1 when the set of rank-1 entries is unchanged, else 0.

DIoR is the 2.5th percentile of f over the draws; for the leader, a rate, it is the Wilson 95%
lower bound of P(same top-1). Families D and E enumerate every alternative exactly, so there is
no sampling error: their leader DIoR is the exact share of alternatives that keep the leader.

Families (each reported on its own):
  A  two-stage bootstrap: each entry's processes or runs first, then the rounds within each drawn
     one (the process is the unit of replication; rounds in one process are not independent
     re-measurements). An entry measured in one process resamples its rounds only, and the
     report's notes say that its run-to-run variation was not measured;
  B  paired bootstrap of quality items: the same resampled items for every entry;
  C  bootstrap of sub-tasks, when a quality score averages several;
  D  leave one entry out, exactly. f compares the decisions recomputed on the remaining entries
     with the decisions that the *original* scores imply for those same entries. With absolute
     scores nothing changes and D is 1 by construction (Pareto membership and ranks are pairwise);
     with a relative score (mean win rate) the scores themselves move, and D shows it. That an
     entry joins the front when its only dominator leaves is reported per entry instead, as its
     `sole_dominator`;
  E  leave one sub-task out, exactly.

Per-entry headline probabilities (p_front, ranks, p_top1, p_topk, metric intervals, ties) come
from joint A+B draws: each draw resamples the rounds *and* the items, so both sources of noise act
together, as they do when the benchmark is run again.

The core (`assess`) works on plain arrays (`inputs.BoardSamples`); `assess_group` adapts a
leaderboard group and board definition to it (`inputs.samples_from_group`). The machinery lives
beside this module: draws (the compiled board and its perturbed draws), decisions (fronts, ranks,
leaders and their similarities), families (running a family and its report), budget (the
efficient-benchmarking search and suggested counts).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from frontierbench.formats.reliability import EntryReliability, ReliabilityReport
from frontierbench.reliability.budget import budget_report, needs_more
from frontierbench.reliability.decisions import decide, front_label, similarity
from frontierbench.reliability.draws import CompiledBoard
from frontierbench.reliability.families import CHUNK, FamilyResult, family_report, leave_one_entry_out, run_sampled
from frontierbench.reliability.inputs import BoardSamples, ObjectiveSpec, samples_from_group
from frontierbench.stats.bootstrap import bootstrap_counts
from frontierbench.stats.pareto import dominators, hypervolume, to_minimization
from frontierbench.stats.rounding import round_reported

# Stable stream numbers, so that a family's draws do not depend on which others run.
_STREAM = {"A": 0, "B": 1, "C": 2, "AB": 3, "budget": 4}
TIE_LEVEL = 0.975  # an order between two entries is resolved when one wins in >= 97.5% of draws


# ---------------------------------------------------------------------------------------------
# The assessment


def _delta_front(values: np.ndarray, objectives: Sequence[ObjectiveSpec]) -> np.ndarray:
    """Entries that no other entry beats by more than the practical margin on EVERY objective.

    Entry j beats i on an objective by more than its margin when the gap in j's favour exceeds
    margin (absolute) or margin x |value of i| (relative). A missing value is never beaten
    by a margin and never beats one.
    """
    v = to_minimization(values, [o.maximize for o in objectives])
    n = len(v)
    beaten = np.ones((n, n), dtype=bool)  # [j, i] = j beats i by more than the margin everywhere
    for d, o in enumerate(objectives):
        col = v[:, d]
        tol = o.margin * np.abs(values[:, d]) if o.margin_kind == "relative" else np.full(n, o.margin)
        with np.errstate(invalid="ignore"):
            gap = col[None, :] - col[:, None]  # [j, i] = i - j: positive when j is better
            gap = np.nan_to_num(gap, nan=-np.inf, posinf=-np.inf, neginf=-np.inf)
            beaten &= gap > np.nan_to_num(tol, nan=0.0)[None, :]
    np.fill_diagonal(beaten, False)
    return ~beaten.any(axis=0)


def assess(samples: BoardSamples, *, draws: int = 1000, seed: int = 0, min_dior: float = 0.95,
           families: str = "ABCDE", budget: bool = True, budget_draws: int = 200,
           hypervolume_draws: int = 200) -> ReliabilityReport:
    """Every DIoR check of docs/reliability.md for one board, as a ReliabilityReport.

    Deterministic for a given seed: each family draws from its own stream of SeedSequence(seed).
    """
    board = CompiledBoard(samples)
    n, names = board.n, samples.entries
    streams = np.random.SeedSequence(seed).spawn(len(_STREAM))
    rng_for = {name: np.random.default_rng(streams[i]) for name, i in _STREAM.items()}
    report = ReliabilityReport(seed=seed, draws=draws, min_dior=min_dior, primary=samples.primary)
    if n == 0:
        report.reliable = True
        report.notes = ["no entries to assess"]
        return report

    v0 = board.point_values()
    orig = decide(board.to_min(v0)[None], board.primary)
    rank0 = orig.rank[0]
    leaders = [names[i] for i in np.flatnonzero(rank0 == 1)]
    report.leader = leaders[0] if leaders else None
    report.leaders = leaders

    # ---- families -------------------------------------------------------------------------
    results: dict[str, FamilyResult] = {}
    family_reports = []
    if "A" in families:
        if board.has_rounds:
            results["A"] = run_sampled(board, orig, draws, rng_for["A"],
                                        lambda rng, c: board.draw(rng, c, rounds="boot"), collect=True)
            family_reports.append(family_report("A", results["A"]))
            single = [names[i] for i in np.flatnonzero(board.processes() == 1)]
            if single:
                family_reports[-1].one_process_entries = single
                family_reports[-1].note = (f"{len(single)} of {n} entries measured in one process: "
                                           f"run-to-run variation not measured; their draws resample rounds only")
        else:
            family_reports.append(family_report("A", None, reason="no entry has two or more rounds of any cost metric"))
    if "B" in families:
        if board.has_items:
            results["B"] = run_sampled(board, orig, draws, rng_for["B"],
                                        lambda rng, c: board.draw(rng, c, items="boot"), collect=True)
            family_reports.append(family_report("B", results["B"]))
        else:
            family_reports.append(family_report("B", None, reason="no quality metric has per-item scores"))
    s_count = board.n_subtasks
    if "C" in families:
        if s_count >= 2:
            def draw_c(rng, c):
                w = bootstrap_counts(rng, c, s_count)
                return board.draw(rng, c, sub_weights=w)
            results["C"] = run_sampled(board, orig, draws, rng_for["C"], draw_c)
            family_reports.append(family_report("C", results["C"]))
        else:
            family_reports.append(family_report("C", None, reason="the board does not average several sub-tasks"))
    if "D" in families:
        if n >= 3:
            loo = leave_one_entry_out(board, v0)
            results["D"] = loo
            family_reports.append(family_report("D", loo, exact=True))
        else:
            family_reports.append(family_report("D", None, reason="fewer than three entries"))
    if "E" in families:
        if s_count >= 2:
            w = 1.0 - np.eye(s_count)
            v = board.draw(rng_for["C"], s_count, sub_weights=w)
            d = decide(board.to_min(v), board.primary)
            results["E"] = FamilyResult(*similarity(d, orig))
            family_reports.append(family_report("E", results["E"], exact=True))
            report.subtask_names = board.sub_names
        else:
            family_reports.append(family_report("E", None, reason="the board does not average several sub-tasks"))
    report.families = family_reports

    # ---- leader under leave-one-entry-out --------------------------------------------------
    if "D" in results:
        flipped = results["D"].flipped_by
        report.leader_flipped_by = flipped
        report.leader_stable_loo = not flipped

    # ---- headline: joint A+B draws --------------------------------------------------------
    # Rounds move only the round-based columns and items only the item-based ones, so draw t
    # of A and draw t of B (independent streams) together make one joint draw: no new sampling.
    rounds_mode = "boot" if "A" in results else None
    items_mode = "boot" if "B" in results else None
    if "A" in results and "B" in results:
        values = results["A"].values.copy()
        item_cols = [d for d, (kind, _) in enumerate(board.sources) if kind in ("items", "subtasks")]
        values[:, :, item_cols] = results["B"].values[:, :, item_cols]
        starts = iter(range(0, draws, CHUNK))  # run_sampled asks for the draws chunk by chunk, in order

        def joint_chunk(_, c: int) -> np.ndarray:
            start = next(starts)
            return values[start:start + c]

        joint = run_sampled(board, orig, draws, None, joint_chunk, collect=True)
    elif rounds_mode or items_mode:
        joint = results["A" if rounds_mode else "B"]
    else:  # nothing to resample: every draw is the board as measured
        joint = run_sampled(board, orig, draws, None, lambda _, c: np.broadcast_to(v0, (c,) + v0.shape), collect=True)
    report.headline_families = "".join(f for f, mode in (("A", rounds_mode), ("B", items_mode)) if mode) or "none"

    # ---- per entry --------------------------------------------------------------------------
    doms = dominators(v0, board.maximize)
    processes = board.processes() if board.has_rounds else None
    p_front = joint.front.mean(axis=0)
    p_better = joint.better_counts / draws
    k_top = max(1, samples.top_k)
    delta = _delta_front(v0, samples.objectives)
    value_lo, value_hi = np.percentile(joint.values, [2.5, 97.5], axis=0)  # (n, k) each
    rank_lo = np.percentile(joint.rank, 2.5, axis=0, method="lower")
    rank_hi = np.percentile(joint.rank, 97.5, axis=0, method="higher")
    finite = np.all(np.isfinite(joint.values), axis=0)
    for i, name in enumerate(names):
        ranks = joint.rank[:, i]
        intervals = {m: (round_reported(value_lo[i, d]), round_reported(value_hi[i, d]))
                     for d, m in enumerate(board.metrics) if finite[i, d]}
        ties = [names[j] for j in range(n) if j != i
                and p_better[i, j] < TIE_LEVEL and p_better[j, i] < TIE_LEVEL]
        by_family = {f: round_reported(results[f].front[:, i].mean()) for f in ("A", "B") if f in results}
        report.entries[name] = EntryReliability(
            p_front=round_reported(p_front[i]),
            front_label=front_label(p_front[i]),
            rank=int(rank0[i]),
            rank_interval=(int(rank_lo[i]), int(rank_hi[i])),
            p_top1=round_reported(np.mean(ranks == 1)),
            p_topk=round_reported(np.mean(ranks <= k_top)),
            intervals=intervals,
            sole_dominator=names[doms[i][0]] if len(doms[i]) == 1 else None,
            tied_with=ties,
            on_front=bool(orig.front[0, i]),
            dominated_by=[names[j] for j in doms[i]],
            values={m: (None if not np.isfinite(v0[i, d]) else round_reported(v0[i, d]))
                    for d, m in enumerate(board.metrics)},
            p_front_by_family=by_family,
            in_delta_front=bool(delta[i]),
            processes=int(processes[i]) if processes is not None else None,
        )
    report.delta_front = [names[i] for i in np.flatnonzero(delta)]
    report.front = [names[i] for i in np.flatnonzero(orig.front[0])]

    # ---- hypervolume against the board's fixed reference -------------------------------------
    if samples.reference is not None and all(m in samples.reference for m in board.metrics):
        ref = [samples.reference[m] for m in board.metrics]
        report.hypervolume = round_reported(hypervolume(v0, board.maximize, ref))
        hv = [hypervolume(joint.values[t], board.maximize, ref) for t in range(min(draws, hypervolume_draws))]
        report.hypervolume_interval = (round_reported(np.percentile(hv, 2.5)), round_reported(np.percentile(hv, 97.5)))

    # ---- efficient benchmarking ---------------------------------------------------------------
    if budget and (rounds_mode or items_mode):
        budget_report(board, orig, report, rng_for["budget"], min(draws, budget_draws), min_dior,
                use_rounds=rounds_mode is not None, use_items=items_mode is not None)
    needs_more(board, report, results, use_rounds=rounds_mode is not None, use_items=items_mode is not None)

    report.reliable = not failing_decisions(report, min_dior)
    return report


def failing_decisions(report: ReliabilityReport, min_dior: float) -> list[tuple[str, str, float]]:
    """(family, decision, DIoR) for every applicable decision below min_dior."""
    failing = []
    for fam in report.families:
        if not fam.applicable:
            continue
        for decision in ("front", "rank", "leader"):
            value = getattr(fam, f"dior_{decision}")
            if value is not None and value < min_dior:
                failing.append((fam.family, decision, value))
    return failing


def assess_group(group, board, *, draws: int = 1000, seed: int = 0, min_dior: float = 0.95,
                 quality_aggregate: str = "mean", budget: bool = True) -> ReliabilityReport:
    """The reliability report for one leaderboard group (one hardware class and board version).

    group: frontierbench.formats.leaderboard.Group; board: frontierbench.formats.board.BoardDefinition.
    """
    samples, notes = samples_from_group(group, board, quality_aggregate=quality_aggregate)
    report = assess(samples, draws=draws, seed=seed, min_dior=min_dior, budget=budget)
    report.notes = notes + list(getattr(report, "notes", None) or [])
    return report
