"""What a user reads: the terminal summary, `frontierbench schema`, and the median's interval."""

from __future__ import annotations

import json
import math
import random
import re
import shutil
import subprocess
import sys
from importlib import resources

import jsonschema
import pytest

from frontierbench.formats.run import parse_run
from frontierbench.stats.median import median, median_interval
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
                                                    ("leaderboard", "frontierbench.leaderboard/1")])
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


# -- the median's distribution-free interval ----------------------------------------------------

def coverage(n: int, lower_rank: int) -> float:
    """P(the order statistics at 1-indexed ranks lower_rank and n+1-lower_rank bracket the median)."""
    below = sum(math.comb(n, i) for i in range(lower_rank)) / 2**n
    return 1 - 2 * below


def test_median_interval_for_10_samples_is_order_statistics_2_and_9():
    samples = list(range(1, 11))
    random.Random(0).shuffle(samples)
    assert median_interval(samples) == (2, 9)  # 1-indexed order statistics 2 and 9
    assert coverage(10, 2) >= 0.95 > coverage(10, 3)  # the narrowest pair that reaches 95%


@pytest.mark.parametrize("n, ranks", [(6, (1, 6)), (20, (6, 15)), (100, (40, 61))])
def test_median_interval_matches_the_binomial_table(n, ranks):
    samples = [float(i) for i in range(1, n + 1)]
    assert median_interval(samples) == ranks
    assert coverage(n, ranks[0]) >= 0.95 > coverage(n, ranks[0] + 1)


def test_too_few_samples_give_the_full_range_never_a_narrower_one():
    assert median_interval([3.0, 1.0, 2.0, 5.0, 4.0]) == (1.0, 5.0)
    assert median_interval([7.0]) == (7.0, 7.0)
    with pytest.raises(ValueError):
        median_interval([])


def test_median():
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 3, 2]) == 2.5
