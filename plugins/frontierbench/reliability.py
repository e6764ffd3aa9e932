"""Decision impact on reliability (DIoR) for every leaderboard decision (see RELIABILITY.md).

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
  A  bootstrap of each entry's rounds (a round, not an iteration, is the independent unit);
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

The core (`BoardSamples`, `assess`) works on plain arrays; `assess_group` adapts a leaderboard
group and board definition to it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.stats import norm

from frontierbench.frontier import dominators, hypervolume, pareto_front_batch, to_minimization
from frontierbench.reliability_report import (
    BudgetPoint,
    EntryReliability,
    FamilyReport,
    NeedsMore,
    ReliabilityReport,
)

CHUNK = 64  # draws evaluated at once; bounds memory at CHUNK x n x n booleans
Z95 = 1.959963984540054
FAMILY_DESCRIPTIONS = {
    "A": "measurement: bootstrap of each entry's rounds",
    "B": "items: paired bootstrap of the quality items",
    "C": "benchmarks: bootstrap of the sub-tasks",
    "D": "entries: leave one entry out (exact)",
    "E": "sub-tasks: leave one sub-task out (exact)",
}
# Stable stream numbers, so that a family's draws do not depend on which others run.
_STREAM = {"A": 0, "B": 1, "C": 2, "AB": 3, "budget": 4}
TIE_LEVEL = 0.975  # an order between two entries is resolved when one wins in >= 97.5% of draws


# ---------------------------------------------------------------------------------------------
# Inputs


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
        for m, q in self.quality_items.items():
            if np.ndim(q) != 2 or np.shape(q)[0] != n:
                raise ValueError(f"quality_items[{m!r}] must be (n_entries={n}, n_items), got {np.shape(q)}")
        for s, q in (self.subtasks or {}).items():
            if np.ndim(q) != 2 or np.shape(q)[0] != n:
                raise ValueError(f"subtasks[{s!r}] must be (n_entries={n}, n_items), got {np.shape(q)}")
        for m, p in self.point.items():
            if np.shape(p) != (n,):
                raise ValueError(f"point[{m!r}] must have shape ({n},), got {np.shape(p)}")


# ---------------------------------------------------------------------------------------------
# Relative aggregate (the design rule's counter-example)


def mean_win_rate(scores: np.ndarray, higher_is_better: bool = True) -> np.ndarray:
    """HELM-style mean win rate: per column, the share of the other entries an entry beats
    (ties count half), averaged over columns. `scores` is (..., n_entries, n_columns).

    Relative to the other entries, so adding or removing one entry can reorder the rest: boards
    must not rank on it. It exists so that the leave-one-out check can be shown to expose it.
    """
    s = np.asarray(scores, dtype=np.float64)
    if not higher_is_better:
        s = -s
    n = s.shape[-2]
    if n < 2:
        return np.full(s.shape[:-1], 0.5)
    wins = (s[..., :, None, :] > s[..., None, :, :]).sum(axis=-2)
    ties = (s[..., :, None, :] == s[..., None, :, :]).sum(axis=-2) - 1  # minus itself
    return ((wins + 0.5 * ties) / (n - 1)).mean(axis=-1)


# ---------------------------------------------------------------------------------------------
# Small statistics helpers


def wilson_lower(successes: float, n: int, z: float = Z95) -> float:
    """Wilson score lower bound of a binomial proportion."""
    if n <= 0:
        return float("nan")
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z * z / n))


def front_label(p_front: float) -> str:
    if p_front >= 0.95:
        return "robust"
    if p_front >= 0.5:
        return "likely"
    if p_front >= 0.05:
        return "borderline"
    return "off"


def suggested_count(current: int, p: float, target: float = 0.95, cap: float = 16.0) -> int:
    """How many rounds/items would settle a decision now taken with probability p.

    Normal model: the decision statistic has mean mu and standard error sigma ~ 1/sqrt(n), and
    p = Phi(mu/sigma). To reach Phi^-1(target) with the same mu, n must grow by
    (Phi^-1(target) / |Phi^-1(p)|)^2. At least doubled; capped at `cap` x, since near p = 0.5
    the gap is indistinguishable from zero and may be a genuine tie that no budget settles.
    """
    z_p = abs(norm.ppf(min(max(p, 1e-6), 1 - 1e-6)))
    factor = cap if z_p == 0 else (norm.ppf(target) / z_p) ** 2
    return int(math.ceil(max(1, current) * min(cap, max(2.0, factor))))


# ---------------------------------------------------------------------------------------------
# Decisions on stacks of boards


@dataclass
class _Decisions:
    front: np.ndarray  # (c, n) bool
    rank: np.ndarray  # (c, n) int, 1 = best, ties share the better rank
    better: np.ndarray  # (c, n, n) bool, [.., i, j] = i strictly better than j on the primary


def _decide(v_min: np.ndarray, primary: int, candidates: np.ndarray | None = None) -> _Decisions:
    front = pareto_front_batch(v_min, candidates)
    prim = v_min[..., primary]
    better = prim[..., :, None] < prim[..., None, :]
    return _Decisions(front, _min_rank(prim), better)


def _min_rank(x: np.ndarray) -> np.ndarray:
    """Ranks along the last axis, 1 = lowest, ties share the better (smaller) rank."""
    n = x.shape[-1]
    order = np.argsort(x, axis=-1, kind="stable")
    xs = np.take_along_axis(x, order, axis=-1)
    start = np.ones(xs.shape, dtype=bool)
    start[..., 1:] = xs[..., 1:] != xs[..., :-1]
    pos = np.maximum.accumulate(np.where(start, np.arange(n), 0), axis=-1)
    rank = np.empty_like(pos)
    np.put_along_axis(rank, order, pos + 1, axis=-1)
    return rank


def _count(x: np.ndarray) -> np.ndarray:
    """Per-board count of True in (c, ...) (count_nonzero per board beats it with an axis)."""
    return np.array([np.count_nonzero(b) for b in x], dtype=np.int64)


def _similarity(d: _Decisions, o: _Decisions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per draw: Jaccard of the fronts, Kendall tau-b of the rankings, same top-1 set.

    tau-b from the "strictly better" matrices: concordant pairs are better in both, discordant
    pairs better in one and worse in the other, and each untied pair is one True in a matrix:
    tau_b = (concordant - discordant) / sqrt(untied_draw * untied_original).
    """
    c = len(d.front)
    inter = np.count_nonzero(d.front & o.front, axis=-1)
    union = np.count_nonzero(d.front | o.front, axis=-1)
    jaccard = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    ob = o.better
    obt = np.ascontiguousarray(np.swapaxes(ob, -1, -2))
    concordant = _count(d.better & ob)
    discordant = _count(d.better & obt)
    untied = _count(d.better)
    untied0 = _count(np.broadcast_to(ob, d.better.shape)) if len(ob) == c else \
        np.full(c, np.count_nonzero(ob))
    denom = np.sqrt(untied.astype(float) * untied0)
    both_flat = (untied == 0) & (untied0 == 0)
    tau = np.where(denom > 0, (concordant - discordant) / np.where(denom > 0, denom, 1.0),
                   np.where(both_flat, 1.0, 0.0))
    same_leader = np.all((d.rank == 1) == (o.rank == 1), axis=-1)
    return jaccard, tau, same_leader


# ---------------------------------------------------------------------------------------------
# The compiled board: draws value stacks (c, n, k) under each perturbation


def _bootstrap_counts(rng: np.random.Generator, c: int, m: int) -> np.ndarray:
    idx = rng.integers(0, m, size=(c, m), dtype=np.int32) + (np.arange(c, dtype=np.int32) * m)[:, None]
    return np.bincount(idx.ravel(), minlength=c * m).reshape(c, m).astype(np.float64)


def _subsample_mask(rng: np.random.Generator, c: int, m: int, keep: int) -> np.ndarray:
    if keep >= m:
        return np.ones((c, m))
    chosen = np.argpartition(rng.random((c, m)), keep - 1, axis=1)[:, :keep]
    w = np.zeros((c, m))
    np.put_along_axis(w, chosen, 1.0, axis=1)
    return w


class _ItemMatrix:
    """Per-item scores (n, m); point = mean of the valid items, else the fallback value."""

    def __init__(self, q: np.ndarray, fallback: np.ndarray | None):
        q = np.asarray(q, dtype=np.float64)
        self.valid = ~np.isnan(q)
        self.any_missing = not self.valid.all()
        self.q0 = np.where(self.valid, q, 0.0)
        self.validf = self.valid.astype(np.float64)
        self.m = q.shape[1]
        self.empty = ~self.valid.any(axis=1)
        self.fallback = np.full(len(q), np.nan) if fallback is None else np.asarray(fallback, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.point = self.q0.sum(1) / self.validf.sum(1)
        self.point[self.empty] = self.fallback[self.empty]

    def means(self, w: np.ndarray) -> np.ndarray:
        """(c, n) means under item weights w (c, m)."""
        total = w @ self.q0.T
        count = w @ self.validf.T if self.any_missing else w.sum(1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = total / count
        out[:, self.empty] = self.fallback[self.empty]
        return out


class _Rounds:
    """Per-entry rounds, grouped by length so each group resamples as one array."""

    def __init__(self, rounds: list[np.ndarray], fallback: np.ndarray | None):
        n = len(rounds)
        arrays = [np.asarray(r, dtype=np.float64).ravel() for r in rounds]
        arrays = [a[~np.isnan(a)] for a in arrays]
        self.lengths = np.array([len(a) for a in arrays])
        fb = np.full(n, np.nan) if fallback is None else np.asarray(fallback, dtype=np.float64)
        self.point = np.array([np.median(a) if len(a) else fb[i] for i, a in enumerate(arrays)])
        self.groups = []
        for r in sorted(set(self.lengths.tolist()) - {0}):
            idx = np.flatnonzero(self.lengths == r)
            self.groups.append((idx, np.stack([arrays[i] for i in idx])))

    @property
    def resampleable(self) -> bool:
        return bool((self.lengths >= 2).any())

    def draw(self, rng: np.random.Generator, c: int, mode) -> np.ndarray:
        out = np.broadcast_to(self.point, (c, len(self.point))).copy()
        for idx, x in self.groups:
            g, r = x.shape
            if mode == "boot":
                pick = rng.integers(0, r, size=(c, g, r))
            else:  # a fraction: a random subset, without replacement, of each entry's rounds
                keep = max(1, int(round(r * mode)))
                if keep >= r:
                    continue
                pick = np.argpartition(rng.random((c, g, r)), keep - 1, axis=2)[:, :, :keep]
            out[:, idx] = np.median(x[np.arange(g)[None, :, None], pick], axis=2)
        return out


class _Compiled:
    def __init__(self, s: BoardSamples):
        self.s = s
        self.n = len(s.entries)
        self.metrics = [o.metric for o in s.objectives]
        self.k = len(self.metrics)
        self.maximize = [o.maximize for o in s.objectives]
        self.primary = self.metrics.index(s.primary)
        self.sources: list[tuple[str, object]] = []
        for o in s.objectives:
            m = o.metric
            fb = s.point.get(m)
            if m in s.cost_rounds:
                self.sources.append(("rounds", _Rounds(s.cost_rounds[m], fb)))
            elif m in s.quality_items:
                self.sources.append(("items", _ItemMatrix(s.quality_items[m], fb)))
            elif s.subtasks and m == s.subtask_metric:
                self.sources.append(("subtasks", None))
            else:
                self.sources.append(("point", np.asarray(fb, dtype=np.float64)))
        self.sub_names = list(s.subtasks or {})
        self.sub = [_ItemMatrix(s.subtasks[name], None) for name in self.sub_names]
        self.sub_maximize = (self.maximize[self.metrics.index(s.subtask_metric)]
                             if s.subtask_metric in self.metrics else True)
        self.sub_point = np.stack([t.point for t in self.sub], axis=-1) if self.sub else None  # (n, S)

    # what can be perturbed
    @property
    def has_rounds(self) -> bool:
        return any(kind == "rounds" and src.resampleable for kind, src in self.sources)

    @property
    def has_items(self) -> bool:
        return any(kind == "items" and src.m >= 2 for kind, src in self.sources) or \
            any(t.m >= 2 for t in self.sub)

    @property
    def n_subtasks(self) -> int:
        return len(self.sub) if any(kind == "subtasks" for kind, _ in self.sources) else 0

    def max_rounds(self) -> int:
        return max([int(src.lengths.max()) for kind, src in self.sources if kind == "rounds"] or [0])

    def max_items(self) -> int:
        return max([src.m for kind, src in self.sources if kind == "items"] + [t.m for t in self.sub] or [0])

    def aggregate_subtasks(self, per_sub: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """(..., n, S) per-sub-task scores -> (..., n), weighting sub-tasks by `weights` (..., S)."""
        if self.s.quality_aggregate == "mean_win_rate":
            s = per_sub if self.sub_maximize else -per_sub
            n = s.shape[-2]
            if n < 2:
                per = np.full(s.shape, 0.5)
            else:
                wins = (s[..., :, None, :] > s[..., None, :, :]).sum(axis=-2)
                ties = (s[..., :, None, :] == s[..., None, :, :]).sum(axis=-2) - 1
                per = (wins + 0.5 * ties) / (n - 1)
        else:
            per = per_sub
        if weights is None:
            return per.mean(axis=-1)
        w = weights[..., None, :]
        return (per * w).sum(axis=-1) / w.sum(axis=-1)

    def point_values(self, keep: np.ndarray | None = None) -> np.ndarray:
        """(n_keep, k) point estimates, scores recomputed on the kept entries only."""
        keep = np.arange(self.n) if keep is None else keep
        cols = []
        for kind, src in self.sources:
            if kind == "subtasks":
                cols.append(self.aggregate_subtasks(self.sub_point[keep]))
            elif kind == "point":
                cols.append(src[keep])
            else:
                cols.append(src.point[keep])
        return np.stack(cols, axis=-1)

    def draw(self, rng: np.random.Generator, c: int, rounds=None, items=None,
             sub_weights: np.ndarray | None = None) -> np.ndarray:
        """(c, n, k) values. rounds/items: None (point), "boot", or a fraction to subsample.

        Item weights are shared by every metric with the same item count (paired items);
        each sub-task draws its own items, the same for every entry.
        """
        weights: dict = {}

        def item_weights(key, m):
            if key not in weights:
                if items == "boot":
                    weights[key] = _bootstrap_counts(rng, c, m)
                else:
                    weights[key] = _subsample_mask(rng, c, m, max(1, int(round(m * items))))
            return weights[key]

        out = np.empty((c, self.n, self.k))
        for d, (kind, src) in enumerate(self.sources):
            if kind == "point":
                out[:, :, d] = src
            elif kind == "rounds":
                out[:, :, d] = src.point if rounds is None else src.draw(rng, c, rounds)
            elif kind == "items":
                out[:, :, d] = src.point if items is None else src.means(item_weights(("m", src.m), src.m))
            else:
                if items is None:
                    per = np.broadcast_to(self.sub_point, (c,) + self.sub_point.shape)
                else:
                    per = np.stack([t.means(item_weights(("s", i), t.m)) for i, t in enumerate(self.sub)], axis=-1)
                out[:, :, d] = self.aggregate_subtasks(per, sub_weights)
        return out

    def to_min(self, values: np.ndarray) -> np.ndarray:
        return to_minimization(values, self.maximize)


# ---------------------------------------------------------------------------------------------
# Running a family


@dataclass
class _FamilyResult:
    jaccard: np.ndarray
    tau: np.ndarray
    same_leader: np.ndarray
    front: np.ndarray | None = None  # (draws, n) when collected
    rank: np.ndarray | None = None
    values: np.ndarray | None = None  # (draws, n, k) raw values
    better_counts: np.ndarray | None = None  # (n, n)


def _run_sampled(board: _Compiled, orig: _Decisions, draws: int, rng: np.random.Generator,
                 draw_fn: Callable[[np.random.Generator, int], np.ndarray], collect: bool = False) -> _FamilyResult:
    jac, tau, same = [], [], []
    fronts, ranks, values = [], [], []
    better_counts = np.zeros((board.n, board.n), dtype=np.int64) if collect else None
    candidates = np.flatnonzero(orig.front[0])
    for start in range(0, draws, CHUNK):
        c = min(CHUNK, draws - start)
        v = draw_fn(rng, c)
        d = _decide(board.to_min(v), board.primary, candidates)
        j, t, s = _similarity(d, orig)
        jac.append(j), tau.append(t), same.append(s)
        if collect:
            fronts.append(d.front)
            ranks.append(d.rank.astype(np.int32))
            values.append(v)
            better_counts += d.better.sum(axis=0)
    res = _FamilyResult(np.concatenate(jac), np.concatenate(tau), np.concatenate(same))
    if collect:
        res.front, res.rank, res.values = np.concatenate(fronts), np.concatenate(ranks), np.concatenate(values)
        res.better_counts = better_counts
    return res


def _family_report(family: str, res: _FamilyResult | None, *, exact: bool = False,
                   reason: str | None = None) -> FamilyReport:
    if res is None:
        return FamilyReport(family=family, description=FAMILY_DESCRIPTIONS[family], applicable=False, reason=reason)
    n = len(res.jaccard)
    agree = float(res.same_leader.mean())
    return FamilyReport(
        family=family,
        description=FAMILY_DESCRIPTIONS[family],
        applicable=True,
        draws=n,
        dior_front=_q(np.percentile(res.jaccard, 2.5)),
        dior_rank=_q(np.percentile(res.tau, 2.5)),
        dior_leader=_q(agree if exact else wilson_lower(float(res.same_leader.sum()), n)),
        leader_agreement=_q(agree),
        exact=exact,
    )


def _q(x: float) -> float:
    """Round reported numbers so that reruns are byte-identical across BLAS summation orders."""
    return float(round(float(x), 10))


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
            beaten &= np.nan_to_num(gap, nan=-np.inf, posinf=-np.inf, neginf=-np.inf) > np.nan_to_num(tol, nan=0.0)[None, :]
    np.fill_diagonal(beaten, False)
    return ~beaten.any(axis=0)


def assess(samples: BoardSamples, *, draws: int = 1000, seed: int = 0, min_dior: float = 0.95,
           families: str = "ABCDE", budget: bool = True, budget_draws: int = 200,
           hypervolume_draws: int = 200) -> ReliabilityReport:
    """Every DIoR check of RELIABILITY.md for one board, as a ReliabilityReport.

    Deterministic for a given seed: each family draws from its own stream of SeedSequence(seed).
    """
    board = _Compiled(samples)
    n, names = board.n, samples.entries
    streams = np.random.SeedSequence(seed).spawn(len(_STREAM))
    rng_for = {name: np.random.default_rng(streams[i]) for name, i in _STREAM.items()}
    report = ReliabilityReport(seed=seed, draws=draws, min_dior=min_dior, primary=samples.primary)
    if n == 0:
        report.reliable = True
        report.notes = ["no entries to assess"]
        return report

    v0 = board.point_values()
    orig = _decide(board.to_min(v0)[None], board.primary)
    rank0 = orig.rank[0]
    leaders = [names[i] for i in np.flatnonzero(rank0 == 1)]
    report.leader = leaders[0] if leaders else None
    report.leaders = leaders

    # ---- families -------------------------------------------------------------------------
    results: dict[str, _FamilyResult] = {}
    family_reports = []
    if "A" in families:
        if board.has_rounds:
            results["A"] = _run_sampled(board, orig, draws, rng_for["A"],
                                        lambda rng, c: board.draw(rng, c, rounds="boot"), collect=True)
            family_reports.append(_family_report("A", results["A"]))
        else:
            family_reports.append(_family_report("A", None, reason="no entry has two or more rounds of any cost metric"))
    if "B" in families:
        if board.has_items:
            results["B"] = _run_sampled(board, orig, draws, rng_for["B"],
                                        lambda rng, c: board.draw(rng, c, items="boot"), collect=True)
            family_reports.append(_family_report("B", results["B"]))
        else:
            family_reports.append(_family_report("B", None, reason="no quality metric has per-item scores"))
    s_count = board.n_subtasks
    if "C" in families:
        if s_count >= 2:
            def draw_c(rng, c):
                w = _bootstrap_counts(rng, c, s_count)
                return board.draw(rng, c, sub_weights=w)
            results["C"] = _run_sampled(board, orig, draws, rng_for["C"], draw_c)
            family_reports.append(_family_report("C", results["C"]))
        else:
            family_reports.append(_family_report("C", None, reason="the board does not average several sub-tasks"))
    if "D" in families:
        if n >= 3:
            loo = _leave_one_entry_out(board, v0)
            results["D"] = loo
            family_reports.append(_family_report("D", loo, exact=True))
        else:
            family_reports.append(_family_report("D", None, reason="fewer than three entries"))
    if "E" in families:
        if s_count >= 2:
            w = 1.0 - np.eye(s_count)
            v = board.draw(rng_for["C"], s_count, sub_weights=w)
            d = _decide(board.to_min(v), board.primary)
            results["E"] = _FamilyResult(*_similarity(d, orig))
            family_reports.append(_family_report("E", results["E"], exact=True))
            report.subtask_names = board.sub_names
        else:
            family_reports.append(_family_report("E", None, reason="the board does not average several sub-tasks"))
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
        joint = _run_sampled(board, orig, draws, None, lambda _, c, it=iter(range(0, draws, CHUNK)):
                             values[(start := next(it)):start + c], collect=True)
    elif rounds_mode or items_mode:
        joint = results["A" if rounds_mode else "B"]
    else:  # nothing to resample: every draw is the board as measured
        joint = _run_sampled(board, orig, draws, None, lambda _, c: np.broadcast_to(v0, (c,) + v0.shape), collect=True)
    report.headline_families = "".join(f for f, mode in (("A", rounds_mode), ("B", items_mode)) if mode) or "none"

    # ---- per entry --------------------------------------------------------------------------
    doms = dominators(v0, board.maximize)
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
        intervals = {m: (_q(value_lo[i, d]), _q(value_hi[i, d]))
                     for d, m in enumerate(board.metrics) if finite[i, d]}
        ties = [names[j] for j in range(n) if j != i
                and p_better[i, j] < TIE_LEVEL and p_better[j, i] < TIE_LEVEL]
        by_family = {f: _q(results[f].front[:, i].mean()) for f in ("A", "B") if f in results}
        report.entries[name] = EntryReliability(
            p_front=_q(p_front[i]),
            front_label=front_label(p_front[i]),
            rank=int(rank0[i]),
            rank_interval=(int(rank_lo[i]), int(rank_hi[i])),
            p_top1=_q(np.mean(ranks == 1)),
            p_topk=_q(np.mean(ranks <= k_top)),
            intervals=intervals,
            sole_dominator=names[doms[i][0]] if len(doms[i]) == 1 else None,
            tied_with=ties,
            on_front=bool(orig.front[0, i]),
            dominated_by=[names[j] for j in doms[i]],
            values={m: (None if not np.isfinite(v0[i, d]) else _q(v0[i, d])) for d, m in enumerate(board.metrics)},
            p_front_by_family=by_family,
            in_delta_front=bool(delta[i]),
        )
    report.delta_front = [names[i] for i in np.flatnonzero(delta)]
    report.front = [names[i] for i in np.flatnonzero(orig.front[0])]

    # ---- hypervolume against the board's fixed reference -------------------------------------
    if samples.reference is not None and all(m in samples.reference for m in board.metrics):
        ref = [samples.reference[m] for m in board.metrics]
        report.hypervolume = _q(hypervolume(v0, board.maximize, ref))
        hv = [hypervolume(joint.values[t], board.maximize, ref) for t in range(min(draws, hypervolume_draws))]
        report.hypervolume_interval = (_q(np.percentile(hv, 2.5)), _q(np.percentile(hv, 97.5)))

    # ---- efficient benchmarking ---------------------------------------------------------------
    if budget and (rounds_mode or items_mode):
        _budget(board, orig, report, rng_for["budget"], min(draws, budget_draws), min_dior,
                use_rounds=rounds_mode is not None, use_items=items_mode is not None)
    _needs_more(board, report, results, use_rounds=rounds_mode is not None, use_items=items_mode is not None)

    report.reliable = not failing_decisions(report, min_dior)
    return report


def _leave_one_entry_out(board: _Compiled, v0: np.ndarray) -> _FamilyResult:
    """Family D, exact: for each entry, the decisions on the others with scores recomputed
    without it, against the decisions that the original scores give for those same entries."""
    n = board.n
    keeps = [np.delete(np.arange(n), e) for e in range(n)]
    recomputed = np.stack([board.point_values(keep) for keep in keeps])  # (n, n-1, k)
    restricted = np.stack([v0[keep] for keep in keeps])
    d = _decide(board.to_min(recomputed), board.primary)
    o = _decide(board.to_min(restricted), board.primary)
    res = _FamilyResult(*_similarity(d, o))
    # The leader flips when, without entry e (not the leader itself), the top-1 is another entry.
    full = _decide(board.to_min(v0)[None], board.primary)
    leaders = set(np.flatnonzero(full.rank[0] == 1).tolist())
    flipped = []
    for e in range(n):
        if e in leaders:
            continue
        top = {int(keeps[e][j]) for j in np.flatnonzero(d.rank[e] == 1)}
        if top != leaders:
            flipped.append(board.s.entries[e])
    res.flipped_by = flipped
    return res


def _budget(board: _Compiled, orig: _Decisions, report: ReliabilityReport, rng: np.random.Generator,
            draws: int, min_dior: float, *, use_rounds: bool, use_items: bool) -> None:
    """Subsample rounds and items together at 1/2, 1/4, ... of what was measured (without
    replacement: a cheaper run of the same benchmark) and compare its decisions with the full
    data's. Stops at the first fraction that falls below min_dior, or when nothing shrinks."""
    r_max, m_max = board.max_rounds(), board.max_items()
    smallest = None
    previous = (r_max, m_max)
    fraction = 1.0
    while True:
        fraction /= 2
        rounds = max(1, int(round(r_max * fraction))) if use_rounds else None
        items = max(1, int(round(m_max * fraction))) if use_items else None
        if (rounds or r_max, items or m_max) == previous:
            break
        previous = (rounds or r_max, items or m_max)
        res = _run_sampled(board, orig, draws, rng, lambda g, c, f=fraction: board.draw(
            g, c, rounds=f if use_rounds else None, items=f if use_items else None))
        fam = _family_report("A", res)
        point = BudgetPoint(fraction=fraction, rounds=rounds, items=items, dior_front=fam.dior_front,
                            dior_rank=fam.dior_rank, dior_leader=fam.dior_leader, draws=draws)
        report.budget.append(point)
        ok = all(x is not None and x >= min_dior for x in (point.dior_front, point.dior_rank, point.dior_leader))
        if not ok:
            break
        smallest = fraction
    report.smallest_reliable_fraction = smallest


def _needs_more(board: _Compiled, report: ReliabilityReport, results: dict, *, use_rounds: bool,
                use_items: bool) -> None:
    """Entries whose front status is uncertain (0.05 < p_front < 0.95), with a suggested count
    (see `suggested_count`). Rounds are suggested when the measurement noise alone (family A)
    leaves the status uncertain, items when the item noise alone (B) does, both when only the
    two together do."""
    m_max = board.max_items()
    for i, name in enumerate(board.s.entries):
        e = report.entries[name]
        if not 0.05 < e.p_front < 0.95:
            continue
        p_a = e.p_front_by_family.get("A")
        p_b = e.p_front_by_family.get("B")
        a_unsure = p_a is not None and 0.05 < p_a < 0.95
        b_unsure = p_b is not None and 0.05 < p_b < 0.95
        if not (a_unsure or b_unsure):
            a_unsure, b_unsure = use_rounds, use_items
            p_a = p_b = e.p_front
        r_i = max([int(src.lengths[i]) for kind, src in board.sources if kind == "rounds"] or [0])
        report.needs_more.append(NeedsMore(
            entry=name,
            p_front=e.p_front,
            suggested_rounds=suggested_count(r_i, p_a) if a_unsure and r_i else None,
            suggested_items=suggested_count(m_max, p_b) if b_unsure and m_max else None,
        ))


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


# ---------------------------------------------------------------------------------------------
# Adapter: a leaderboard group + its board definition


def samples_from_group(group, board, *, quality_aggregate: str = "mean") -> tuple[BoardSamples, list[str]]:
    """BoardSamples from a frontierbench.leaderboard.Group; also notes on what was left out.

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
                subtasks[name] = _pad(rows)
            subtask_metric = m
            continue
        kinds = {est.sample_kind for est in ests if est.samples}
        if kinds and kinds <= {"rounds", "runs"}:
            rounds = []
            for e, est in zip(entries, ests):
                r = np.asarray(est.samples or [], dtype=np.float64)
                if len(r):
                    med = float(np.median(r))
                    if med != 0 and math.isfinite(med) and not math.isclose(med, est.value, rel_tol=1e-9):
                        r = r * (est.value / med)
                        notes.append(f"{e.name}: {m} rounds rescaled to the reported value (x{est.value / med:.6g})")
                rounds.append(r)
            cost_rounds[m] = rounds
        elif kinds == {"items"}:
            quality_items[m] = _pad([np.asarray(est.samples or [], dtype=np.float64) for est in ests])
        elif kinds:
            notes.append(f"{m}: mixed sample kinds {sorted(kinds)}; held at the reported values")
    samples = BoardSamples(
        entries=[e.name for e in entries],
        objectives=objectives,
        primary=board.primary,
        cost_rounds=cost_rounds,
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


def _pad(rows: list[np.ndarray]) -> np.ndarray:
    width = max([len(r) for r in rows] or [0])
    out = np.full((len(rows), width), np.nan)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out


def assess_group(group, board, *, draws: int = 1000, seed: int = 0, min_dior: float = 0.95,
                 quality_aggregate: str = "mean", budget: bool = True) -> ReliabilityReport:
    """The reliability report for one leaderboard group (one hardware class and board version).

    group: frontierbench.leaderboard.Group; board: frontierbench.boards.BoardDefinition.
    """
    samples, notes = samples_from_group(group, board, quality_aggregate=quality_aggregate)
    report = assess(samples, draws=draws, seed=seed, min_dior=min_dior, budget=budget)
    report.notes = notes + list(getattr(report, "notes", None) or [])
    return report
