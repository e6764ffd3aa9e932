"""What a user reads: the terminal summary and `frontierbench schema`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from importlib import resources

import jsonschema
import pytest

from frontierbench.formats.run import parse_run
from frontierbench.capture.summary import render_summary

SUITE = """
import time

import pytest


def work(n):
    return sum(i * i for i in range(n))


@pytest.mark.frontier(board="demo")
@pytest.mark.parametrize("variant", ["small", "large"])
def test_model(frontier, variant):
    frontier.entry(f"squares-{variant}")
    frontier.measure(work, 1000 if variant == "small" else 20000, rounds=10)
    frontier.quality("accuracy", per_item=[1, 1, 1, 0] if variant == "small" else [1, 1, 1, 1])


@pytest.mark.frontier(board="demo", entry="broken-model")
def test_broken(frontier):
    frontier.measure(work, 10, rounds=3)
    assert False, "accuracy below the board's floor"
"""


def summary_rows(lines: list[str]) -> dict[str, list[str]]:
    """The summary table's rows by entry, as lists of cells; a cell folded over lines is rejoined."""
    rows: dict[str, list[str]] = {}
    last = None
    for line in lines:
        if not line.startswith("│"):
            continue
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if cells[0]:
            last = rows.setdefault(cells[0], cells)
            assert last is cells, f"two rows for {cells[0]!r}"
        elif last is not None:  # the continuation of a folded row
            last[:] = [" ".join(filter(None, pair)) for pair in zip(last, cells)]
    return rows


def test_the_terminal_summary_has_one_row_per_case(pytester, run_frontier):
    pytester.makepyfile(test_demo=SUITE)
    run = run_frontier()
    run.result.assert_outcomes(passed=2, failed=1)
    lines = run.result.outlines

    assert any(re.search(r"frontierbench · cpu-.* · complete", line) for line in lines)
    rows = summary_rows(lines)
    assert sorted(rows) == ["broken-model", "squares-large", "squares-small"]
    for entry, accuracy in (("squares-small", "accuracy=0.75"), ("squares-large", "accuracy=1")):
        cells = rows[entry]
        assert cells[:4] == [entry, "demo", "cpu", "passed"]
        # the median wall time with its 95% interval
        assert re.fullmatch(r"[\d.]+ (s|ms|µs|ns) \[[\d.]+, [\d.]+\]", cells[4])  # one unit for all three
        assert re.fullmatch(r"[\d.]+ (B|KiB|MiB|GiB)", cells[5])                        # peak memory
        assert re.fullmatch(r"[\d.e+-]+ (µJ|mJ|J|kJ) \((estimated|unavailable|rapl)\)", cells[6])  # with provenance
        assert cells[7] == accuracy                                                         # quality
    assert rows["broken-model"][3].startswith("failed: AssertionError: accuracy below")
    assert any(line.startswith("frontierbench: run record written to ") for line in lines)


def test_the_summary_renders_a_record_from_disk():
    record = parse_run({
        "schema": "frontierbench.run/1", "run_id": "r1", "started_at": "2026-01-01T00:00:00Z",
        "status": "interrupted", "environment": {"hardware_class": "cuda-nvidia-h100-80gb-hbm3"},
        "cases": [{
            "nodeid": "t.py::t", "entry": "int8", "board": "digits", "outcome": "passed", "device": "cuda:0",
            "metrics": {
                "wall_time": {"value": 0.0015, "unit": "s", "higher_is_better": False,
                              "samples": [0.0014, 0.0015, 0.0016], "provenance": {"method": "pytest-benchmark"}},
                "cuda_peak_memory": {"value": 3 * 2**30, "unit": "B", "higher_is_better": False,
                                     "provenance": {"method": "torch.cuda.max_memory_allocated"}},
                "energy": {"value": None, "unit": "J", "higher_is_better": False,
                           "provenance": {"method": "unavailable"}},
            },
        }],
    })
    text = render_summary(record.to_json_dict())  # the summary reads the record as written
    assert "cuda-nvidia-h100-80gb-hbm3 · interrupted" in text
    entry, board, device, outcome, wall_time, memory, energy, quality = summary_rows(text.splitlines())["int8"]
    assert (board, device, outcome) == ("digits", "cuda:0", "passed")
    assert wall_time == "1.5 ms [1.4, 1.6]"  # with 3 samples, the interval is the full range
    assert memory == "3 GiB"  # the CUDA peak, for a CUDA case
    assert energy == "unavailable"  # said, not hidden
    assert quality == ""


def frontierbench_command(*args: str) -> list[str]:
    script = shutil.which("frontierbench")
    return [script, *args] if script else [sys.executable, "-m", "frontierbench.cli", *args]


@pytest.mark.parametrize("file_format, schema_id", [("run", "frontierbench.run/1"),
                                                    ("leaderboard", "frontierbench.leaderboard/2")])
def test_frontierbench_schema_prints_a_valid_json_schema(file_format, schema_id):
    out = subprocess.run(frontierbench_command("schema", file_format), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    schema = json.loads(out.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == schema_id
    published = resources.files("frontierbench") / "schemas" / f"{file_format}.schema.json"
    assert schema == json.loads(published.read_text())


def test_frontierbench_schema_rejects_an_unknown_format():
    out = subprocess.run(frontierbench_command("schema", "spreadsheet"), capture_output=True, text=True)
    assert out.returncode == 2
    assert "invalid choice: 'spreadsheet'" in out.stderr


@pytest.mark.parametrize("command, user_value, hugepages", [
    ("aggregate", None, False), ("aggregate", "1", True),
    ("schema", None, True),  # and `run`, whose suite's measurements keep numpy's default
])
def test_aggregate_runs_numpy_with_small_pages_unless_told_otherwise(command, user_value, hugepages):
    """numpy's 2 MB pages cost a history's aggregate most of a second of kernel time (docs/performance.md)."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if user_value is not None:
        env["NUMPY_MADVISE_HUGEPAGE"] = user_value
    code = ("import sys, contextlib, io\n"
            "from frontierbench import cli\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            f"    cli.main([{command!r}, '--help'])\n"
            "import numpy._core.multiarray as m\n"
            "print(m._get_madvise_hugepage())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == str(hugepages)


def test_the_command_exits_quickly_with_its_output_and_exit_status_whole(tmp_path):
    """console_main ends the process without freeing its heap, once its output is flushed: into a
    pipe, a schema (tens of KB) arrives whole, and an error keeps its message and status."""
    def command(*args: str) -> subprocess.CompletedProcess:
        code = "import sys; from frontierbench.cli import console_main; sys.argv[1:] = sys.argv[2:]; console_main()"
        return subprocess.run([sys.executable, "-c", code, "frontierbench", *args], capture_output=True, text=True)

    done = command("schema", "leaderboard")
    assert done.returncode == 0 and json.loads(done.stdout)["$id"] == "frontierbench.leaderboard/2"
    failed = command("aggregate", str(tmp_path / "missing"))
    assert failed.returncode == 2 and "missing: no such file or directory" in failed.stderr
