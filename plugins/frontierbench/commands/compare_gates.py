"""Gates for `frontierbench compare`: per (entry, metric) limits from board.toml `[gates]`, overridden
per case by `@pytest.mark.frontier(max_regression=...)` (recorded in the run record's case).

A gate fails on a significant regression (compare's verdict) that is worse than its limit, so an
A/A comparison passes and noise alone never fails CI; and on an inconclusive row (the comparison
could not have seen a change of the gate's size) unless inconclusive rows are allowed.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from frontierbench.formats.board import BoardDefinition
from frontierbench.formats.gates import Gate, parse_gates
from frontierbench.formats.run import RecordError

# (board, entry) -> that case's own gates, from the NEW side's run record.
CaseGates = dict[tuple[str, str], dict[str, Gate]]


def case_gates(cases: Iterable[Any], source: str) -> CaseGates:
    """The marker gates recorded in a run record's cases (`gates`: {metric: text})."""
    found: CaseGates = {}
    for index, case in enumerate(cases):
        raw = (case.model_extra or {}).get("gates") if hasattr(case, "model_extra") else None
        if not raw:
            continue
        try:
            found[(case.board or "-", case.entry)] = parse_gates(raw, source=f"marker on {case.nodeid}")
        except ValueError as exc:
            raise RecordError(f"{source}: field 'cases.{index}.gates': {exc}") from None
    return found


def gate_resolver(boards: dict[str, BoardDefinition], marked: CaseGates) -> Callable[[str, str, str], Gate | None]:
    """gate(board, entry, metric): the case's own gate, else its board's, else None."""
    board_gates = {name: parse_gates(board.gates, source=f"board {name}") for name, board in boards.items()}

    def gate(board: str, entry: str, metric: str) -> Gate | None:
        own = marked.get((board, entry), {})
        if metric in own:
            return own[metric]
        return board_gates.get(board, {}).get(metric)

    return gate


def apply_gates(rows: list[Any], gate_for: Callable[[str, str, str], Gate | None], *,
                allow_inconclusive: bool = False) -> list[str]:
    """Set `gate` and `gate_failed` on each comparison row; return one line per failed gate."""
    failures = []
    for row in rows:
        gate = gate_for(row.board, row.entry, row.metric)
        row.gate = gate
        row.gate_failed = False
        if gate is not None and row.verdict == "inconclusive" and not allow_inconclusive:
            row.gate_failed = True
            failures.append(f"gate failed: {row.board}/{row.entry} {row.metric}: inconclusive, this comparison "
                            f"could miss a change of {row.mde:.1%} (MDE) and the gate {gate.describe()} needs "
                            f"less; measure more rounds or processes, or pass --allow-inconclusive")
            continue
        if gate is None or row.verdict != "regression" or row.base is None or row.new is None:
            continue
        over = gate.exceeded_by(row.base, row.new, row.higher_is_better, row.unit)
        if over is not None and over > 0:
            row.gate_failed = True
            change = "" if row.ratio is None else f" ({(row.ratio - 1.0) * 100:+.1f}%)"
            failures.append(f"gate failed: {row.board}/{row.entry} {row.metric}: {row.base:.4g} -> {row.new:.4g}"
                            f"{change}, a significant regression beyond the gate {gate.describe()}")
    return failures
