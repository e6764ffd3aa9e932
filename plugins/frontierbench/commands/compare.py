"""`frontierbench compare BASE NEW`: regression detection between two runs or two leaderboards.

Per (board, entry, metric) found in both: the ratio NEW/BASE of the medians (rounds, runs) or
means (per-item scores), a seeded bootstrap 95% interval on that ratio, and a two-sided
Mann-Whitney U test. A change counts only when it is significant (p < alpha) AND at least
--min-effect large; its sign is read with the metric's direction, so "regression" always means
worse. With --fail-on-regression 5%, a significant regression worse than 5% exits 1 (CI gating).
Metrics with no samples on either side get a ratio but no test ("untested"), and never gate.

Inputs may be run records, leaderboards, folders of leaderboards or pytest-benchmark JSON (detected
by their keys). Results from different hardware classes are refused (exit 2) unless --force.

Gates (commands.compare_gates): a board's `[gates]` in board.toml, overridden per case by
`@pytest.mark.frontier(max_regression=...)`, fail the command (exit 1) on a significant regression
beyond the gate's limit, naming the gate.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from scipy import stats

from frontierbench.aggregate.ingest import decode_json, display_path, from_pytest_benchmark, is_pytest_benchmark, read_bytes
from frontierbench.commands.compare_gates import apply_gates, case_gates, gate_resolver
from frontierbench.formats.board import find_boards
from frontierbench.formats.leaderboard import LEADERBOARD_SCHEMA_NAME, find_leaderboards, parse_leaderboard
from frontierbench.formats.markdown import code_span, escape_text, table
from frontierbench.stats.intervals import bootstrap_means, stable_seed
from frontierbench.formats.run import RecordError, parse_run

ALPHA = 0.05


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

    @property
    def statistic(self) -> str:
        return "mean" if self.kind == "items" else "median"


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
    verdict: str = "untested"  # regression | improvement | unchanged | untested | n/a
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


# --------------------------------------------------------------------------------------------
# Reading either side


def load_series(path: str | Path) -> list[Series]:
    path = Path(path)
    if path.is_dir():  # a leaderboards folder: every leaderboard in it
        return [s for found in find_leaderboards([path]) for s in load_series(found)]
    source = display_path(path)
    raw = read_bytes(path)
    data = decode_json(raw, source)
    if is_pytest_benchmark(data):
        record, _ = from_pytest_benchmark(data, source=source, sha256=hashlib.sha256(raw).hexdigest(),
                                          default_board="benchmarks")
        return _series_from_run(record)
    schema = data.get("schema") if isinstance(data, dict) else None
    if isinstance(schema, str) and schema.startswith(LEADERBOARD_SCHEMA_NAME + "/"):
        return _series_from_leaderboard(parse_leaderboard(data, source=source))
    return _series_from_run(parse_run(data, source=source))


def _series_from_run(record) -> list[Series]:
    from frontierbench.aggregate.pipeline import sample_kind

    pooled: dict[tuple[str, str, str, str], Series] = {}
    for case in record.cases:
        if case.outcome != "passed":
            continue
        hw = case.hardware_class or record.environment.hardware_class
        for name, metric in case.metrics.items():
            key = (case.board or "-", hw, case.entry, name)
            samples = np.asarray(metric.samples, dtype=np.float64) if metric.samples else None
            kind = sample_kind(name, metric.provenance) if samples is not None else "value"
            if key in pooled and pooled[key].samples is not None and samples is not None:
                pooled[key].samples = np.concatenate([pooled[key].samples, samples])
                continue
            pooled[key] = Series(key[0], hw, case.entry, name, metric.unit, metric.higher_is_better, kind,
                                 metric.value, samples)
    return list(pooled.values())


def _series_from_leaderboard(board) -> list[Series]:
    out = []
    for group in board.groups:
        for entry in group.entries:
            for name, est in entry.metrics.items():
                samples = np.asarray(est.samples, dtype=np.float64) if est.samples else None
                kind = est.sample_kind if samples is not None and est.sample_kind else "value"
                out.append(Series(board.board, group.hardware_class, entry.name, name, est.unit,
                                  est.higher_is_better, kind, est.value, samples))
    return out


# --------------------------------------------------------------------------------------------
# The statistics


def _statistic(samples: np.ndarray, kind: str) -> float:
    return float(samples.mean()) if kind == "items" else float(np.median(samples))


def bootstrap_statistic(samples: np.ndarray, kind: str, rng: np.random.Generator, draws: int) -> np.ndarray:
    if kind == "items":
        return bootstrap_means(samples, rng, draws)
    n = samples.size
    out = np.empty(draws)
    step = max(1, 2_000_000 // n)
    for first in range(0, draws, step):
        size = min(step, draws - first)
        out[first:first + size] = np.median(samples[rng.integers(0, n, size=(size, n))], axis=1)
    return out


def compare_series(base: Series, new: Series, *, min_effect: float = 0.02, alpha: float = ALPHA,
                   draws: int = 2000, seed: int = 0) -> Comparison:
    row = Comparison(new.board, new.entry, new.metric, new.unit, new.higher_is_better,
                     base.value, new.value, None)
    testable = (base.samples is not None and new.samples is not None and base.samples.size >= 2
                and new.samples.size >= 2 and base.kind == new.kind)
    if testable:
        row.statistic = base.statistic
        row.base = _statistic(base.samples, base.kind)
        row.new = _statistic(new.samples, new.kind)
    if row.base is None or row.new is None or row.base == 0:
        row.verdict = "n/a"
        return row
    row.ratio = row.new / row.base
    if not testable:
        row.verdict = "untested"
        return row
    rng = np.random.default_rng(stable_seed(seed, new.board, new.entry, new.metric))
    base_draws = bootstrap_statistic(base.samples, base.kind, rng, draws)
    new_draws = bootstrap_statistic(new.samples, new.kind, rng, draws)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = new_draws / base_draws
    ratios = ratios[np.isfinite(ratios)]
    if ratios.size:
        row.low, row.high = (float(x) for x in np.quantile(ratios, [0.025, 0.975]))
    if np.ptp(np.concatenate([base.samples, new.samples])) == 0:
        row.p_value = 1.0
    else:
        row.p_value = float(stats.mannwhitneyu(new.samples, base.samples, alternative="two-sided").pvalue)
    significant = row.p_value < alpha and abs(row.ratio - 1.0) >= min_effect
    if not significant:
        row.verdict = "unchanged"
    else:
        row.verdict = "regression" if row.worse_by > 0 else "improvement"
    return row


def load_case_gates(path: str | Path):
    """The marker gates (max_regression) recorded in a run record's cases; none for other inputs."""
    path = Path(path)
    if path.is_dir():
        return {}
    source = display_path(path)
    data = decode_json(read_bytes(path), source)
    schema = data.get("schema") if isinstance(data, dict) else None
    if is_pytest_benchmark(data) or (isinstance(schema, str) and schema.startswith(LEADERBOARD_SCHEMA_NAME + "/")):
        return {}
    return case_gates(parse_run(data, source=source).cases, source)


def compare(base: str | Path, new: str | Path, *, min_effect: float = 0.02, alpha: float = ALPHA,
            force: bool = False, draws: int = 2000, seed: int = 0,
            gates: Callable[[str, str, str], Any] | None = None) -> ComparisonResult:
    """Compare every (board, entry, metric) present in both BASE and NEW.

    `gates(board, entry, metric)` gives the Gate for a row, if any (compare_gates.gate_resolver).

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
        result.rows.append(compare_series(base_by_key[k], s, min_effect=min_effect, alpha=alpha,
                                          draws=draws, seed=seed))
    only_base = {(s.board, s.entry) for s in base_series} - {(s.board, s.entry) for s in new_series}
    only_new = {(s.board, s.entry) for s in new_series} - {(s.board, s.entry) for s in base_series}
    if only_base:
        result.notes.append(f"only in BASE: {', '.join(f'{b}/{e}' for b, e in sorted(only_base))}")
    if only_new:
        result.notes.append(f"only in NEW: {', '.join(f'{b}/{e}' for b, e in sorted(only_new))}")
    if not matched:
        result.notes.append("no (board, entry, metric) is present in both inputs")
    if gates is not None:
        result.gate_failures = apply_gates(result.rows, gates)
    return result


def parse_fraction(text: str) -> float:
    """"5%" -> 0.05, "0.05" -> 0.05; a bare number above 1 is read as percent ("5" -> 0.05)."""
    raw = str(text).strip()
    try:
        if raw.endswith("%"):
            return float(raw[:-1]) / 100.0
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a percentage such as 5% or a fraction such as 0.05, got {text!r}")
    return value / 100.0 if value > 1 else value


# --------------------------------------------------------------------------------------------
# Output


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _ratio_text(row: Comparison) -> str:
    if row.ratio is None:
        return "-"
    text = f"{row.ratio:.3f}"
    if row.low is not None:
        text += f" [{row.low:.3f}, {row.high:.3f}]"
    return text


def _change_text(row: Comparison) -> str:
    if row.ratio is None:
        return "-"
    return f"{(row.ratio - 1.0) * 100:+.1f}%"


VERDICT_STYLE = {"regression": "bold red", "improvement": "green", "unchanged": "dim", "untested": "yellow",
                 "n/a": "dim"}
COLUMNS = ["board", "entry", "metric", "base", "new", "change", "ratio [95% CI]", "p", "verdict"]


def _cells(row: Comparison) -> list[str]:
    unit = f" {row.unit}" if row.unit else ""
    verdict = row.verdict + (" (gate failed)" if row.gate_failed else "")
    return [row.board, row.entry, f"{row.metric} ({row.statistic})", _fmt(row.base) + unit,
            _fmt(row.new) + unit, _change_text(row), _ratio_text(row),
            "-" if row.p_value is None else f"{row.p_value:.3g}", verdict]


def summary_line(result: ComparisonResult, threshold: float | None) -> str:
    counts = {v: sum(r.verdict == v for r in result.rows) for v in VERDICT_STYLE}
    text = (f"{len(result.rows)} comparisons: {counts['regression']} regression(s), "
            f"{counts['improvement']} improvement(s), {counts['unchanged']} unchanged, "
            f"{counts['untested']} untested (no samples)")
    if threshold is not None:
        failing = result.regressions(threshold)
        text += f"; {len(failing)} regression(s) worse than {threshold:.1%}" + (" -> FAIL" if failing else " -> ok")
    gated = sum(r.gate is not None for r in result.rows)
    if gated:
        text += f"; {len(result.gate_failures)} of {gated} gate(s) failed" + (" -> FAIL" if result.gate_failures else "")
    return text


# Verdicts a reader should look at although they do not gate: flagged in the Markdown table.
FLAGGED_VERDICTS = frozenset({"untested", "inconclusive"})
MARKDOWN_ORDER = {"regression": 0, "inconclusive": 1, "untested": 2, "improvement": 3, "unchanged": 4, "n/a": 5}


def render_markdown(result: ComparisonResult, threshold: float | None) -> str:
    """GitHub Markdown (a PR comment): regressions first, then rows that could not be decided,
    flagged; every name escaped (formats.markdown), so no entry name can inject HTML or columns."""
    lines = [f"### frontierbench compare: {code_span(result.new)} vs {code_span(result.base)}", "",
             escape_text(summary_line(result, threshold)), ""]
    rows = []
    for row in sorted(result.rows, key=lambda r: (MARKDOWN_ORDER.get(r.verdict, 9), r.board, r.entry, r.metric)):
        cells = [escape_text(c) for c in _cells(row)]
        if row.verdict == "regression":
            cells[-1] = f"**{cells[-1]}**"
        elif row.verdict in FLAGGED_VERDICTS:
            cells[-1] = f"⚠️ {cells[-1]}"
        rows.append(cells)
    lines.extend(table(COLUMNS, rows))
    lines.extend(f"\n> {escape_text(note)}" for note in result.notes)
    lines.extend(f"\n> **{escape_text(line)}**" for line in result.gate_failures)
    return "\n".join(lines) + "\n"


def render_table(result: ComparisonResult, threshold: float | None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{result.new} vs {result.base}", title_justify="left")
    for column in COLUMNS:
        table.add_column(column, justify="right" if column in ("base", "new", "change", "p") else "left")
    for row in result.rows:
        table.add_row(*_cells(row), style=VERDICT_STYLE.get(row.verdict))
    console = Console()
    if not console.is_terminal:  # a CI log or a file: the table's full width, never cut to 80 columns
        console = Console(width=max(80, Console(width=100_000).measure(table).maximum))
    console.print(table)
    for note in result.notes:
        console.print(f"note: {note}", style="yellow", markup=False, soft_wrap=True)
    for line in result.gate_failures:
        console.print(line, style="bold red", markup=False, soft_wrap=True)
    console.print(summary_line(result, threshold), markup=False, soft_wrap=True)


# --------------------------------------------------------------------------------------------
# CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base", metavar="BASE", help="run record, leaderboard, leaderboards folder or pytest-benchmark JSON")
    parser.add_argument("new", metavar="NEW", help="run record, leaderboard, leaderboards folder or pytest-benchmark JSON")
    parser.add_argument("--format", choices=["table", "markdown"], default="table")
    parser.add_argument("--fail-on-regression", type=parse_fraction, default=None, metavar="PCT",
                        help="exit 1 when a significant regression is worse than PCT (e.g. 5%%)")
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
    gates = None
    if not args.no_gates:
        boards, _ = find_boards(args.boards)
        gates = gate_resolver(boards, load_case_gates(args.new))
    result = compare(args.base, args.new, min_effect=args.min_effect, alpha=args.alpha, force=args.force,
                     draws=args.draws, seed=args.seed, gates=gates)
    if args.format == "markdown":
        print(render_markdown(result, args.fail_on_regression), end="")
    else:
        render_table(result, args.fail_on_regression)
    if args.fail_on_regression is not None and result.regressions(args.fail_on_regression):
        return 1
    if result.gate_failures:
        print(f"frontierbench compare: {len(result.gate_failures)} gate(s) failed", file=sys.stderr)
        return 1
    return 0
