"""`frontierbench board init NAME [RUNS...]`: write a commented leaderboards/NAME/board.toml.

The objectives are the ones `aggregate` would infer (formats.inference) from the metrics that
NAME's cases report in RUNS (default: .frontierbench/runs); the reference point is set a little
beyond the worst value measured, so it stays fixed as results improve. Edit the file, then re-run
`aggregate`: the board is no longer inferred.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from frontierbench.aggregate.ingest import load_inputs
from frontierbench.formats.atomic import write_text_atomic
from frontierbench.formats.board import BoardDefinition, check_slug, tomllib
from frontierbench.formats.inference import inferred_board_data, seen_metrics
from frontierbench.formats.run import RecordError

DEFAULT_RUNS = ".frontierbench/runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="board_command", metavar="ACTION", required=True)
    init = sub.add_parser("init", help="write leaderboards/NAME/board.toml from the metrics found in RUNS",
                          description=__doc__.splitlines()[0])
    init.add_argument("name", metavar="NAME", help="the board's name, as the cases' marker gives it")
    init.add_argument("runs", nargs="*", metavar="RUNS",
                      help=f"run records, pytest-benchmark JSON or folders of them (default: {DEFAULT_RUNS})")
    init.add_argument("--boards", default="leaderboards",
                      help="where NAME/board.toml is written (default: leaderboards/)")
    init.add_argument("--force", action="store_true", help="replace an existing board.toml")


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def _beyond(worst: float, maximize: bool) -> float:
    """A round reference value a little worse than `worst`: 0 for quality, 2 x worst for costs."""
    if maximize:
        return 0.0 if worst >= 0 else -float(f"{abs(worst) * 2:.1g}")
    if worst <= 0:
        return 1.0
    return float(f"{worst * 2:.1g}") if f"{worst * 2:.1g}" != "0" else worst * 2


def render_board_toml(name: str, cases: list, title: str | None = None) -> str:
    data = inferred_board_data(name, cases)
    if data is None:
        raise RecordError(f"board {name!r}: no passed case reports a metric to rank on")
    seen = seen_metrics(cases)
    values: dict[str, list[float]] = {}
    for case in cases:
        for metric, m in case.metrics.items():
            if case.outcome == "passed" and m.value is not None and math.isfinite(m.value):
                values.setdefault(metric, []).append(m.value)
    lines = [
        f"# The {name} board: what \"better\" means for its entries. Written by `frontierbench board init`",
        "# from the metrics the cases report; edit it, then re-run `frontierbench aggregate`.",
        f"name = {_toml_value(name)}",
        f"title = {_toml_value(title or name)}",
        'description = ""',
        "# Raise the version whenever objectives or cases change: results of different versions are",
        "# never ranked together.",
        'version = "1"',
        "# Rankings (and the leader) use the primary objective.",
        f"primary = {_toml_value(data['primary'])}",
        "top_k = 3",
        "",
        "# A fixed point worse than every entry on every objective: the hypervolume is measured from it.",
        "# Set a little beyond the worst value measured so far; keep it fixed so hypervolumes compare.",
        "[reference_point]",
    ]
    for objective in data["objectives"]:
        metric = objective["metric"]
        maximize = objective["direction"] == "max"
        worst = min(values[metric]) if maximize else max(values[metric])
        lines.append(f"{metric} = {_toml_value(float(_beyond(worst, maximize)))}")
    lines += [
        "",
        "# Regressions `frontierbench compare` fails on (exit 1), per metric: \"5%\" relative,",
        "# \"-0.5 points\" in percentage points, or a bare number in the metric's unit. A case may",
        "# override them with @pytest.mark.frontier(max_regression=\"3%\").",
        "[gates]",
    ]
    for objective in data["objectives"]:
        metric = objective["metric"]
        gate = "-0.5 points" if objective["direction"] == "max" and seen[metric].kind == "quality" else "5%"
        lines.append(f"# {metric} = {_toml_value(gate)}")
    for objective in data["objectives"]:
        metric = objective["metric"]
        lines += [
            "",
            "[[objectives]]",
            f"metric = {_toml_value(metric)}",
            f"direction = {_toml_value(objective['direction'])}   # \"min\" or \"max\"",
            f"label = {_toml_value(objective.get('label') or metric)}",
            f"unit = {_toml_value(objective.get('unit') or '')}",
            "# A practical margin: differences smaller than this do not count (delta-front).",
            "margin = 0.0",
            "margin_kind = \"relative\"   # or \"absolute\", in the metric's unit",
            f"log_scale = {_toml_value(bool(objective.get('log_scale', False)))}",
        ]
    return "\n".join(lines) + "\n"


def main(args: argparse.Namespace) -> int:
    try:
        check_slug(args.name)
    except ValueError as exc:
        raise RecordError(f"NAME: {exc}") from None
    inputs = args.runs or [DEFAULT_RUNS]
    if not args.runs and not Path(DEFAULT_RUNS).exists():
        raise RecordError(f"no RUNS given and {DEFAULT_RUNS} does not exist; name run records or folders")
    runs, _ = load_inputs(inputs)
    cases = [case for run in runs for case in run.record.cases if case.board == args.name]
    if not cases:
        found = sorted({case.board for run in runs for case in run.record.cases if case.board})
        raise RecordError(f"{', '.join(inputs)}: no case of board {args.name!r}; boards found: "
                          f"{', '.join(found) or 'none'}")
    target = Path(args.boards) / args.name / "board.toml"
    if target.exists() and not args.force:
        raise RecordError(f"{target}: already exists; pass --force to replace it")
    text = render_board_toml(args.name, cases)
    BoardDefinition.model_validate(tomllib.loads(text))  # what we write must load as it is
    write_text_atomic(target, text)
    print(target.as_posix())
    return 0
