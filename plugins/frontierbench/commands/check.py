"""`frontierbench check LEADERBOARDS... [--min-dior 0.95]`: how reliable is every decision?

For each board and hardware class it prints the DIoR of the front, the ranking and the leader
under each perturbation family, the leader's leave-one-out stability, the delta-front, each
entry's front probability, how much cheaper the benchmark could run, and the steps found in each
entry's history. The exit code is 1 when any applicable decision falls below --min-dior, or a step
made a metric worse by more than --fail-on-change (CI gates), 2 on bad input.

Reports stored in the leaderboard are used as they are; a group without one, or every group
with --recompute, is assessed here.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from frontierbench.formats.board import BoardDefinition
from frontierbench.commands.changes import parse_since, render_changes
from frontierbench.commands.compare import parse_fraction
from frontierbench.stats.nested import ONE_PROCESS_NOTE
from frontierbench.formats.leaderboard import Group, Leaderboard, load_leaderboard
from frontierbench.formats.metrics import format_value
from frontierbench.formats.leaderboard import find_leaderboards as leaderboard_files
from frontierbench.formats.run import RecordError, describe_validation_error
from frontierbench.reliability import assess_group, failing_decisions
from frontierbench.formats.reliability import ReliabilityReport
from frontierbench.formats.values import describe_problems


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("leaderboards", nargs="+", metavar="LEADERBOARDS",
                        help="leaderboard JSON files, or directories searched for them")
    parser.add_argument("--min-dior", type=float, default=0.95,
                        help="lowest acceptable DIoR for any decision (default 0.95); below it, exit 1")
    parser.add_argument("--draws", type=int, default=1000, help="bootstrap draws when assessing (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed when assessing (default 0)")
    parser.add_argument("--recompute", action="store_true",
                        help="assess every group again instead of using the stored reports")
    parser.add_argument("--brief", action="store_true",
                        help="one line per board and hardware class: verdict, lowest DIoR, leader, what fails")
    parser.add_argument("--fail-on-change", type=parse_fraction, default=None, metavar="PCT",
                        help="exit 1 when an entry's history has a step that made a metric worse by more than "
                             "PCT (e.g. 5%%); improvements are listed but never fail")
    parser.add_argument("--changes-since", type=parse_since, default=None, metavar="TIME",
                        help="only changes at runs started at or after TIME (ISO 8601, e.g. 2026-11-01)")


# ---------------------------------------------------------------------------------------------
# Input


def find_leaderboards(arguments: list[str]) -> list[tuple[Path, Leaderboard]]:
    """Named files must be leaderboards; directories are searched for files that are."""
    return [(path, load_leaderboard(path)) for path in leaderboard_files(arguments)]


def board_of(leaderboard: Leaderboard, group: Group, source: Path) -> BoardDefinition:
    """The board definition a leaderboard was built from, as far as assessing needs it."""
    try:
        return BoardDefinition(
            name=leaderboard.board, title=leaderboard.title, description=leaderboard.description,
            version=group.board_version, objectives=leaderboard.objectives, primary=leaderboard.primary,
            reference_point=leaderboard.reference_point, top_k=leaderboard.top_k, inferred=leaderboard.inferred,
        )
    except ValidationError as exc:
        raise RecordError(describe_validation_error(exc, str(source))) from exc


# ---------------------------------------------------------------------------------------------
# Output


def _dior(value: float | None, min_dior: float) -> Text:
    if value is None:
        return Text("–", style="dim")
    return Text(f"{value:.3f}", style="green" if value >= min_dior else "bold red")


def _num(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:.4g}"


def _processes(count: int | None) -> Text:
    """How many processes (or runs) the entry's costs come from; one is flagged: its intervals do
    not include run-to-run variation."""
    if count is None:
        return Text("–", style="dim")
    return Text("1", style="yellow") if count == 1 else Text(str(count))


def _fraction(f: float) -> str:
    return "1" if f >= 1 else f"1/{round(1 / f)}"


def primary_unit(leaderboard: Leaderboard, group: Group) -> str:
    objective = next((o for o in leaderboard.objectives if o.metric == leaderboard.primary), None)
    if objective is not None and objective.unit:
        return objective.unit
    return next((e.metrics[leaderboard.primary].unit for e in group.entries if leaderboard.primary in e.metrics), "")


def version_text(group: Group, leaderboard: Leaderboard) -> str:
    return "inferred board" if leaderboard.inferred else f"board v{group.board_version}"


def render_brief(console: Console, leaderboard: Leaderboard, group: Group, report: ReliabilityReport,
                 min_dior: float) -> list[tuple[str, str, float]]:
    """One line: what a user needs from the report when many boards are checked at once."""
    failures = failing_decisions(report, min_dior)
    diors = [d for f in report.families if f.applicable for d in (f.dior_front, f.dior_rank, f.dior_leader)
             if d is not None]
    leaders = getattr(report, "leaders", None) or ([report.leader] if report.leader else [])
    line = Text.assemble(
        (f"{leaderboard.board} · {group.hardware_class} · {version_text(group, leaderboard)}: ", "bold"),
        ("reliable", "green") if not failures else ("NOT reliable", "bold red"),
        f" · lowest DIoR {min(diors):.3f}" if diors else " · no applicable family",
        f" · leader {' = '.join(leaders) or '–'}")
    single = sum(getattr(e, "processes", None) == 1 for e in report.entries.values())
    if single:
        line.append(f" · {single} of {len(report.entries)} entries from one process (run-to-run variation "
                    f"not measured)", style="yellow")
    console.print(line)
    for family, decision, value in failures:
        console.print(Text(f"  ✗ family {family}: the {decision} decision has DIoR {value:.3f} < {min_dior:g}",
                           style="red"))
    return failures


def render(console: Console, leaderboard: Leaderboard, group: Group, report: ReliabilityReport,
           min_dior: float) -> list[tuple[str, str, float]]:
    failures = failing_decisions(report, min_dior)
    verdict = Text("reliable", style="bold green") if not failures else Text("NOT reliable", style="bold red")
    console.rule(f"[bold]{leaderboard.title}[/] ({leaderboard.board}) · {group.hardware_class} · "
                 f"{version_text(group, leaderboard)}")
    head = Text.assemble(verdict, f" at DIoR ≥ {min_dior:g} · {len(report.entries)} entries · "
                                  f"{report.draws} draws · seed {report.seed} · primary {leaderboard.primary}")
    console.print(head)

    families = Table(title="Decision impact on reliability (DIoR) per perturbation family", title_justify="left")
    for column in ("family", "what varies", "draws", "front", "ranking", "leader"):
        families.add_column(column, justify="right" if column in ("draws", "front", "ranking", "leader") else "left")
    for fam in report.families:
        if fam.applicable:
            families.add_row(fam.family, fam.description, str(fam.draws), _dior(fam.dior_front, min_dior),
                             _dior(fam.dior_rank, min_dior), _dior(fam.dior_leader, min_dior))
        else:
            families.add_row(fam.family, Text(f"{fam.description} — n/a: {fam.reason}", style="dim"), "", "", "", "")
    console.print(families)
    for fam in report.families:
        note = getattr(fam, "note", None)
        if fam.applicable and note:
            console.print(Text(f"family {fam.family}: {note}", style="yellow"))

    leaders = getattr(report, "leaders", None) or ([report.leader] if report.leader else [])
    leader_entry = report.entries.get(report.leader) if report.leader else None
    line = Text(f"Leader: {' = '.join(leaders) or '–'}")
    if len(leaders) > 1:
        line.append(" (tied at the point estimate)")
    if leader_entry is not None:
        line.append(f" (P(top-1) = {leader_entry.p_top1:.2f})")
    loo = next((f for f in report.families if f.family == "D"), None)
    if loo is None or not loo.applicable:
        line.append(" · leave-one-entry-out n/a", style="dim")
    elif report.leader_stable_loo:
        line.append(" · stable when any one entry is left out", style="green")
    else:
        line.append(f" · FLIPS when one of these is left out: {', '.join(report.leader_flipped_by)}", style="bold red")
    console.print(line)
    front = getattr(report, "front", None)
    if len(leaderboard.objectives) == 1:
        console.print(f"One objective ({leaderboard.primary}): a ranking, no front")
    elif front is not None:
        console.print(f"Front: {', '.join(front) or '–'}")
    console.print(f"Delta-front (no entry better by more than the board's margins on every objective): "
                  f"{', '.join(report.delta_front) or '–'}")
    hv = getattr(report, "hypervolume", None)
    if hv is not None:
        lo, hi = getattr(report, "hypervolume_interval", (None, None)) or (None, None)
        console.print(f"Hypervolume: {_num(hv)} [{_num(lo)}, {_num(hi)}]")

    entries = Table(title=f"Entries (P from joint {getattr(report, 'headline_families', 'A+B')} draws)",
                    title_justify="left")
    unit = primary_unit(leaderboard, group)
    for column in ("entry", "P(front)", "", "rank [95%]", "P(top-1)", "P(top-k)", leaderboard.primary,
                   "shadowed by", "tied with", "procs"):
        # Entry names stay whole (no wrap, no ellipsis): cut names become ambiguous.
        entries.add_column(column, justify="left" if column in ("entry", "", "shadowed by", "tied with") else "right",
                           no_wrap=column not in ("shadowed by", "tied with"),
                           min_width=max((len(n) for n in report.entries), default=5) if column == "entry" else None)
    styles = {"robust": "green", "likely": "cyan", "borderline": "yellow", "off": "dim"}
    for name, e in sorted(report.entries.items(), key=lambda item: (item[1].rank, item[0])):
        value = (getattr(e, "values", None) or {}).get(leaderboard.primary)
        lo, hi = e.intervals.get(leaderboard.primary, (None, None))
        ties = e.tied_with
        entries.add_row(
            name, f"{e.p_front:.2f}", Text(e.front_label, style=styles[e.front_label]),
            f"{e.rank} [{e.rank_interval[0]}–{e.rank_interval[1]}]", f"{e.p_top1:.2f}", f"{e.p_topk:.2f}",
            format_value(value, unit, lo, hi) if value is not None else "–", e.sole_dominator or "",
            ", ".join(ties[:4]) + (f" +{len(ties) - 4}" if len(ties) > 4 else ""),
            _processes(getattr(e, "processes", None)),
        )
    console.print(entries)
    single = [name for name, e in report.entries.items() if getattr(e, "processes", None) == 1]
    if single:
        console.print(Text(f"procs: the processes (or runs) behind each entry's costs; {len(single)} of "
                           f"{len(report.entries)} entries have 1: their intervals are {ONE_PROCESS_NOTE}",
                           style="yellow"))

    if report.budget:
        budget = Table(title="Efficient benchmarking: a subsample of the rounds and items vs the full run",
                       title_justify="left")
        for column in ("budget", "rounds", "items", "front", "ranking", "leader"):
            budget.add_column(column, justify="right")
        for point in report.budget:
            budget.add_row(_fraction(point.fraction), _num(point.rounds), _num(point.items),
                           _dior(point.dior_front, min_dior), _dior(point.dior_rank, min_dior),
                           _dior(point.dior_leader, min_dior))
        console.print(budget)
    if report.smallest_reliable_fraction is not None:
        f = report.smallest_reliable_fraction
        console.print(Text(f"The decisions hold at {_fraction(f)} of the measured rounds and items: "
                           f"the benchmark could run {1 / f:g}x cheaper.", style="green"))
    elif report.budget:
        console.print("No cheaper budget reproduces the decisions: keep the full rounds and items.")
    if report.needs_more:
        console.print("Entries whose place on the front is uncertain (0.05 < P(front) < 0.95):")
        for need in report.needs_more:
            wants = [f"{need.suggested_rounds} rounds" if need.suggested_rounds else "",
                     f"{need.suggested_items} items" if need.suggested_items else ""]
            console.print(f"  {need.entry}: P(front) = {need.p_front:.2f}; suggest "
                          f"{' and '.join(w for w in wants if w) or 'more data'}")
    for note in getattr(report, "notes", None) or []:
        console.print(Text(f"note: {note}", style="dim"))
    for family, decision, value in failures:
        console.print(Text(f"✗ family {family}: the {decision} decision has DIoR {value:.3f} < {min_dior:g}",
                           style="bold red"))
    console.print()
    return failures


def main(args: argparse.Namespace) -> int:
    return check_leaderboards(args.leaderboards, min_dior=args.min_dior, draws=args.draws, seed=args.seed,
                              recompute=args.recompute, fail_on_change=args.fail_on_change,
                              changes_since=args.changes_since, brief=args.brief)


def check_leaderboards(paths: list[str | Path], *, min_dior: float = 0.95, draws: int = 1000, seed: int = 0,
                       recompute: bool = False, fail_on_change: float | None = None,
                       changes_since: datetime | None = None, brief: bool = False) -> int:
    """Print every group's reliability (and changes); 1 when a decision is below `min_dior` or a change
    fails `fail_on_change`, else 0."""
    if not 0 <= min_dior <= 1:
        raise RecordError(f"--min-dior must be between 0 and 1, got {min_dior}")
    if draws < 1:
        raise RecordError(f"--draws must be positive, got {draws}")
    if seed < 0:
        raise RecordError(f"--seed must be 0 or more, got {seed}")
    # Off a terminal (CI logs, files), wide enough that numbers and names are never cut.
    console = Console(highlight=False, width=None if Console().is_terminal else 180)
    any_failure = False
    for source, leaderboard in find_leaderboards(paths):
        if not leaderboard.groups:
            console.print(f"{source}: no groups to check")
        for index, group in enumerate(leaderboard.groups):
            report = group.reliability
            if report is None or recompute:
                board = board_of(leaderboard, group, source)
                try:
                    report = assess_group(group, board, draws=draws, seed=seed, min_dior=min_dior)
                    # Checked as a stored report would be: extreme inputs can overflow (a hypervolume).
                    report = ReliabilityReport.model_validate(report.model_dump())
                except ValidationError as exc:
                    where, message = describe_problems(exc.errors())[0]
                    raise RecordError(f"{source}: field 'groups.{index}': assessing it gives a reliability "
                                      f"report whose '{where}' is refused ({message}): its values or "
                                      f"reference_point are too large or too small to compute with") from None
                except ValueError as exc:
                    raise RecordError(f"{source}: field 'groups.{index}': {exc}") from exc
            show = render_brief if brief else render
            any_failure |= bool(show(console, leaderboard, group, report, min_dior))
            any_failure |= bool(render_changes(console, group, fail_on_change, changes_since))
    return 1 if any_failure else 0
