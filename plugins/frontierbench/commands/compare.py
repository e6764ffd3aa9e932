"""`frontierbench compare BASE NEW`: regression detection between two runs or two leaderboards.

Per (board, entry, metric) found in both, the statistics of stats/change.py:
- costs: the ratio NEW/BASE of geometric means of the per-process (or per-run) medians when
  either side holds two or more processes, with Welch's t over them (the process is the unit of
  replication); with one process a side, of the rounds themselves, and the row says that
  run-to-run variation was not measured;
- per-item quality: the ratio of means, a seeded bootstrap interval, a Mann-Whitney U test.
Each row shows its 95% interval, the minimum detectable effect (MDE: the change it would see
with 80% power) and P(new is worse): for a time, P(new is slower).

Verdicts: regression / improvement (significant, p < alpha, and at least --min-effect, read with
the metric's direction), unchanged (no such change, and the MDE is within the metric's
threshold: the comparison could have seen it), inconclusive (it could have been missed).
`--fail-on-regression 5%` exits 1 on a regression worse than 5%, and on an inconclusive row
unless `--allow-inconclusive`: a gate that could not see is not a gate that passed.
Metrics with no samples on either side get a ratio but no test ("untested"), and never gate.

Inputs may be run records, leaderboards, folders of leaderboards or pytest-benchmark JSON (detected
by their keys). Results from different hardware classes are refused (exit 2) unless --force.

Gates (commands.compare_gates): a board's `[gates]` in board.toml, overridden per case by
`@pytest.mark.frontier(max_regression=...)`, fail the command (exit 1) on a significant regression
beyond the gate's limit, naming the gate; a gate's limit is also its metric's threshold for
"unchanged" (`verdicts` takes one threshold per metric).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
from scipy import stats

from frontierbench.aggregate.ingest import display_path, from_pytest_benchmark
from frontierbench.commands.compare_gates import apply_gates, case_gates, gate_resolver
from frontierbench.formats.board import find_boards
from frontierbench.formats.leaderboard import (
    LEADERBOARD_SCHEMA_NAME,
    find_leaderboards,
    parse_leaderboard,
    with_samples,
)
from frontierbench.formats.metrics import sample_kind
from frontierbench.formats.versioned import PYTEST_BENCHMARK, decode_json, file_kind, read_bytes
from frontierbench.stats.bootstrap import bootstrap_statistic, stable_seed
from frontierbench.stats.change import (
    Change,
    bootstrap_change,
    log_change,
    p_new_worse,
    paired_bootstrap_means,
    verdict,
)
from frontierbench.stats.nested import BETWEEN_PROCESSES, ONE_PROCESS_NOTE, WITHIN_ONE_PROCESS, unit_medians
from frontierbench.formats.run import RecordError, parse_run

ALPHA = 0.05
DEFAULT_THRESHOLD = 0.05  # "unchanged" needs the power to see a 5% change, unless a gate says otherwise


@dataclass
class Series:
    """One metric of one entry on one side: its samples (if any) and point value."""

    board: str
    hardware_class: str
    entry: str
    metric: str
    unit: str
    higher_is_better: bool
    kind: str  # "rounds" | "items" | "runs" | "value"
    value: float | None
    samples: np.ndarray | None = None
    unit_sizes: list[int] | None = None  # samples per process (the unit of replication), in order

    @property
    def statistic(self) -> str:
        return "mean" if self.kind == "items" else "median"

    def units(self) -> np.ndarray:
        """One value per process: the median of its samples."""
        sizes = self.unit_sizes if self.unit_sizes and sum(self.unit_sizes) == self.samples.size else None
        return unit_medians(self.samples, sizes)


@dataclass
class Comparison:
    board: str
    entry: str
    metric: str
    unit: str
    higher_is_better: bool
    base: float | None
    new: float | None
    ratio: float | None
    low: float | None = None
    high: float | None = None
    p_value: float | None = None
    statistic: str = "value"
    verdict: str = "untested"  # regression | improvement | unchanged | inconclusive | untested | n/a
    mde: float | None = None  # minimum detectable effect, relative (0.05 = 5%), at 80% power
    p_worse: float | None = None  # P(new is worse): for a cost, P(new is slower / larger)
    scope: str | None = None  # "between processes" | "within one process" | "items"
    processes: tuple[int, int] | None = None  # processes (or runs) on each side
    change: Change | None = None
    threshold: float | None = None  # the change "unchanged" had to be able to see
    gate: Any = None  # the formats.gates.Gate that applies, if any
    gate_failed: bool = False

    @property
    def worse_by(self) -> float:
        """How much worse NEW is (0.1 = 10% worse); negative when it is better."""
        if self.ratio is None:
            return 0.0
        return self.ratio - 1.0 if not self.higher_is_better else 1.0 - self.ratio


@dataclass
class ComparisonResult:
    base: str
    new: str
    hardware_classes: tuple[list[str], list[str]]
    rows: list[Comparison] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    gate_failures: list[str] = field(default_factory=list)  # one line per failed gate

    def regressions(self, threshold: float = 0.0) -> list[Comparison]:
        """Significant regressions worse than `threshold` (0.05 = 5%)."""
        return [r for r in self.rows if r.verdict == "regression" and r.worse_by > threshold]

    def inconclusive(self) -> list[Comparison]:
        """Rows that could have missed a change of their threshold."""
        return [r for r in self.rows if r.verdict == "inconclusive"]

    def fails(self, threshold: float | None, *, allow_inconclusive: bool = False) -> bool:
        """Does `--fail-on-regression threshold` fail? (gates count separately: gate_failures)"""
        if threshold is None:
            return False
        return bool(self.regressions(threshold) or (not allow_inconclusive and self.inconclusive()))


# --------------------------------------------------------------------------------------------
# Reading either side


def load_series(path: str | Path) -> list[Series]:
    path = Path(path)
    if path.is_dir():  # a leaderboards folder: every leaderboard in it
        return [s for found in find_leaderboards([path]) for s in load_series(found)]
    source = display_path(path)
    raw = read_bytes(path)
    data = decode_json(raw, source)
    kind = file_kind(data)
    if kind == PYTEST_BENCHMARK:
        record, _ = from_pytest_benchmark(data, source=source, sha256=hashlib.sha256(raw).hexdigest(),
                                          default_board="benchmarks")
        return _series_from_run(record)
    if kind == LEADERBOARD_SCHEMA_NAME:
        return _series_from_leaderboard(with_samples(parse_leaderboard(data, source=source), path))
    return _series_from_run(parse_run(data, source=source))


def _series_from_run(record) -> list[Series]:
    """One series per (board, hardware class, entry, metric); each case of it is one process
    (cases without a `process` index in one record are one process, concatenated)."""
    pooled: dict[tuple[str, str, str, str], Series] = {}
    parts: dict[tuple[str, str, str, str], dict[int, list[np.ndarray]]] = {}
    for case in record.cases:
        if case.outcome != "passed":
            continue
        hw = case.hardware_class or record.environment.hardware_class
        process = -1 if case.process is None else case.process
        for name, metric in case.metrics.items():
            key = (case.board or "-", hw, case.entry, name)
            samples = np.asarray(metric.samples, dtype=np.float64) if metric.samples else None
            kind = sample_kind(name, metric.provenance.model_extra) if samples is not None else "value"
            if key in pooled and pooled[key].samples is not None and samples is not None:
                parts[key].setdefault(process, []).append(samples)
                continue
            pooled[key] = Series(key[0], hw, case.entry, name, metric.unit, metric.higher_is_better, kind,
                                 metric.value, samples)
            parts[key] = {process: [samples]} if samples is not None else {}
    for key, series in pooled.items():
        units = [np.concatenate(chunks) for _, chunks in sorted(parts[key].items())]
        if len(units) > 1:
            series.samples = np.concatenate(units)
            series.unit_sizes = [len(u) for u in units]
    return list(pooled.values())


def _series_from_leaderboard(board) -> list[Series]:
    out = []
    for group in board.groups:
        for entry in group.entries:
            for name, est in entry.metrics.items():
                samples = np.asarray(est.samples, dtype=np.float64) if est.samples else None
                kind = est.sample_kind if samples is not None and est.sample_kind else "value"
                out.append(Series(board.board, group.hardware_class, entry.name, name, est.unit,
                                  est.higher_is_better, kind, est.value, samples,
                                  est.unit_sizes if samples is not None else None))
    return out


# --------------------------------------------------------------------------------------------
# The statistics


def measure_change(base: Series, new: Series, *, alpha: float = ALPHA, draws: int = 2000,
                   seed: int = 0) -> Change | None:
    """The change from BASE to NEW, or None when the two cannot be tested (stats/change.py)."""
    if base.samples is None or new.samples is None or base.kind != new.kind:
        return None
    if base.kind == "items":
        if base.samples.size < 2 or new.samples.size < 2:
            return None
        base_mean, new_mean = float(base.samples.mean()), float(new.samples.mean())
        if base_mean == 0:
            return None
        rng = np.random.default_rng(stable_seed(seed, new.board, new.entry, new.metric))
        if base.samples.size == new.samples.size:  # the same items scored again: paired
            base_draws, new_draws = paired_bootstrap_means(base.samples, new.samples, rng, draws)
            differences = new.samples - base.samples
            p_value = 1.0 if not differences.any() else float(stats.wilcoxon(differences).pvalue)
        else:
            base_draws = bootstrap_statistic(base.samples, rng, draws, "mean")
            new_draws = bootstrap_statistic(new.samples, rng, draws, "mean")
            p_value = (1.0 if np.ptp(np.concatenate([base.samples, new.samples])) == 0 else
                       float(stats.mannwhitneyu(new.samples, base.samples, alternative="two-sided").pvalue))
        return bootstrap_change(base_mean, new_mean, base_draws, new_draws, p_value, alpha=alpha)
    base_units, new_units = base.units(), new.units()
    if max(base_units.size, new_units.size) >= 2:  # between processes: their medians are the replicates
        base_values, new_values, scope = base_units, new_units, BETWEEN_PROCESSES
    else:  # one process a side: the rounds, and the row says run-to-run variation was not measured
        base_values, new_values, scope = base.samples, new.samples, WITHIN_ONE_PROCESS
    if max(base_values.size, new_values.size) < 2 or (base_values <= 0).any() or (new_values <= 0).any():
        return None
    return log_change(base_values, new_values, scope=scope, alpha=alpha,
                      processes=(base_units.size, new_units.size))


def compare_series(base: Series, new: Series, *, min_effect: float = 0.02, alpha: float = ALPHA,
                   draws: int = 2000, seed: int = 0, threshold: float = DEFAULT_THRESHOLD) -> Comparison:
    """One row: the change and its verdict against `threshold` (see `judge`)."""
    row = Comparison(new.board, new.entry, new.metric, new.unit, new.higher_is_better,
                     base.value, new.value, None)
    change = measure_change(base, new, alpha=alpha, draws=draws, seed=seed)
    if change is not None:
        row.change = change
        row.base, row.new = change.base, change.new
        row.scope, row.processes = change.scope, change.processes
        row.statistic = ("mean" if change.scope == "items" else
                         "geomean of process medians" if change.scope == BETWEEN_PROCESSES else "geomean of rounds")
    if row.base is None or row.new is None or row.base == 0:
        row.verdict = "n/a"
        return row
    row.ratio = row.new / row.base
    if change is None:
        row.verdict = "untested"
        return row
    row.low, row.high, row.p_value, row.mde = change.low, change.high, change.p_value, change.mde
    row.p_worse = p_new_worse(change, row.higher_is_better)
    judge(row, threshold, min_effect=min_effect, alpha=alpha)
    return row


def judge(row: Comparison, threshold: float, *, min_effect: float = 0.02, alpha: float = ALPHA) -> str:
    """Set (and return) a tested row's verdict for its metric's `threshold` (0.05 = 5%): the one
    place a verdict is decided, so per-metric gates only choose the threshold."""
    if row.change is not None:
        row.threshold = threshold
        row.verdict = verdict(row.change, higher_is_better=row.higher_is_better, threshold=threshold,
                              min_effect=min_effect, alpha=alpha)
    return row.verdict


def gate_threshold(gate: Any, row: Comparison) -> float | None:
    """A gate's limit as a relative change of this row's base value (None if it cannot be)."""
    if gate is None or row.base is None or row.base == 0:
        return None
    if gate.kind == "relative":
        return gate.limit
    scale = (1.0 if row.unit.strip() == "%" else 0.01) if gate.kind == "points" else 1.0
    return abs(gate.limit * scale / row.base)


def load_case_gates(path: str | Path):
    """The marker gates (max_regression) recorded in a run record's cases; none for other inputs."""
    path = Path(path)
    if path.is_dir():
        return {}
    source = display_path(path)
    data = decode_json(read_bytes(path), source)
    if file_kind(data) in (PYTEST_BENCHMARK, LEADERBOARD_SCHEMA_NAME):
        return {}
    return case_gates(parse_run(data, source=source).cases, source)


def compare(base: str | Path, new: str | Path, *, min_effect: float = 0.02, alpha: float = ALPHA,
            force: bool = False, draws: int = 2000, seed: int = 0,
            gates: Callable[[str, str, str], Any] | None = None, threshold: float = DEFAULT_THRESHOLD,
            thresholds: Mapping[str, float] | None = None, allow_inconclusive: bool = False) -> ComparisonResult:
    """Compare every (board, entry, metric) present in both BASE and NEW.

    `gates(board, entry, metric)` gives the Gate for a row, if any (compare_gates.gate_resolver).
    A row's verdict threshold is its gate's limit, else `thresholds[metric]`, else `threshold`.
    A gated row that is inconclusive fails its gate unless `allow_inconclusive`.

    Raises RecordError for bad input, and for different hardware classes unless `force`.
    """
    base_series, new_series = load_series(base), load_series(new)
    base_hw = sorted({s.hardware_class for s in base_series})
    new_hw = sorted({s.hardware_class for s in new_series})
    result = ComparisonResult(display_path(Path(base)), display_path(Path(new)), (base_hw, new_hw))
    if base_hw != new_hw:
        if not force:
            raise RecordError(f"BASE ({result.base}) ran on hardware class(es) {base_hw} but NEW ({result.new}) "
                              f"on {new_hw}: their numbers are not comparable; pass --force to compare anyway")
        result.notes.append(f"hardware classes differ ({base_hw} vs {new_hw}); compared anyway (--force)")

    def key(s: Series) -> tuple[str, ...]:
        return (s.board, s.entry, s.metric) if force else (s.board, s.hardware_class, s.entry, s.metric)

    base_by_key: dict[tuple[str, ...], Series] = {}
    for s in sorted(base_series, key=lambda s: (key(s), s.hardware_class)):
        base_by_key.setdefault(key(s), s)
    matched = 0
    seen = set()
    for s in sorted(new_series, key=lambda s: (key(s), s.hardware_class)):
        k = key(s)
        if k in seen or k not in base_by_key:
            continue
        seen.add(k)
        matched += 1
        row = compare_series(base_by_key[k], s, min_effect=min_effect, alpha=alpha, draws=draws, seed=seed,
                             threshold=(thresholds or {}).get(s.metric, threshold))
        gated = gate_threshold(gates(row.board, row.entry, row.metric), row) if gates is not None else None
        if gated is not None:
            judge(row, gated, min_effect=min_effect, alpha=alpha)
        result.rows.append(row)
    only_base = {(s.board, s.entry) for s in base_series} - {(s.board, s.entry) for s in new_series}
    only_new = {(s.board, s.entry) for s in new_series} - {(s.board, s.entry) for s in base_series}
    if only_base:
        result.notes.append(f"only in BASE: {', '.join(f'{b}/{e}' for b, e in sorted(only_base))}")
    if only_new:
        result.notes.append(f"only in NEW: {', '.join(f'{b}/{e}' for b, e in sorted(only_new))}")
    if not matched:
        result.notes.append("no (board, entry, metric) is present in both inputs")
    if gates is not None:
        result.gate_failures = apply_gates(result.rows, gates, allow_inconclusive=allow_inconclusive)
    within = [r for r in result.rows if r.scope == WITHIN_ONE_PROCESS]
    if within:
        result.notes.append(f"{len(within)} row(s) compare one process with one process ({ONE_PROCESS_NOTE}); "
                            f"pool repeated runs or use worker processes for intervals that include it")
    return result


def parse_fraction(text: str) -> float:
    """"5%" -> 0.05, "0.05" -> 0.05; a bare number above 1 is read as percent ("5" -> 0.05)."""
    raw = str(text).strip()
    try:
        value = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a percentage such as 5% or a fraction such as 0.05, got {text!r}") from None
    if not 0 <= value < float("inf"):  # also refuses NaN
        raise argparse.ArgumentTypeError(f"expected a percentage of 0 or more, got {text!r}")
    return value / 100.0 if value > 1 and not raw.endswith("%") else value


# --------------------------------------------------------------------------------------------
# CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    inputs = "run record, leaderboard, leaderboards folder or pytest-benchmark JSON"
    parser.add_argument("base", metavar="BASE", help=inputs)
    parser.add_argument("new", metavar="NEW", help=inputs)
    parser.add_argument("--format", choices=["table", "markdown"], default="table")
    parser.add_argument("--fail-on-regression", type=parse_fraction, default=None, metavar="PCT",
                        help="exit 1 when a significant regression is worse than PCT (e.g. 5%%), or when a row "
                             "is inconclusive (could have missed a change of PCT)")
    parser.add_argument("--allow-inconclusive", action="store_true",
                        help="with --fail-on-regression or gates: do not fail on inconclusive rows")
    parser.add_argument("--threshold", type=parse_fraction, default=None, metavar="PCT",
                        help="the change a row must be able to see to be called unchanged (default: "
                             "the --fail-on-regression value, else 5%%; a gate's limit for its metric)")
    parser.add_argument("--min-effect", type=parse_fraction, default=0.02, metavar="PCT",
                        help="smallest change that counts, however significant (default 2%%)")
    parser.add_argument("--alpha", type=float, default=ALPHA, help="significance level (default 0.05)")
    parser.add_argument("--draws", type=int, default=2000, help="bootstrap draws for the ratio interval")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="compare even across hardware classes")
    parser.add_argument("--boards", default=None,
                        help="board definitions whose [gates] apply (default: leaderboards/ under the current folder)")
    parser.add_argument("--no-gates", action="store_true", help="report only: apply no board or marker gate")


def main(args: argparse.Namespace) -> int:
    from frontierbench.commands.compare_output import render_markdown, render_table

    if not 0 < args.alpha < 1:
        raise RecordError(f"--alpha must be between 0 and 1, got {args.alpha}")
    if args.draws < 1:
        raise RecordError(f"--draws must be at least 1, got {args.draws}")
    if args.seed < 0:
        raise RecordError(f"--seed must be 0 or more, got {args.seed}")
    gates = None
    if not args.no_gates:
        boards, _ = find_boards(args.boards)
        gates = gate_resolver(boards, load_case_gates(args.new))
    threshold = args.threshold if args.threshold is not None else (
        args.fail_on_regression if args.fail_on_regression is not None else DEFAULT_THRESHOLD)
    result = compare(args.base, args.new, min_effect=args.min_effect, alpha=args.alpha, force=args.force,
                     draws=args.draws, seed=args.seed, gates=gates, threshold=threshold,
                     allow_inconclusive=args.allow_inconclusive)
    if args.format == "markdown":
        print(render_markdown(result, args.fail_on_regression, args.allow_inconclusive), end="")
    else:
        render_table(result, args.fail_on_regression, args.allow_inconclusive)
    if result.fails(args.fail_on_regression, allow_inconclusive=args.allow_inconclusive):
        return 1
    if result.gate_failures:
        print(f"frontierbench compare: {len(result.gate_failures)} gate(s) failed", file=sys.stderr)
        return 1
    return 0
