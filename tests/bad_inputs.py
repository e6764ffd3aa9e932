"""A table of bad inputs for the CLI commands that read files (aggregate, check, compare, report, site).

Each row is one command run on one damaged file: a valid run record, leaderboard or board.toml
with one thing wrong. Every row must end in exit code 2 and one line
`frontierbench <command>: error: <file>: ...` that names the damaged file; never a traceback.
Shared by tests/test_cli_bad_inputs.py and, run as a script, it prints the matrix per command:

    PYTHONPATH=plugins python tests/bad_inputs.py
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).parent))

from factories import board_definition, board_toml, random_cases, run_record  # noqa: E402

from frontierbench.formats.run import save_run  # noqa: E402

DEEP = 5_000


def deep_list(depth: int = DEEP) -> str:
    return "[" * depth + "]" * depth


def dump(data: Any) -> bytes:
    # allow_nan: the damaged files may hold NaN and Infinity, as Python's json writes them.
    return json.dumps(data, allow_nan=True).encode("utf-8")


def set_path(data: Any, path: str, value: Any) -> Any:
    """A copy of data with the dotted path set (a missing last key is created)."""
    data = copy.deepcopy(data)
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


def drop_path(data: Any, path: str) -> Any:
    data = copy.deepcopy(data)
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    del node[last]
    return data


def not_utf8(data: Any, path: str) -> bytes:
    """Valid JSON except for one Latin-1 byte inside the string at `path`."""
    return dump(set_path(data, path, "MARK")).replace(b"MARK", b"caf\xe9")


def with_raw(data: Any, path: str, raw: str) -> bytes:
    """The JSON text of data with the value at `path` replaced by raw JSON text."""
    return dump(set_path(data, path, "MARK")).replace(b'"MARK"', raw.encode("ascii"))


# (name, how to damage a valid JSON document) for run records and leaderboards. `M` is the path of
# one metric of one case/entry; each damage names the path it touches.
Damage = Callable[[Any], bytes]


def run_damages() -> dict[str, Damage]:
    case = "cases.0"
    wall = f"{case}.metrics.wall_time"
    return {
        "not UTF-8": lambda d: not_utf8(d, f"{case}.entry"),
        "nested 5000 deep in config": lambda d: with_raw(d, "config.deep", deep_list()),
        "nested 5000 deep at the top": lambda d: deep_list().encode(),
        "lone surrogate in an entry name": lambda d: with_raw(d, f"{case}.entry", '"a\\ud800b"'),
        "value 1e305": lambda d: dump(set_path(d, f"{wall}.samples", [1e305] * 10)),
        "value 1e308 (energy)": lambda d: dump(set_path(d, f"{case}.metrics.energy.value", 1e308)),
        "samples near the largest float": lambda d: dump(set_path(d, f"{wall}.samples", [1.7e308] * 10)),
        "NaN value": lambda d: dump(set_path(d, f"{case}.metrics.energy.value", float("nan"))),
        "Infinity in samples": lambda d: dump(set_path(d, f"{wall}.samples.0", float("inf"))),
        "negative time": lambda d: dump(set_path(d, f"{wall}.samples.0", -0.01)),
        "negative energy": lambda d: dump(set_path(d, f"{case}.metrics.energy.value", -2.0)),
        "negative duration": lambda d: dump(set_path(d, f"{case}.duration", -1.0)),
        "number as a string": lambda d: dump(set_path(d, f"{case}.metrics.energy.value", "0.5")),
        "number as a boolean": lambda d: dump(set_path(d, f"{case}.metrics.energy.value", True)),
        "sample as a string": lambda d: dump(set_path(d, f"{wall}.samples.0", "0.01")),
        "items as a string": lambda d: dump(set_path(d, f"{case}.items", "32")),
        "items as a boolean": lambda d: dump(set_path(d, f"{case}.items", True)),
        "items 0": lambda d: dump(set_path(d, f"{case}.items", 0)),
        "items negative": lambda d: dump(set_path(d, f"{case}.items", -5)),
        "direction as a string": lambda d: dump(set_path(d, f"{wall}.higher_is_better", "no")),
        "no cases": lambda d: dump(drop_path(d, "cases")),
        "samples []": lambda d: dump(set_path(d, f"{wall}.samples", [])),
        "started_at not a date": lambda d: dump(set_path(d, "started_at", "yesterday")),
        "finished_at not a date": lambda d: dump(set_path(d, "finished_at", "2024-13-45")),
        "cases not a list": lambda d: dump(set_path(d, "cases", {"a": 1})),
        "unknown outcome": lambda d: dump(set_path(d, f"{case}.outcome", "maybe")),
        "NaN in params": lambda d: dump(set_path(d, f"{case}.params", {"lr": float("nan")})),
        "truncated": lambda d: dump(d)[: len(dump(d)) // 2],
        "empty file": lambda d: b"",
        "null": lambda d: b"null",
        "future schema": lambda d: dump(set_path(d, "schema", "frontierbench.run/99")),
    }


def leaderboard_damages() -> dict[str, Damage]:
    entry = "groups.0.entries.0"
    wall = f"{entry}.metrics.wall_time"
    return {
        "not UTF-8": lambda d: not_utf8(d, "title"),
        "nested 5000 deep in an entry": lambda d: with_raw(d, f"{entry}.params", deep_list()),
        "nested 5000 deep at the top": lambda d: deep_list().encode(),
        "lone surrogate in an entry name": lambda d: with_raw(d, f"{entry}.name", '"a\\ud800b"'),
        "value 1e305": lambda d: dump(set_path(d, f"{wall}.value", 1e305)),
        "samples near the largest float": lambda d: dump(set_path(d, f"{wall}.samples", [1.7e308] * 10)),
        "NaN value": lambda d: dump(set_path(d, f"{wall}.value", float("nan"))),
        "NaN interval bound": lambda d: dump(set_path(d, f"{wall}.high", float("nan"))),
        "Infinity in samples": lambda d: dump(set_path(d, f"{wall}.samples.0", float("inf"))),
        "NaN hypervolume": lambda d: dump(set_path(d, "groups.0.hypervolume", float("nan"))),
        "NaN reference point": lambda d: dump(set_path(d, "reference_point.wall_time", float("nan"))),
        "negative time": lambda d: dump(set_path(d, f"{wall}.value", -0.01)),
        "negative time sample": lambda d: dump(set_path(d, f"{wall}.samples.0", -0.01)),
        "number as a string": lambda d: dump(set_path(d, f"{wall}.value", "0.01")),
        "number as a boolean": lambda d: dump(set_path(d, f"{wall}.value", True)),
        "sample as a string": lambda d: dump(set_path(d, f"{wall}.samples.0", "0.01")),
        "count as a string": lambda d: dump(set_path(d, f"{wall}.n", "10")),
        "margin as a string": lambda d: dump(set_path(d, "objectives.0.margin", "0.01")),
        "reference point as a string": lambda d: dump(set_path(d, "reference_point.wall_time", "1")),
        "top_k 0": lambda d: dump(set_path(d, "top_k", 0)),
        "samples []": lambda d: dump(set_path(d, f"{wall}.samples", [])),
        "started_at not a date": lambda d: dump(set_path(d, "inputs.0.started_at", "yesterday")),
        "no objectives": lambda d: dump(set_path(d, "objectives", [])),
        "primary not an objective": lambda d: dump(set_path(d, "primary", "nothing")),
        "groups not a list": lambda d: dump(set_path(d, "groups", {"a": 1})),
        "truncated": lambda d: dump(d)[: len(dump(d)) // 2],
        "empty file": lambda d: b"",
        "future schema": lambda d: dump(set_path(d, "schema", "frontierbench.leaderboard/99")),
    }


def extreme_run_values() -> dict[str, Damage]:
    """Valid records with numbers at the edges: aggregate and compare must either work or refuse
    clearly (a quotient or product of them may overflow), never crash."""
    case = "cases.0"
    wall = f"{case}.metrics.wall_time"
    return {
        "times of 1e299": lambda d: dump(set_path(d, f"{wall}.samples", [1e299] * 10)),
        "energy of 1e299": lambda d: dump(set_path(d, f"{case}.metrics.energy.value", 1e299)),
        "times of 0": lambda d: dump(set_path(d, f"{wall}.samples", [0.0] * 10)),
        "energy of 0": lambda d: dump(set_path(d, f"{case}.metrics.energy.value", 0.0)),
        "times of 5e-324": lambda d: dump(set_path(d, f"{wall}.samples", [5e-324] * 10)),
        "accuracy of -1e299": lambda d: dump(set_path(d, f"{case}.metrics.accuracy.samples", [-1e299] * 40)),
    }


def extreme_leaderboard_values() -> dict[str, Damage]:
    entry = "groups.0.entries.0"
    wall = f"{entry}.metrics.wall_time"
    return {
        "time of 1e299": lambda d: dump(set_path(set_path(d, f"{wall}.samples", [1e299] * 10), f"{wall}.value", 1e299)),
        "time of 0": lambda d: dump(set_path(set_path(d, f"{wall}.samples", [0.0] * 10), f"{wall}.value", 0.0)),
        "time of 5e-324": lambda d: dump(set_path(set_path(d, f"{wall}.samples", [5e-324] * 10), f"{wall}.value",
                                                  5e-324)),
        "reference point 1e300": lambda d: dump(set_path(set_path(d, "reference_point.wall_time", 1e300),
                                                         "reference_point.energy", 1e300)),
    }


def board_damages() -> dict[str, Callable[[str], bytes]]:
    """Damages to a board.toml's text."""
    def replace(old: str, new: str) -> Callable[[str], bytes]:
        def damage(text: str) -> bytes:
            assert old in text, old
            return text.replace(old, new, 1).encode("utf-8")
        return damage

    return {
        "not UTF-8": lambda t: t.replace('title = "toy board"', 'title = "caf\xe9"').encode("latin-1"),
        "nested 5000 deep": lambda t: (t.replace("top_k = 3", f"top_k = 3\ndeep = {deep_list()}")).encode(),
        "not TOML": lambda t: (t + "\n[[[\n").encode(),
        "margin as a string": replace("margin = 0.01", 'margin = "0.01"'),
        "margin negative": replace("margin = 0.01", "margin = -0.01"),
        "reference point nan": replace("wall_time = 1.0", "wall_time = nan"),
        "reference point inf": replace("wall_time = 1.0", "wall_time = inf"),
        "reference point as a string": replace("wall_time = 1.0", 'wall_time = "1"'),
        "top_k 0": replace("top_k = 3", "top_k = 0"),
        "top_k as a boolean": replace("top_k = 3", "top_k = true"),
        "usage intensity 0": replace("usage_intensities = [1000, 1000000]", "usage_intensities = [0]"),
        "unsafe name": replace('name = "toy"', 'name = "../toy"'),
    }


# ---------------------------------------------------------------------------------------------
# The workspace and the runs


@dataclass
class Workspace:
    root: Path
    boards: Path  # boards/toy/board.toml
    run: Path  # a valid run record
    leaderboard: Path  # the valid leaderboard aggregated from it
    run_data: dict[str, Any]
    leaderboard_data: dict[str, Any]
    board_text: str


def make_workspace(root: Path) -> Workspace:
    from frontierbench.cli import main

    root.mkdir(parents=True, exist_ok=True)
    board = board_definition("toy")
    text = board_toml(board)
    (root / "boards" / "toy").mkdir(parents=True, exist_ok=True)
    (root / "boards" / "toy" / "board.toml").write_text(text, encoding="utf-8")
    record = run_record(random_cases(["fp32", "int8", "pruned"], seed=0, rounds=10, items=40), run_id="good")
    for case in record.cases:
        case.duration = 1.0
    save_run(record, root / "runs" / "good.json")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(["aggregate", str(root / "runs"), "-o", str(root / "lb"), "--boards", str(root / "boards"),
                     "--draws", "50"])
    assert code == 0, "the valid workspace must aggregate"
    leaderboard = root / "lb" / "toy" / "leaderboard.json"
    return Workspace(root, root / "boards", root / "runs" / "good.json", leaderboard,
                     json.loads((root / "runs" / "good.json").read_text()), json.loads(leaderboard.read_text()),
                     text)


@dataclass
class Row:
    command: str
    damage: str
    argv: list[str]
    named: str  # the file (or option) the message must name
    may_succeed: bool = False  # valid input at the edges: it may work (exit 0 or 1) or be refused clearly


def rows(ws: Workspace) -> list[Row]:
    """Write every damaged file under ws.root/bad and return the command lines that read them."""
    bad = ws.root / "bad"
    bad.mkdir(exist_ok=True)
    out = ws.root / "out"
    table: list[Row] = []
    for i, (name, damage) in enumerate(run_damages().items()):
        path = bad / f"run{i:02d}.json"
        path.write_bytes(damage(ws.run_data))
        table.append(Row("aggregate", f"run: {name}", ["aggregate", str(path), "-o", str(out / f"agg{i}"),
                                                       "--boards", str(ws.boards), "--draws", "20"], path.name))
        table.append(Row("compare", f"run: {name}", ["compare", str(ws.run), str(path)], path.name))
    for i, (name, damage) in enumerate(leaderboard_damages().items()):
        path = bad / f"lb{i:02d}" / "leaderboard.json"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(damage(ws.leaderboard_data))
        named = f"lb{i:02d}/leaderboard.json"
        table.append(Row("check", f"leaderboard: {name}", ["check", str(path), "--draws", "20"], named))
        table.append(Row("compare", f"leaderboard: {name}", ["compare", str(ws.leaderboard), str(path)], named))
        table.append(Row("report", f"leaderboard: {name}", ["report", str(path), "--boards", str(ws.boards)], named))
        table.append(Row("site", f"leaderboard: {name}", ["site", str(path), "-o", str(out / f"site{i}")], named))
    for i, (name, damage) in enumerate(extreme_run_values().items()):
        path = bad / f"edge-run{i:02d}.json"
        path.write_bytes(damage(ws.run_data))
        table.append(Row("aggregate", f"edge run: {name}", ["aggregate", str(path), "-o", str(out / f"edge{i}"),
                                                            "--boards", str(ws.boards), "--draws", "20"], path.name,
                         may_succeed=True))
        table.append(Row("compare", f"edge run: {name}", ["compare", str(ws.run), str(path)], path.name,
                         may_succeed=True))
    for i, (name, damage) in enumerate(extreme_leaderboard_values().items()):
        path = bad / f"edge-lb{i:02d}" / "leaderboard.json"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(damage(ws.leaderboard_data))
        named = f"edge-lb{i:02d}/leaderboard.json"
        for argv in (["check", str(path), "--draws", "20", "--recompute"], ["compare", str(ws.leaderboard), str(path)],
                     ["report", str(path), "--boards", str(ws.boards)], ["site", str(path), "-o", str(out / f"es{i}")]):
            table.append(Row(argv[0], f"edge leaderboard: {name}", argv, named, may_succeed=True))
    boards = bad / "edge-boards"
    (boards / "toy").mkdir(parents=True, exist_ok=True)
    (boards / "toy" / "board.toml").write_text(
        ws.board_text.replace("wall_time = 1.0", "wall_time = 1e300").replace("energy = 100.0", "energy = 1e300"))
    table.append(Row("aggregate", "edge board.toml: reference point 1e300",
                     ["aggregate", str(ws.run), "-o", str(out / "edge-ref"), "--boards", str(boards), "--draws", "20"],
                     ws.run.name, may_succeed=True))
    for i, (name, damage) in enumerate(board_damages().items()):
        boards = bad / f"boards{i:02d}"
        path = boards / "toy" / "board.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(damage(ws.board_text))
        named = f"boards{i:02d}/toy/board.toml"
        table.append(Row("aggregate", f"board.toml: {name}", ["aggregate", str(ws.run), "-o", str(out / f"aggb{i}"),
                                                              "--boards", str(boards), "--draws", "20"], named))
        table.append(Row("report", f"board.toml: {name}", ["report", str(ws.leaderboard), "--boards", str(boards)],
                         named))
    a_file = bad / "a-file.txt"
    a_file.write_text("not a folder\n")
    table.append(Row("aggregate", "-o is an existing file", ["aggregate", str(ws.run), "-o", str(a_file),
                                                            "--boards", str(ws.boards), "--draws", "20"], a_file.name))
    table.append(Row("site", "-o is an existing file", ["site", str(ws.leaderboard), "-o", str(a_file)], a_file.name))
    table.append(Row("report", "-o is an existing folder", ["report", str(ws.leaderboard), "--boards", str(ws.boards),
                                                           "-o", str(bad)], bad.name))
    run, board, boards = str(ws.run), str(ws.leaderboard), str(ws.boards)
    for argv, named in (
            (["aggregate", run, "-o", str(out / "opt1"), "--boards", boards, "--seed", "-1"], "--seed"),
            (["aggregate", run, "-o", str(out / "opt2"), "--boards", boards, "--draws", "0"], "--draws"),
            (["aggregate", run, "-o", str(out / "opt3"), "--boards", boards, "--default-board", "../x"],
             "--default-board"),
            (["check", board, "--recompute", "--seed", "-1"], "--seed"),
            (["check", board, "--min-dior", "nan"], "--min-dior"),
            (["compare", run, run, "--seed", "-1"], "--seed"),
            (["compare", run, run, "--draws", "-5"], "--draws"),
            (["compare", run, run, "--alpha", "nan"], "--alpha"),
            (["compare", run, run, "--min-effect", "-1"], "--min-effect"),
            (["report", board, "--boards", str(ws.root / "nowhere")], "nowhere"),
            (["site", board, "-o", str(ws.root)], ws.root.name)):
        table.append(Row(argv[0], f"option: {' '.join(argv[-2:])}", argv, named))
    return table


@dataclass
class Outcome:
    code: int | None  # None: an exception escaped main (a traceback on the command line)
    stderr: str
    traceback: str = ""


def run_row(row: Row) -> Outcome:
    """Run one row in this process, as the console script would, catching what would be a traceback."""
    from frontierbench.cli import main

    stderr = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(stderr):
            code = main(row.argv)
    except SystemExit as exc:  # argparse
        return Outcome(exc.code if isinstance(exc.code, int) else 1, stderr.getvalue())
    except BaseException:  # noqa: BLE001 - what the user would see as a traceback
        return Outcome(None, stderr.getvalue(), traceback.format_exc(limit=-3))
    return Outcome(code, stderr.getvalue())


def is_clear_error(row: Row, outcome: Outcome) -> bool:
    lines = [line for line in outcome.stderr.splitlines() if f"frontierbench {row.command}: error:" in line]
    return outcome.code == 2 and bool(lines) and row.named in outcome.stderr and "Traceback" not in outcome.stderr


def matrix(root: Path) -> dict[str, dict[str, int]]:
    ws = make_workspace(root)
    counts: dict[str, dict[str, int]] = {}
    for row in rows(ws):
        outcome = run_row(row)
        kind = "traceback" if outcome.code is None else "clear error" if is_clear_error(row, outcome) else \
            "worked" if row.may_succeed and outcome.code in (0, 1) else \
            "accepted" if outcome.code in (0, 1) else "other"
        tally = counts.setdefault(row.command, {"runs": 0, "clear error": 0, "worked": 0, "traceback": 0,
                                                "accepted": 0, "other": 0})
        tally["runs"] += 1
        tally[kind] += 1
        if kind not in ("clear error", "worked"):
            detail = outcome.traceback.strip().splitlines()[-1] if outcome.traceback else \
                (outcome.stderr.strip().splitlines() or ["(no message)"])[-1]
            print(f"{kind:9} {row.command:9} {row.damage}: {detail[:150]}")
    return counts


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        counts = matrix(Path(tmp))
    columns = ("runs", "clear error", "worked", "traceback", "accepted", "other")
    print(f"{'command':10} " + " ".join(f"{c:>11}" for c in columns))
    total = {c: 0 for c in columns}
    for command, tally in sorted(counts.items()):
        print(f"{command:10} " + " ".join(f"{tally[c]:11}" for c in columns))
        for c in columns:
            total[c] += tally[c]
    print(f"{'total':10} " + " ".join(f"{total[c]:11}" for c in columns))
